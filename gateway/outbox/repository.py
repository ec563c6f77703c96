"""All SQL of the outbox. Functions flush; the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import SQLModel, col

from gateway.db import pk
from gateway.outbox.models import NEXT_STATES, DeliveryAttempt, Outbox, OutboxState
from gateway.ports import OutboundAttachment
from gateway.tickets.models import (
    Attachment,
    ChannelIdentity,
    Customer,
    DeliveryState,
    Direction,
    Message,
    Ticket,
)

M = TypeVar("M", bound=SQLModel)
# Built once: an alias copies every column of the table, a tenth of a lease's CPU when
# made per call.
_EARLIER = aliased(Outbox)


async def lease_due(
    session: AsyncSession,
    *,
    channels: Collection[str],
    worker: str,
    now: datetime,
    lease: timedelta,
    limit: int,
) -> list[Outbox]:
    """Lease up to `limit` due rows to `worker`, at most one per ticket: the oldest
    pending reply of a ticket blocks the later ones, so replies arrive in order.

    Rows whose lease ran out (a worker died mid-send) are due again. SKIP LOCKED lets
    several workers lease side by side without waiting on each other.
    """
    earlier = _EARLIER
    due = (
        sa.select(col(Outbox.id))
        .where(
            col(Outbox.state) == OutboxState.pending,
            col(Outbox.channel).in_(list(channels)),
            col(Outbox.next_attempt_at) <= now,
            sa.or_(col(Outbox.lease_until).is_(None), col(Outbox.lease_until) < now),
            ~sa.exists().where(
                col(earlier.ticket_id) == col(Outbox.ticket_id),
                col(earlier.state) == OutboxState.pending,
                col(earlier.id) < col(Outbox.id),
            ),
        )
        .order_by(col(Outbox.next_attempt_at), col(Outbox.id))
        .limit(limit)
        .with_for_update(skip_locked=True, of=Outbox)
    )
    result = await session.execute(
        sa.update(Outbox)
        .where(col(Outbox.id).in_(due))
        .values(lease_until=now + lease, leased_by=worker, attempts=col(Outbox.attempts) + 1)
        .returning(Outbox)
        .execution_options(synchronize_session=False)
    )
    return sorted(result.scalars(), key=lambda row: row.id or 0)


async def reply_parts(
    session: AsyncSession, rows: Iterable[Outbox]
) -> dict[int, tuple[Message, Ticket, ChannelIdentity, Customer]]:
    """Per outbox row, its message, ticket, and the ticket's identity and customer, in
    one query."""
    wanted = [row.id for row in rows]
    if not wanted:
        return {}
    result = await session.execute(
        sa.select(pk(Outbox.id), Message, Ticket, ChannelIdentity, Customer)
        .join(Message, col(Message.id) == col(Outbox.message_id))
        .join(Ticket, col(Ticket.id) == col(Outbox.ticket_id))
        .join(ChannelIdentity, col(ChannelIdentity.id) == col(Ticket.identity_id))
        .join(Customer, col(Customer.id) == col(Ticket.customer_id))
        .where(col(Outbox.id).in_(wanted))
    )
    return {outbox_id: (m, t, i, c) for outbox_id, m, t, i, c in result}


async def thread_messages(
    session: AsyncSession, ticket_ids: Iterable[int]
) -> dict[int, list[tuple[int, str, str]]]:
    """Per ticket, (id, channel, external id) of its customer and agent messages that
    have an external id, oldest first: each reply's thread is a prefix of its ticket's."""
    result = await session.execute(
        sa.select(
            col(Message.ticket_id),
            pk(Message.id),
            col(Message.channel),
            col(Message.external_id),
        )
        .where(
            col(Message.ticket_id).in_(list(ticket_ids)),
            col(Message.direction) != Direction.note,
            col(Message.external_id).is_not(None),
        )
        .order_by(col(Message.id))
    )
    threads: dict[int, list[tuple[int, str, str]]] = {}
    for ticket_id, message_id, channel, external_id in result:
        if external_id:
            threads.setdefault(ticket_id, []).append((message_id, channel, external_id))
    return threads


async def by_ids(session: AsyncSession, model: type[M], ids: Iterable[int]) -> dict[int, M]:
    """Rows of `model` by primary key, in one query."""
    wanted = list(ids)
    if not wanted:
        return {}
    pk = model.id  # type: ignore[attr-defined]
    result = await session.execute(sa.select(model).where(pk.in_(wanted)))
    return {row.id: row for row in result.scalars()}  # type: ignore[attr-defined]


async def lock_rows(session: AsyncSession, outbox_ids: Iterable[int]) -> dict[int, Outbox]:
    """Outbox rows locked for update, taken in id order (so workers never deadlock)."""
    wanted = list(outbox_ids)
    if not wanted:
        return {}
    result = await session.execute(
        sa.select(Outbox)
        .where(col(Outbox.id).in_(wanted))
        .order_by(col(Outbox.id))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {row.id: row for row in result.scalars()}  # type: ignore[misc]


async def mark_sent(
    session: AsyncSession,
    receipts: dict[int, str | None],
    *,
    worker: str,
    now: datetime,
) -> dict[int, int]:
    """Mark the rows of `receipts` (outbox id -> provider id or None) sent, with their
    messages, in two statements: only rows still leased to `worker` in a state that may
    move to sent (the rule `models.move` applies to one row). Locks in id order, as
    `lock_rows` does. The moved rows, outbox id -> message id. Flushes.
    """
    if not receipts:
        return {}
    movable = [str(s) for s, nxt in NEXT_STATES.items() if OutboxState.sent in nxt]
    locked = (
        sa.select(col(Outbox.id))
        .where(col(Outbox.id).in_(list(receipts)))
        .order_by(col(Outbox.id))
        .with_for_update()
    )
    result = await session.execute(
        sa.update(Outbox)
        .where(
            col(Outbox.id).in_(locked),
            col(Outbox.state).in_(movable),
            col(Outbox.leased_by) == worker,
        )
        .values(
            state=OutboxState.sent, lease_until=None, leased_by=None, sent_at=now, last_error=None
        )
        .returning(pk(Outbox.id), col(Outbox.message_id))
        .execution_options(synchronize_session=False)
    )
    moved: dict[int, int] = {outbox_id: message_id for outbox_id, message_id in result}
    if moved:
        # ORM bulk UPDATE by primary key: an executemany, one round trip on asyncpg.
        await session.execute(
            sa.update(Message),
            [
                {"id": message_id, "delivery_state": DeliveryState.sent}
                | ({"provider_id": receipts[outbox_id]} if receipts[outbox_id] else {})
                for outbox_id, message_id in moved.items()
            ],
        )
    return moved


async def add_attempts(session: AsyncSession, attempts: Sequence[dict[str, object]]) -> None:
    """Insert delivery_attempt rows (field name -> value each) in one statement."""
    if attempts:
        await session.execute(sa.insert(DeliveryAttempt), list(attempts))


async def outbound_attachments(
    session: AsyncSession, message_ids: Iterable[int]
) -> dict[int, list[OutboundAttachment]]:
    """The stored files of these replies, by message id, in upload order."""
    result = await session.execute(
        sa.select(Attachment)
        .where(
            col(Attachment.message_id).in_(list(message_ids)), col(Attachment.blob_key).is_not(None)
        )
        .order_by(col(Attachment.id))
    )
    files: dict[int, list[OutboundAttachment]] = {}
    for a in result.scalars():
        files.setdefault(a.message_id, []).append(
            OutboundAttachment(a.filename, a.content_type, a.blob_key, a.size or 0)  # type: ignore[arg-type]
        )
    return files


async def pending_depth(session: AsyncSession) -> dict[str, int]:
    result = await session.execute(
        sa.select(col(Outbox.channel), sa.func.count())
        .where(col(Outbox.state) == OutboxState.pending)
        .group_by(col(Outbox.channel))
    )
    return {row[0]: row[1] for row in result}


async def replies_known_as(session: AsyncSession, channel: str, ids: Sequence[str]) -> list[Outbox]:
    """The rows of our replies on `channel` known under any of `ids` (stored id or the
    provider's, such as the Message-ID a relay accepted), locked, oldest first."""
    if not ids:
        return []
    result = await session.execute(
        sa.select(Outbox)
        .join(Message, col(Message.id) == col(Outbox.message_id))
        .where(
            col(Message.channel) == channel,
            col(Message.direction) == Direction.outbound,
            sa.or_(
                col(Message.external_id).in_(list(ids)), col(Message.provider_id).in_(list(ids))
            ),
        )
        .order_by(col(Outbox.id))
        .with_for_update(of=Outbox)
    )
    return list(result.scalars())
