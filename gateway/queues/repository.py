"""All SQL of queues and claims. Functions flush; the caller owns the transaction."""

from __future__ import annotations

import functools
import weakref
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from sqlmodel import col

from gateway import audit_chain
from gateway.agents.models import Agent
from gateway.db import UTCDateTime, detached_loaded, lock_key, pk
from gateway.queues.models import DEFAULT_QUEUE, Queue
from gateway.sla.models import AgentShift
from gateway.statements import Statement
from gateway.tickets.models import CLAIMABLE_STATUSES, OPEN_STATUSES, Ticket, TicketStatus

# A ticket counts against its holder's capacity for as long as it is open.
HELD = OPEN_STATUSES


async def lock_agent_load(session: AsyncSession, agent_id: int) -> tuple[int, int]:
    """The agent's capacity and how many tickets it holds; the agent row stays locked
    until commit, so one agent's concurrent claims count capacity one at a time.

    Two statements on purpose: the count must be read after the lock is granted. In one
    statement a claim that waited for the lock would still count with the snapshot it
    took before waiting, and see none of the claims committed meanwhile (PostgreSQL's
    READ COMMITTED re-checks only the locked row)."""
    capacity = await session.scalar(
        sa.select(col(Agent.capacity)).where(col(Agent.id) == agent_id).with_for_update()
    )
    held = await session.scalar(
        sa.select(sa.func.count())
        .select_from(Ticket)
        .where(col(Ticket.assignee_id) == agent_id, col(Ticket.status).in_(HELD))
    )
    return int(capacity or 0), int(held or 0)


async def lock_agent(session: AsyncSession, agent_id: int) -> tuple[int, bool] | None:
    """Lock the agent row until commit and read its capacity and whether it is on shift
    (no shift row: on shift), in one statement; None for an unknown agent.

    The lock orders one agent's concurrent claims: a claim's next statement, run once the
    lock is granted, counts what the agent holds with a snapshot taken after the previous
    holder committed (see `claim_next`'s `capacity`)."""
    rows = await _LOCK_AGENT.rows(session, {"agent_id": agent_id})
    if not rows:
        return None
    capacity, on_shift = rows[0]
    return int(capacity or 0), on_shift is None or bool(on_shift)


# The claim path's statements are built once, with bound parameters: building and
# keying a statement of this size costs about a millisecond of CPU, on every claim. On
# PostgreSQL they run straight on asyncpg (gateway/statements.py).
_AGENT_ID = sa.bindparam("agent_id", type_=sa.Integer)
_LOCK_AGENT = Statement(
    sa.select(
        col(Agent.capacity),
        sa.select(col(AgentShift.on_shift))
        .where(col(AgentShift.agent_id) == col(Agent.id))
        .correlate(Agent)
        .scalar_subquery(),
    )
    .where(col(Agent.id) == _AGENT_ID)
    .with_for_update(of=Agent)
)


def _constants(values: Iterable[str]) -> list[sa.ColumnElement[Any]]:
    """Our own enum values as SQL literals: an IN list that is part of the statement's
    text, not parameters expanded at each execution."""
    out: list[sa.ColumnElement[Any]] = []
    for value in values:
        assert str(value).replace("_", "").isalnum(), value
        out.append(sa.literal_column(f"'{value}'"))
    return out


def _member(column: Any, values: Sequence[Any] | sa.BindParameter[Any]) -> sa.ColumnElement[bool]:
    """`column` is one of `values`: a list, an expanding parameter (IN), or an array
    parameter (PostgreSQL's `= ANY`: one statement text for every list length)."""
    if isinstance(values, sa.BindParameter) and isinstance(values.type, postgresql.ARRAY):
        return column == sa.any_(values)  # type: ignore[no-any-return]
    return column.in_(values if isinstance(values, sa.BindParameter) else list(values))  # type: ignore[no-any-return]


def _list_param(name: str, element: Any, postgres: bool) -> sa.BindParameter[Any]:
    if postgres:
        return sa.bindparam(name, type_=postgresql.ARRAY(element))
    return sa.bindparam(name, expanding=True)


