"""The audit trail's hash chain: computed as events are flushed, checked by
`gateway audit verify`.

Each event belongs to one chain: its ticket's; failing that its case's; failing that
the desk-wide one. At flush, every new event gets `prev_hash` (the hash of the newest
event of its chain, or GENESIS) and `hash` = sha256 over its canonical JSON with
`prev_hash` in it. Altering, reordering or deleting any event then breaks its chain
at that point; only the newest events of a chain could be cut off unseen, which is why
an export pack carries the head hashes it was made with.

On PostgreSQL an advisory lock per chain, held to commit, keeps two transactions from
appending to one chain at once; SQLite has a single writer anyway.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction, UOWTransaction
from sqlmodel import col

from gateway.audit import AuditEvent

GENESIS = "0" * 64
_HEADS = "audit_chain_heads"

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
    payload = {
        "prev": prev_hash,
        "ticket": ticket_id,
        "case": case_id,
        "actor_type": str(actor_type),
        "actor_agent": actor_agent_id,
        "action": action,
        "data": data,
        "at": created_at.astimezone(UTC).isoformat(timespec="microseconds"),
    }
    canonical = json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


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


def _head(session: Session, key: ChainKey) -> str:
    if session.get_bind().dialect.name == "postgresql":
        digest = hashlib.blake2b(f"audit\x1f{key[0]}\x1f{key[1]}".encode(), digest_size=8)
        lock = int.from_bytes(digest.digest(), "big", signed=True)
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(lock)))
    newest = session.execute(
        sa.select(col(AuditEvent.hash))
        .where(_chain_filter(key), col(AuditEvent.hash).is_not(None))
        .order_by(col(AuditEvent.id).desc())
        .limit(1)
    ).scalar_one_or_none()
    return newest or GENESIS


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


@event.listens_for(Session, "after_transaction_end")
def _forget_heads(session: Session, transaction: SessionTransaction) -> None:
    # A head known inside a transaction means nothing once it ends, nor after a savepoint
    # (which may have rolled back); a flush's own inner transaction changes nothing.
    if transaction.parent is None or transaction.nested:
        session.info.pop(_HEADS, None)


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
