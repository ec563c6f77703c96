"""All SQL of the tickets domain. Functions flush; the caller owns the transaction."""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.queues.models import DEFAULT_QUEUE, Queue
from gateway.tickets.models import (
    ChannelIdentity,
    Customer,
    Message,
    Ticket,
    TicketStatus,
)


async def lock_key(session: AsyncSession, *parts: str) -> None:
    """Serialise transactions on one key until commit (PostgreSQL advisory lock).

    SQLite needs nothing: every write transaction there starts with BEGIN IMMEDIATE,
    so there is only ever one writer.
    """
    await lock_keys(session, parts)


async def lock_keys(session: AsyncSession, *keys: Sequence[str]) -> None:
    """`lock_key` for several keys in one round trip, taken in the order given."""
    if session.bind.dialect.name != "postgresql":
        return
    await session.execute(sa.select(*(sa.func.pg_advisory_xact_lock(_key(k)) for k in keys)))


def _key(parts: Sequence[str]) -> int:
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


async def message_by_external_id(
    session: AsyncSession, channel: str, external_id: str
) -> Message | None:
    result = await session.execute(
        sa.select(Message).where(Message.channel == channel, Message.external_id == external_id)
    )
    return result.scalar_one_or_none()


async def messages_by_external_ids(
    session: AsyncSession, external_ids: Sequence[str]
) -> list[Message]:
    if not external_ids:
        return []
    result = await session.execute(
        sa.select(Message)
        .where(Message.external_id.in_(list(external_ids)))
        .order_by(Message.id.desc())
    )
    return list(result.scalars())


async def identity(session: AsyncSession, channel: str, address: str) -> ChannelIdentity | None:
    result = await session.execute(
        sa.select(ChannelIdentity).where(
            ChannelIdentity.channel == channel, ChannelIdentity.address == address
        )
    )
    return result.scalar_one_or_none()


async def customer_by_exchange_user(session: AsyncSession, user_id: str) -> Customer | None:
    result = await session.execute(sa.select(Customer).where(Customer.exchange_user_id == user_id))
    return result.scalar_one_or_none()


async def get_ticket(
    session: AsyncSession, ticket_id: int, *, for_update: bool = False
) -> Ticket | None:
    stmt = sa.select(Ticket).where(Ticket.id == ticket_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def newest_for_thread(
    session: AsyncSession, customer_id: int, channel: str, thread_key: str
) -> Ticket | None:
    """The customer's newest ticket on this thread that is not closed (resolved counts:
    a customer writing again reopens it); failing that, the newest closed one."""
    result = await session.execute(
        sa.select(Ticket)
        .where(
            Ticket.customer_id == customer_id,
            Ticket.channel == channel,
            Ticket.thread_key == thread_key,
        )
        .order_by(sa.case((Ticket.status == TicketStatus.closed, 1), else_=0), Ticket.id.desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


async def queue_by_name(session: AsyncSession, name: str) -> Queue | None:
    result = await session.execute(sa.select(Queue).where(Queue.name == name))
    return result.scalar_one_or_none()


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