async def held_count(session: AsyncSession, agent_id: int) -> int:
    """How many tickets the agent holds (open ones it is assigned)."""
    rows = await _HELD_COUNT.rows(session, {"agent_id": agent_id})
    return int(rows[0][0] or 0) if rows else 0


def _held(agent_id: int | sa.BindParameter[int]) -> sa.Select[int]:
    return (
        sa.select(sa.func.count())
        .select_from(Ticket)
        .where(col(Ticket.assignee_id) == agent_id, col(Ticket.status).in_(_constants(HELD)))
    )


_HELD = _held(_AGENT_ID)
_HELD_COUNT = Statement(_HELD)


def language_allowed(
    languages: Sequence[str] | sa.BindParameter[Any],
) -> sa.ColumnElement[bool]:
    """The ticket's queue does not require an agent language, or the agent reads it."""
    strict = sa.select(col(Queue.id)).where(col(Queue.requires_agent_language).is_(True))
    return sa.or_(
        col(Ticket.queue_id).not_in(strict),
        col(Ticket.language).is_(None),
        _member(col(Ticket.language), languages),
    )


async def claim_next(
    session: AsyncSession,
    agent_id: int,
    queue_ids: Iterable[int],
    now: datetime,
    languages: Sequence[str] = (),
    *,
    capacity: int | None = None,
) -> Ticket | None:
    """Assign the most urgent unassigned ticket of the queues to the agent; the ticket
    as it now is, or None. Among equally severe tickets of several queues, those in the
    agent's `languages` come first; a queue that requires an agent language offers only
    tickets the agent reads. With `capacity`, only while the agent holds fewer tickets
    (None then also when it holds enough: `held_count` tells which).

    One statement: on PostgreSQL the candidate row is locked with SKIP LOCKED, so two
    concurrent claims never get the same ticket and never wait on each other; on SQLite
    the transaction already holds the single write lock (BEGIN IMMEDIATE). The capacity
    count is part of it: called after `lock_agent`, its snapshot is taken once the agent
    lock is granted, so it sees every claim of the agent committed before. On PostgreSQL
    it also takes the claimed ticket's audit chain lock (see `audit_chain.append`).
    """
    queue_ids = list(queue_ids)
    # One queue is already one desk's language; across several, prefer the agent's.
    prefer = bool(languages) and len(queue_ids) > 1
    postgres = session.get_bind().dialect.name == "postgresql"
    statement = _claim_statement(prefer, capacity is not None, postgres, len(queue_ids))
    params: dict[str, Any] = {
        "agent_id": agent_id,
        "queue_ids": queue_ids,
        "languages": list(languages),
        "now": now,
    }
    if postgres:
        params |= {f"queue_id_{n}": queue_id for n, queue_id in enumerate(queue_ids)}
    if capacity is not None:
        params["capacity"] = capacity
    # Not the ORM's bulk UPDATE machinery, which costs more CPU than the statement; the
    # row comes back as a ticket built from its columns.
    rows = await statement.rows(session, params)
    if not rows:
        return None
    return detached_loaded(Ticket, zip(_TICKET_KEYS, rows[0], strict=False))


_TICKET_KEYS = tuple(prop.key for prop in sa.inspect(Ticket).column_attrs)
_TICKET_COLUMNS = tuple(prop.columns[0] for prop in sa.inspect(Ticket).column_attrs)


