"""The audit trail's hash chain: computed as events are flushed, checked by
`gateway audit verify`.

Each event belongs to one chain: its ticket's; failing that its case's; failing that
the desk-wide one. At flush, every new event gets `prev_hash` (the hash of the newest
event of its chain, or GENESIS) and `hash` = sha256 over its canonical JSON with
`prev_hash` in it. Altering, reordering or deleting any event then breaks its chain
at that point; only the newest events of a chain could be cut off unseen, which is why
an export pack carries the head hashes it was made with.

On PostgreSQL an advisory lock per chain (`chain_lock`), held to commit, keeps two
transactions from appending to one chain at once; SQLite has a single writer anyway.
The head is read in a statement that starts after the lock is granted (a statement
that waited for the lock would still see the snapshot it took before waiting).

Most events are chained at flush (`audit.record`). A hot path may instead take the lock
inside a statement it runs anyway (`chain_lock` in a RETURNING clause) and then write
its event with `append`: one statement that reads the head, hashes (sha256 in SQL over
`hash_parts`) and inserts, instead of three round trips.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, Session, SessionTransaction, UOWTransaction
from sqlmodel import col

from gateway.audit import AuditEvent
from gateway.db import utcnow

GENESIS = "0" * 64
_HEADS = "audit_chain_heads"
_LOCKED = "audit_chain_locked"

ChainKey = tuple[str, int | None]


def chain_of(ticket_id: int | None, case_id: int | None) -> ChainKey:
    if ticket_id is not None:
        return ("ticket", ticket_id)
    if case_id is not None:
        return ("case", case_id)
    return ("desk", None)


def event_hash(
    prev_hash: str,
    *,
    ticket_id: int | None,
    case_id: int | None,
    actor_type: str,
    actor_agent_id: int | None,
    action: str,
    data: dict[str, Any],
    created_at: datetime,
) -> str:
    """sha256 of the event's canonical JSON (sorted keys, no spaces, UTF-8)."""
    prefix, suffix = hash_parts(
        ticket_id=ticket_id,
        case_id=case_id,
        actor_type=actor_type,
        actor_agent_id=actor_agent_id,
        action=action,
        data=data,
        created_at=created_at,
    )
    return hashlib.sha256((prefix + prev_hash + suffix).encode()).hexdigest()


