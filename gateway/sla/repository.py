"""All SQL of the SLA domain. Functions flush; the caller owns the transaction."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.agents.models import Agent
from gateway.audit import AuditEvent
from gateway.cases.models import EvidenceRequest
from gateway.db import JSONType, UTCDateTime, detached_loaded, transaction_memo
from gateway.queues.models import Queue
from gateway.sla.clocks import EvidenceAsk, History
from gateway.sla.defaults import DEFAULT_CONFIG
from gateway.sla.models import AgentShift, SlaEvent, TicketWatcher
from gateway.sla.policy import SlaConfig
from gateway.sla.policy_file import parse
from gateway.system import repository as system
from gateway.tickets.models import ActorType, Direction, Message, Ticket

CONFIG_KEY = "sla.config"
VERSION_KEY = "routing.rules_version"  # bumped by every rules load, SLA sections included
# Audit actions that change a ticket's status, and the status each leaves it in.
STATUS_ACTIONS = (
    "ticket.status_changed",
    "ticket.reopened",
    "ticket.escalated",
    "ticket.deescalated",
)

_cache: dict[str, tuple[str | None, SlaConfig]] = {}
# A queue's name by database and id, on PostgreSQL. Queues are never renamed or deleted
# (a rules load creates or updates them by name) and a sequence never gives an id out
# twice, even after a rollback, so the name an id had once it has for good. (SQLite
# reuses a rolled-back rowid: there the name is read once per transaction.)
_queue_names: dict[tuple[str, int], str] = {}


async def store_config(session: AsyncSession, document: dict[str, Any]) -> None:
    """Keep the SLA sections of a loaded rules file for every process. Flushes."""
    await system.put(session, CONFIG_KEY, json.dumps(document, sort_keys=True))


async def stored_document(session: AsyncSession) -> dict[str, Any] | None:
    value = await system.get(session, CONFIG_KEY)
    return json.loads(value) if value else None


async def load_config(session: AsyncSession) -> SlaConfig:
    """The SLA configuration in force; one primary-key read while the rules are unchanged
    (cached per database and rules version, so every process sees a load at once)."""
    version = await system.get_once(session, VERSION_KEY)
    where = str(session.get_bind().engine.url)
    cached = _cache.get(where)
    # No version: no rules file was ever loaded, and the SLA document is only ever stored
    # by a load (which sets the version), so the defaults hold until one is.
    if cached is not None and cached[0] == version:
        return cached[1]
    document = await stored_document(session)
    config = parse(document) if document else DEFAULT_CONFIG
    _cache[where] = (version, config)
    return config


# The columns every branch of `history_and_events` fills, in one layout.
_S, _I, _T = sa.String(), sa.Integer(), UTCDateTime()
_EVENTS, _MESSAGES, _STATUSES, _ASKS, _ALONG = range(5)
_EVENT_COLUMNS = (
    "id", "ticket_id", "target", "kind", "key", "policy", "cycle", "at", "due_at",
    "recorded_at", "data",
)  # fmt: skip


def _null(type_: Any) -> Any:
    return sa.cast(sa.null(), type_)


def _branch(src: int, *columns: Any) -> sa.Select[Any]:
    """One part of the history read: (src, id, s1, s2, s3, s4, n, t1, t2, t3, data)."""
    return sa.select(sa.literal_column(str(src), _I).label("src"), *columns)


def _history_statement(ticket_id: int, along: Sequence[sa.ColumnElement[Any]]) -> Any:
    ticket = sa.bindparam("ticket_id", ticket_id, type_=_I)
    none = [_null(_S), _null(_S), _null(_S), _null(_S), _null(_I), _null(_T), _null(_T)]
    parts = [
        _branch(
            _EVENTS,
            col(SlaEvent.id), col(SlaEvent.target), col(SlaEvent.kind), col(SlaEvent.key),
            col(SlaEvent.policy), col(SlaEvent.cycle), col(SlaEvent.at), col(SlaEvent.due_at),
            col(SlaEvent.recorded_at), col(SlaEvent.data),
        ).where(col(SlaEvent.ticket_id) == ticket),
        _branch(
            _MESSAGES,
            col(Message.id), sa.type_coerce(col(Message.direction), _S),
            sa.type_coerce(col(Message.author_type), _S), *none[2:5], col(Message.created_at),
            _null(_T), _null(_T), _null(JSONType),
        ).where(col(Message.ticket_id) == ticket, col(Message.direction) != Direction.note),
        _branch(
            _STATUSES,
            col(AuditEvent.id), col(AuditEvent.action), *none[1:5], col(AuditEvent.created_at),
            _null(_T), _null(_T), col(AuditEvent.data),
        ).where(col(AuditEvent.ticket_id) == ticket, col(AuditEvent.action).in_(STATUS_ACTIONS)),
        _branch(
            _ASKS,
            col(EvidenceRequest.id), *none[:5], col(EvidenceRequest.created_at),
            col(EvidenceRequest.deadline_at), col(EvidenceRequest.fulfilled_at), _null(JSONType),
        ).where(col(EvidenceRequest.ticket_id) == ticket),
    ]  # fmt: skip
    if along:
        # Evaluated once, in this statement; their values are not read.
        evaluated = sa.select(*along).subquery("along")
        parts.append(
            _branch(_ALONG, _null(_I), *none, _null(_T), _null(JSONType)).select_from(evaluated)
        )
    return sa.union_all(*parts).order_by(sa.literal_column("src"), sa.literal_column("id"))


async def history_and_events(
    session: AsyncSession,
    ticket: Ticket,
    *,
    along: Sequence[sa.ColumnElement[Any]] = (),
) -> tuple[History, list[SlaEvent]]:
    """In one round trip: the ticket's messages, status changes and evidence requests,
    for the clock computation, and its recorded SLA events (oldest first, detached).
    An evidence request's answer is the case domain's record of it, so the SLA and the
    case never disagree about whether a file met a request. `along`: columns for this
    statement to evaluate too (a lock the caller takes with the read), values unread."""
    assert ticket.id is not None
    rows = await session.execute(_history_statement(ticket.id, along))
    stored: list[SlaEvent] = []
    customer: list[datetime] = []
    agent: list[datetime] = []
    statuses: list[tuple[datetime, str]] = []
    evidence: list[EvidenceAsk] = []
    for src, ident, s1, s2, s3, s4, n, t1, t2, t3, data in rows:
        if src == _EVENTS:
            stored.append(
                detached_loaded(
                    SlaEvent,
                    zip(
                        _EVENT_COLUMNS,
                        (ident, ticket.id, s1, s2, s3, s4, n, t1, t2, t3, data),
                        strict=True,
                    ),
                )
            )
        elif src == _MESSAGES:
            if s1 == Direction.inbound:
                customer.append(t1)
            elif s2 == ActorType.agent:
                agent.append(t1)
        elif src == _STATUSES:
            status = {
                "ticket.status_changed": data.get("new"),
                "ticket.reopened": "open",
                "ticket.escalated": "escalated" if data.get("old") else None,
                "ticket.deescalated": data.get("status"),
            }[s1]
            if status:
                statuses.append((t1, str(status)))
        elif src == _ASKS:
            evidence.append(EvidenceAsk(ident, t1, t2, t3))
    stored.sort(key=lambda e: (e.at, e.id))
    return History(ticket.created_at, customer, agent, statuses, evidence), stored


async def queue_name(session: AsyncSession, queue_id: int) -> str:
    """A queue's name (the clocks, the escalation check and the next check of every
    refresh ask for it): read once per process on PostgreSQL, per transaction on SQLite."""
    bind = session.get_bind()
    names: dict[Any, str]
    key: Any
    if bind.dialect.name == "postgresql":
        names, key = _queue_names, (str(bind.engine.url), queue_id)
    else:
        names, key = transaction_memo(session, "queue_name"), queue_id
    name = names.get(key)
    if name is None:
        name = (
            await session.execute(sa.select(col(Queue.name)).where(col(Queue.id) == queue_id))
        ).scalar_one()
        names[key] = name
    return name


async def queue_by_name(session: AsyncSession, name: str) -> Queue | None:
    return (
        await session.execute(sa.select(Queue).where(col(Queue.name) == name))
    ).scalar_one_or_none()


async def due_tickets(session: AsyncSession, now: datetime, limit: int) -> list[Ticket]:
    """Tickets whose next SLA moment has come, locked; tickets another worker holds are
    skipped (SKIP LOCKED), so several workers share the work and never act twice."""
    result = await session.execute(
        sa.select(Ticket)
        .where(col(Ticket.sla_check_at).is_not(None), col(Ticket.sla_check_at) <= now)
        .order_by(col(Ticket.sla_check_at), col(Ticket.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return list(result.scalars())


async def agents_named(session: AsyncSession, names: Iterable[str]) -> list[Agent]:
    wanted = set(names)
    if not wanted:
        return []
    rows = await session.execute(
        sa.select(Agent)
        .where(col(Agent.name).in_(wanted), col(Agent.active).is_(True))
        .order_by(col(Agent.id))
    )
    return list(rows.scalars())


async def agents_with_roles(session: AsyncSession, roles: Iterable[str]) -> list[Agent]:
    wanted = set(roles)
    if not wanted:
        return []
    rows = await session.execute(
        sa.select(Agent)
        .where(col(Agent.role).in_(wanted), col(Agent.active).is_(True))
        .order_by(col(Agent.id))
    )
    return list(rows.scalars())


async def shifts(session: AsyncSession, agent_ids: Iterable[int]) -> dict[int, AgentShift]:
    wanted = set(agent_ids)
    if not wanted:
        return {}
    rows = await session.execute(sa.select(AgentShift).where(col(AgentShift.agent_id).in_(wanted)))
    return {row.agent_id: row for row in rows.scalars()}


async def shift_for_update(session: AsyncSession, agent_id: int) -> AgentShift:
    """The agent's shift row, created (on shift) when missing, locked. Flushes."""
    row = await session.get(AgentShift, agent_id, with_for_update=True)
    if row is None:
        row = AgentShift(agent_id=agent_id)
        session.add(row)
        await session.flush()
    return row


async def add_watchers(
    session: AsyncSession, ticket_id: int, agent_ids: Iterable[int], level: int
) -> None:
    existing = set(
        (
            await session.execute(
                sa.select(col(TicketWatcher.agent_id)).where(
                    col(TicketWatcher.ticket_id) == ticket_id
                )
            )
        ).scalars()
    )
    for agent_id in agent_ids:
        if agent_id not in existing:
            session.add(TicketWatcher(ticket_id=ticket_id, agent_id=agent_id, level=level))
    await session.flush()


async def watchers(session: AsyncSession, ticket_id: int) -> list[tuple[str, int]]:
    rows = await session.execute(
        sa.select(col(Agent.name), col(TicketWatcher.level))
        .join(Agent, col(Agent.id) == col(TicketWatcher.agent_id))
        .where(col(TicketWatcher.ticket_id) == ticket_id)
        .order_by(col(TicketWatcher.level), col(Agent.name))
    )
    return [(name, level) for name, level in rows]


async def postpone(session: AsyncSession, ticket_id: int, until: datetime) -> None:
    await session.execute(
        sa.update(Ticket).where(col(Ticket.id) == ticket_id).values(sla_check_at=until)
    )