@functools.cache
def _claim_statement(
    prefer_languages: bool, with_capacity: bool, postgres: bool, queue_count: int = 1
) -> Statement:
    """The claim UPDATE of `claim_next` for one shape, built once. On PostgreSQL it
    takes the claimed ticket's audit chain lock, the agent's languages are an array, and
    the queues one parameter each (`queue_id_0`...): one queue must read `queue_id = $n`
    to the planner, which then walks the claim index in order (with `= ANY($n)` it sorts
    every candidate, 80 ms at 100,000 open tickets)."""
    languages = _list_param("languages", sa.String, postgres)
    queues: list[sa.BindParameter[int]] | sa.BindParameter[Any] = (
        [sa.bindparam(f"queue_id_{n}", type_=sa.Integer) for n in range(queue_count)]
        if postgres
        else sa.bindparam("queue_ids", expanding=True)
    )
    order: list[sa.ColumnElement[Any] | Mapped[Any]] = [col(Ticket.severity_rank)]
    if prefer_languages:
        order.append(sa.case((_member(col(Ticket.language), languages), 0), else_=1))
    candidate = (
        sa.select(col(Ticket.id))
        .where(
            col(Ticket.queue_id).in_(queues),
            col(Ticket.assignee_id).is_(None),
            col(Ticket.status).in_(_constants(CLAIMABLE_STATUSES)),
            language_allowed(languages),
        )
        .order_by(*order, col(Ticket.first_response_due), col(Ticket.id))
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    conditions: list[sa.ColumnElement[bool]] = [col(Ticket.id) == candidate]
    if with_capacity:
        conditions.append(_HELD.scalar_subquery() < sa.bindparam("capacity", type_=sa.Integer))
    returned: list[Any] = list(_TICKET_COLUMNS)
    if postgres:
        # The claimed ticket's audit chain lock, taken by this statement: the claim's
        # audit event is then one statement (audit_chain.append with chain_locked).
        returned.append(audit_chain.chain_lock("ticket", col(Ticket.id)))
    now = sa.bindparam("now", type_=UTCDateTime)
    update = (
        sa.update(Ticket.__table__)  # type: ignore[attr-defined]
        .where(*conditions)
        .values(
            assignee_id=_AGENT_ID,
            assigned_at=now,
            agent_touched_at=now,
            updated_at=now,
            status=sa.case(
                (col(Ticket.status) == TicketStatus.new, TicketStatus.open),
                else_=col(Ticket.status),
            ),
        )
        # The whole row back: no second read of the ticket just claimed.
        .returning(*returned)
    )
    return Statement(update, [c.type for c in _TICKET_COLUMNS])


async def claim_ticket(
    session: AsyncSession,
    agent_id: int,
    ticket_id: int,
    now: datetime,
    languages: Sequence[str] = (),
) -> Ticket | None:
    """Assign this ticket to the agent if nobody holds it, it is claimable and its queue
    does not require a language the agent lacks; the ticket as it now is, or None. One
    conditional UPDATE, so two agents never both win."""
    result = await session.execute(
        sa.update(Ticket)
        .where(
            col(Ticket.id) == ticket_id,
            col(Ticket.assignee_id).is_(None),
            col(Ticket.status).in_(CLAIMABLE_STATUSES),
            language_allowed(languages),
        )
        .values(
            assignee_id=agent_id,
            assigned_at=now,
            agent_touched_at=now,
            updated_at=now,
            status=sa.case(
                (col(Ticket.status) == TicketStatus.new, TicketStatus.open),
                else_=col(Ticket.status),
            ),
        )
        .returning(Ticket)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return result.scalar_one_or_none()


async def queues_by_ids(session: AsyncSession, queue_ids: Iterable[int] | None) -> list[Queue]:
    stmt = sa.select(Queue).order_by(col(Queue.name))
    if queue_ids is not None:
        stmt = stmt.where(col(Queue.id).in_(list(queue_ids)))
    return list((await session.execute(stmt)).scalars())


async def queue_stats(
    session: AsyncSession, queue_ids: list[int]
) -> dict[int, tuple[int, int, datetime | None]]:
    """Per queue: open tickets, unassigned claimable ones, earliest first-response due."""
    if not queue_ids:
        return {}
    unassigned = sa.and_(
        col(Ticket.assignee_id).is_(None), col(Ticket.status).in_(CLAIMABLE_STATUSES)
    )
    rows = await session.execute(
        sa.select(
            col(Ticket.queue_id),
            sa.func.count(),
            sa.func.count().filter(unassigned),
            sa.func.min(col(Ticket.first_response_due)).filter(unassigned),
        )
        .where(col(Ticket.queue_id).in_(queue_ids), col(Ticket.status).in_(HELD))
        .group_by(col(Ticket.queue_id))
    )
    return {row[0]: (row[1], row[2], row[3]) for row in rows}


async def list_tickets(
    session: AsyncSession,
    queue_id: int,
    *,
    statuses: list[str] | None,
    severities: list[str] | None,
    after_id: int | None,
    limit: int,
    order_ref: str | None = None,
) -> list[Ticket]:
    """A page of a queue's tickets, oldest first (stable under inserts)."""
    stmt = sa.select(Ticket).where(col(Ticket.queue_id) == queue_id)
    if statuses:
        stmt = stmt.where(col(Ticket.status).in_(statuses))
    if severities:
        stmt = stmt.where(col(Ticket.severity).in_(severities))
    if order_ref:
        stmt = stmt.where(col(Ticket.order_ref) == order_ref)
    if after_id is not None:
        stmt = stmt.where(col(Ticket.id) > after_id)
    stmt = stmt.order_by(col(Ticket.id)).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def stale_assignments(
    session: AsyncSession, touched_before: datetime, limit: int = 500
) -> list[Ticket]:
    """Assigned tickets whose customer still waits for a first answer and whose assignee
    has not acted since `touched_before`; locked, skipping rows another sweeper holds."""
    result = await session.execute(
        sa.select(Ticket)
        .where(
            col(Ticket.assignee_id).is_not(None),
            col(Ticket.first_responded_at).is_(None),
            col(Ticket.status).in_(CLAIMABLE_STATUSES),
            col(Ticket.agent_touched_at) < touched_before,
        )
        .order_by(col(Ticket.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(result.scalars())


async def queue_by_name(session: AsyncSession, name: str) -> Queue | None:
    result = await session.execute(sa.select(Queue).where(col(Queue.name) == name))
    return result.scalar_one_or_none()


# Per database (engine): queue ids and names. Queues are never deleted nor renamed
# (tickets and rules name them), so a pair once known holds for the life of the
# process; a name not found is not remembered (it may be created any moment). Both
# readers below are for transactions that create no queue (a claim): a queue created
# and rolled back in the same transaction must never be remembered.
_queue_ids: weakref.WeakKeyDictionary[Any, dict[str, int]] = weakref.WeakKeyDictionary()
_queue_names: weakref.WeakKeyDictionary[Any, dict[int, str]] = weakref.WeakKeyDictionary()


async def queue_id_by_name(session: AsyncSession, name: str) -> int | None:
    """The id of the queue of that name, or None; read once per engine and name."""
    known = _queue_ids.setdefault(session.bind, {})
    if name in known:
        return known[name]
    queue_id = await session.scalar(sa.select(col(Queue.id)).where(col(Queue.name) == name))
    if queue_id is not None:
        known[name] = queue_id
        _queue_names.setdefault(session.bind, {})[queue_id] = name
    return queue_id


async def queue_names(session: AsyncSession, queue_ids: Iterable[int]) -> dict[int, str]:
    """Names of these queues by id; each read once per engine."""
    known = _queue_names.setdefault(session.bind, {})
    wanted = set(queue_ids)
    missing = wanted - known.keys()
    if missing:
        rows = await session.execute(
            sa.select(pk(Queue.id), col(Queue.name)).where(col(Queue.id).in_(missing))
        )
        for queue_id, name in rows:
            known[queue_id] = name
    return {q: known[q] for q in wanted if q in known}


async def ensure_queue(session: AsyncSession, name: str, description: str | None = None) -> Queue:
    """Get or create a queue by name (safe against a concurrent create)."""
    queue = await queue_by_name(session, name)
    if queue is not None:
        return queue
    await lock_key(session, "queue", name)
    queue = await queue_by_name(session, name)
    if queue is None:
        queue = Queue(name=name, description=description)
        session.add(queue)
        await session.flush()
    return queue


async def default_queue(session: AsyncSession) -> Queue:
    return await ensure_queue(session, DEFAULT_QUEUE, "Everything no routing rule claims")


# Per database (engine): the default queue's id. Queues are never deleted (tickets
# point at them), so once known the id holds for the life of the process.
_default_queue_ids: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()


async def default_queue_id(session: AsyncSession) -> int:
    """The default queue's id, created when missing; read once per engine."""
    engine = session.bind
    known = _default_queue_ids.get(engine)
    if known is not None:
        return known
    queue = await queue_by_name(session, DEFAULT_QUEUE)
    if queue is not None:
        assert queue.id is not None
        _default_queue_ids[engine] = queue.id
        return queue.id
    # Created by this transaction, which may yet roll back: not remembered until a
    # later call finds it committed.
    queue = await default_queue(session)
    assert queue.id is not None
    return queue.id