def hash_parts(
    *,
    ticket_id: int | None,
    case_id: int | None,
    actor_type: str,
    actor_agent_id: int | None,
    action: str,
    data: dict[str, Any],
    created_at: datetime,
) -> tuple[str, str]:
    """The canonical JSON of `event_hash` around its previous hash: `prefix + prev_hash +
    suffix` is exactly what `event_hash` hashes, so the database can hash an event whose
    previous hash only it knows. Sorted, "prev" and "ticket" are the last two keys."""
    head = {
        "case": case_id,
        "actor_type": str(actor_type),
        "actor_agent": actor_agent_id,
        "action": action,
        "data": data,
        "at": created_at.astimezone(UTC).isoformat(timespec="microseconds"),
    }
    canonical = json.dumps(
        head, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    # An int's JSON is its decimal digits: no second json.dumps on every event.
    ticket = "null" if ticket_id is None else str(ticket_id)
    return canonical[:-1] + ',"prev":"', '","ticket":' + ticket + "}"


def hash_of(e: AuditEvent, prev_hash: str) -> str:
    return event_hash(
        prev_hash,
        ticket_id=e.ticket_id,
        case_id=e.case_id,
        actor_type=e.actor_type,
        actor_agent_id=e.actor_agent_id,
        action=e.action,
        data=e.data,
        created_at=e.created_at,
    )


def _chain_filter(key: ChainKey) -> sa.ColumnElement[bool]:
    kind, ident = key
    if kind == "ticket":
        return col(AuditEvent.ticket_id) == ident
    if kind == "case":
        return sa.and_(col(AuditEvent.ticket_id).is_(None), col(AuditEvent.case_id) == ident)
    return sa.and_(col(AuditEvent.ticket_id).is_(None), col(AuditEvent.case_id).is_(None))


# Advisory lock keys are (kind, id) pairs: a key the database can form from a column,
# so a statement that finds the ticket (a claim) can take its chain's lock itself. The
# two-key space is apart from the one-key space of `gateway.db.lock_key`.
_LOCK_KINDS = {"ticket": 1, "case": 2, "desk": 3}


def chain_lock(
    kind: str, ident: int | sa.ColumnElement[Any] | Mapped[Any] | None
) -> sa.ColumnElement[Any]:
    """The SQL that takes a chain's lock until commit (PostgreSQL): select it, or put it
    in a RETURNING clause with the chain's id column (`chain_lock("ticket", Ticket.id)`)."""
    return sa.func.pg_advisory_xact_lock(
        _LOCK_KINDS[kind], sa.cast(ident, sa.Integer) if ident is not None else 0
    )


def _newest(key: ChainKey) -> sa.Select[str | None]:
    return (
        sa.select(col(AuditEvent.hash))
        .where(_chain_filter(key), col(AuditEvent.hash).is_not(None))
        .order_by(col(AuditEvent.id).desc())
        .limit(1)
    )


def lock_along(session: AsyncSession, kind: str, ident: int | None) -> sa.ColumnElement[Any] | None:
    """The chain's lock for a statement the caller runs anyway (PostgreSQL; None on
    SQLite, whose one writer needs none). Once it ran, `held` tells this module, so the
    head is read without a lock statement of its own (`append`: one statement). Take it
    where every other writer of the chain does, after the ticket's row lock."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    return chain_lock(kind, ident)


def held(session: AsyncSession, kind: str, ident: int) -> None:
    """A statement of this transaction took the chain's lock (`lock_along`): it holds
    until commit, and a head read in any later statement sees the chain's true end."""
    session.sync_session.info.setdefault(_LOCKED, set()).add((kind, ident))


def _locked(session: Session, key: ChainKey) -> bool:
    return key in session.info.get(_LOCKED, ())


def _head(session: Session, key: ChainKey) -> str:
    if session.get_bind().dialect.name == "postgresql" and not _locked(session, key):
        session.execute(sa.select(chain_lock(*key)))
    newest = session.execute(_newest(key)).scalar_one_or_none()
    return newest or GENESIS


async def append(
    session: AsyncSession,
    action: str,
    *,
    ticket_id: int,
    actor_type: str,
    actor_agent_id: int | None = None,
    chain_locked: bool = False,
    along: Sequence[sa.ColumnElement[Any]] = (),
    **data: Any,
) -> AuditEvent:
    """Write one event of a ticket's chain now, chained: the event as written, with the
    hash `audit.record` would give it (`gateway audit verify` checks both alike). On
    PostgreSQL one statement when the caller already holds the chain's lock, taken by an
    earlier statement of this transaction (`chain_locked`, see `chain_lock`), else two.
    None values in `data` are left out. Flushes events recorded before it first.
    `along`: columns the INSERT's RETURNING evaluates too, values unread (a NOTIFY)."""
    written, values, (prefix, suffix) = await _new_event(
        session, action, ticket_id, actor_type, actor_agent_id, data
    )
    key = chain_of(ticket_id, None)
    heads: dict[ChainKey, str] = session.sync_session.info.setdefault(_HEADS, {})
    postgres = session.get_bind().dialect.name == "postgresql"
    connection = await session.connection()  # Core: no ORM work for a row we build
    prev = heads.get(key)
    if postgres and prev is None:
        if not chain_locked and not _locked(session.sync_session, key):
            await connection.execute(sa.select(chain_lock(*key)))
        # The head read, the hash and the insert in one statement, after the lock.
        statement = _APPEND_HASHED_HERE.returning(*along) if along else _APPEND_HASHED_HERE
        row = (
            await connection.execute(statement, values | {"prefix": prefix, "suffix": suffix})
        ).one()
    else:
        # The head is known (this transaction's own) or ours alone (SQLite's one writer).
        if prev is None:
            prev = (await connection.scalar(_newest(key))) or GENESIS
        digest = hashlib.sha256((prefix + prev + suffix).encode()).hexdigest()
        statement = _APPEND_HASHED.returning(*along) if along else _APPEND_HASHED
        row = (
            await connection.execute(statement, values | {"prev_hash": prev, "hash": digest})
        ).one()
    written.id, written.prev_hash, written.hash = row[:3]
    heads[key] = row[2]
    return written


@dataclass(frozen=True)
class Carried:
    """An event for another statement to write: add `cte` to it (`Select.add_cte`) and
    pass `params` with its own."""

    cte: Any
    params: dict[str, Any]


async def carried(
    session: AsyncSession,
    action: str,
    *,
    ticket_id: int,
    actor_type: str,
    actor_agent_id: int | None = None,
    **data: Any,
) -> Carried | None:
    """`append`'s event, written by the caller's next statement instead of a round trip of
    its own (a data-modifying CTE; PostgreSQL, with the chain's lock already held, see
    `chain_lock`). None where a statement cannot carry it (SQLite) or this transaction
    already wrote to the chain: then `append`. Flushes events recorded before it first."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    heads: dict[ChainKey, str] = session.sync_session.info.setdefault(_HEADS, {})
    key = chain_of(ticket_id, None)
    if key in heads:
        return None
    _written, values, (prefix, suffix) = await _new_event(
        session, action, ticket_id, actor_type, actor_agent_id, data
    )
    return Carried(_APPEND_CTE, values | {"prefix": prefix, "suffix": suffix})


async def _new_event(
    session: AsyncSession,
    action: str,
    ticket_id: int,
    actor_type: str,
    actor_agent_id: int | None,
    data: dict[str, Any],
) -> tuple[AuditEvent, dict[str, Any], tuple[str, str]]:
    if any(isinstance(o, AuditEvent) for o in session.new):
        await session.flush()  # events recorded earlier come first in the chain
    event = AuditEvent(
        ticket_id=ticket_id,
        actor_type=actor_type,
        actor_agent_id=actor_agent_id,
        action=action,
        data={k: v for k, v in data.items() if v is not None},
        created_at=utcnow(),
    )
    parts = hash_parts(
        ticket_id=ticket_id,
        case_id=None,
        actor_type=event.actor_type,
        actor_agent_id=actor_agent_id,
        action=action,
        data=event.data,
        created_at=event.created_at,
    )
    values = {
        "ticket_id": ticket_id,
        "actor_type": event.actor_type,
        "actor_agent_id": actor_agent_id,
        "action": action,
        "data": event.data,
        "created_at": event.created_at,
    }
    return event, values, parts


def _append_statement(
    prev: sa.ColumnElement[Any], digest: sa.ColumnElement[Any], head: Any = None
) -> Any:
    table = AuditEvent.__table__  # type: ignore[attr-defined]
    event_columns = sa.select(
        sa.bindparam("ticket_id", type_=sa.Integer),
        sa.bindparam("actor_type", type_=sa.String),
        sa.bindparam("actor_agent_id", type_=sa.Integer),
        sa.bindparam("action", type_=sa.String),
        sa.bindparam("data", type_=table.c.data.type),
        sa.bindparam("created_at", type_=table.c.created_at.type),
        prev,
        digest,
    )
    if head is not None:
        event_columns = event_columns.select_from(head)
    return (
        sa.insert(table)
        .from_select(
            [
                "ticket_id",
                "actor_type",
                "actor_agent_id",
                "action",
                "data",
                "created_at",
                "prev_hash",
                "hash",
            ],
            event_columns,
        )
        .returning(table.c.id, table.c.prev_hash, table.c.hash)
    )


# Built once (a claim runs them hundreds of times a second): the ticket chain's head as
# this statement's snapshot sees it, the event hashed around it, and the insert.
_TICKET_HEAD = (
    sa.select(
        sa.func.coalesce(
            sa.select(col(AuditEvent.hash))
            .where(
                col(AuditEvent.ticket_id) == sa.bindparam("ticket_id", type_=sa.Integer),
                col(AuditEvent.hash).is_not(None),
            )
            .order_by(col(AuditEvent.id).desc())
            .limit(1)
            .scalar_subquery(),
            GENESIS,
        ).label("prev")
    )
).subquery("head")
_APPEND_HASHED_HERE = _append_statement(
    _TICKET_HEAD.c.prev,
    sa.func.encode(
        sa.func.sha256(
            sa.func.convert_to(
                sa.bindparam("prefix", type_=sa.Text)
                + _TICKET_HEAD.c.prev
                + sa.bindparam("suffix", type_=sa.Text),
                sa.literal_column("'UTF8'"),
            )
        ),
        sa.literal_column("'hex'"),
    ),
    _TICKET_HEAD,
)
_APPEND_CTE = _APPEND_HASHED_HERE.cte("audit_appended")
_APPEND_HASHED = _append_statement(
    sa.bindparam("prev_hash", type_=sa.String), sa.bindparam("hash", type_=sa.String)
)


@event.listens_for(Session, "before_flush")
def _chain_new_events(session: Session, _ctx: UOWTransaction, _instances: object) -> None:
    pending = [o for o in session.new if isinstance(o, AuditEvent) and o.hash is None]
    if not pending:
        return
    # The order they were added in is the order they are inserted (and get their ids).
    pending.sort(key=lambda o: sa.inspect(o).insert_order)
    heads: dict[ChainKey, str] = session.info.setdefault(_HEADS, {})
    for e in pending:
        key = chain_of(e.ticket_id, e.case_id)
        if key not in heads:
            heads[key] = _head(session, key)
        e.prev_hash = heads[key]
        e.hash = hash_of(e, e.prev_hash)
        heads[key] = e.hash


@event.listens_for(Session, "after_flush")
def _fresh_chains(session: Session, _ctx: UOWTransaction) -> None:
    # A ticket or case inserted by this transaction is invisible to every other one
    # until commit, so its chain is empty and ours alone: no lock, no read.
    heads: dict[ChainKey, str] | None = None
    for obj in session.new:
        kind = _FRESH_KINDS.get(type(obj).__name__)
        if kind is not None and obj.id is not None:
            heads = heads if heads is not None else session.info.setdefault(_HEADS, {})
            heads.setdefault((kind, obj.id), GENESIS)


# By class name: this module cannot import the cases package (it imports this one).
_FRESH_KINDS = {"Ticket": "ticket", "DisputeCase": "case"}


def fresh(session: AsyncSession, kind: str, ident: int) -> None:
    """A ticket or case whose id this transaction took from its sequence and has not yet
    inserted: its chain is empty and ours alone, as after its flush (no lock, no read),
    so its events can be inserted in the same flush as its row."""
    session.sync_session.info.setdefault(_HEADS, {}).setdefault((kind, ident), GENESIS)


@event.listens_for(Session, "after_transaction_end")
def _forget_heads(session: Session, transaction: SessionTransaction) -> None:
    # A head known inside a transaction means nothing once it ends, nor after a savepoint
    # (which may have rolled back); a flush's own inner transaction changes nothing.
    if transaction.parent is None or transaction.nested:
        session.info.pop(_HEADS, None)
        # A savepoint's rollback releases the locks taken inside it.
        session.info.pop(_LOCKED, None)


@dataclass
class Problem:
    event_id: int
    chain: str
    what: str


@dataclass
class VerifyReport:
    chains: int = 0
    events: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


async def _all_events(session: AsyncSession) -> AsyncIterator[AuditEvent]:
    result = await session.stream_scalars(
        sa.select(AuditEvent).order_by(col(AuditEvent.id)).execution_options(yield_per=2000)
    )
    async for row in result:
        yield row


async def verify(session: AsyncSession, *, max_problems: int = 100) -> VerifyReport:
    """Recompute every chain from its first event; report where one breaks."""
    report = VerifyReport()
    heads: dict[ChainKey, str] = {}
    async for e in _all_events(session):
        assert e.id is not None
        report.events += 1
        key = chain_of(e.ticket_id, e.case_id)
        name = f"{key[0]}:{key[1]}" if key[1] is not None else key[0]
        expected_prev = heads.get(key, GENESIS)
        heads[key] = e.hash or ""
        if len(report.problems) >= max_problems:
            continue
        if e.hash is None or e.prev_hash is None:
            report.problems.append(Problem(e.id, name, "event has no hash"))
        elif e.prev_hash != expected_prev:
            report.problems.append(
                Problem(
                    e.id,
                    name,
                    "previous hash does not match: an event before it was "
                    "removed, reordered or altered",
                )
            )
        elif hash_of(e, e.prev_hash) != e.hash:
            report.problems.append(Problem(e.id, name, "hash does not match: event altered"))
    report.chains = len(heads)
    return report


async def heads(session: AsyncSession, keys: list[ChainKey]) -> dict[str, str]:
    """The newest hash of each chain (what an export pack records)."""
    out = {}
    for key in keys:
        newest = (
            await session.execute(
                sa.select(col(AuditEvent.hash))
                .where(_chain_filter(key))
                .order_by(col(AuditEvent.id).desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        out[f"{key[0]}:{key[1]}"] = newest or GENESIS
    return out
