"""All SQL of the outbox. Functions flush; the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from gateway.outbox.models import Outbox, OutboxState
from gateway.ports import OutboundAttachment
from gateway.tickets.models import Attachment, Direction, Message


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
    earlier = aliased(Outbox)
    due = (
        sa.select(Outbox.id)
        .where(
            Outbox.state == OutboxState.pending,
            Outbox.channel.in_(list(channels)),
            Outbox.next_attempt_at <= now,
            sa.or_(Outbox.lease_until.is_(None), Outbox.lease_until < now),
            ~sa.exists().where(
                earlier.ticket_id == Outbox.ticket_id,
                earlier.state == OutboxState.pending,
                earlier.id < Outbox.id,
            ),
        )
        .order_by(Outbox.next_attempt_at, Outbox.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=Outbox)
    )
    result = await session.execute(
        sa.update(Outbox)
        .where(Outbox.id.in_(due))
        .values(lease_until=now + lease, leased_by=worker, attempts=Outbox.attempts + 1)
        .returning(Outbox)
        .execution_options(synchronize_session=False)
    )
    return sorted(result.scalars(), key=lambda row: row.id or 0)


async def thread_ids(
    session: AsyncSession, ticket_id: int, channel: str, before_message_id: int
) -> list[str]:
    """External ids of the ticket's earlier customer and agent messages on a channel."""
    result = await session.execute(
        sa.select(Message.external_id)
        .where(
            Message.ticket_id == ticket_id,
            Message.channel == channel,
            Message.direction != Direction.note,
            Message.id < before_message_id,
            Message.external_id.is_not(None),
        )
        .order_by(Message.id)
    )
    return [row for row in result.scalars() if row]


async def outbound_attachments(session: AsyncSession, message_id: int) -> list[OutboundAttachment]:
    result = await session.execute(
        sa.select(Attachment)
        .where(Attachment.message_id == message_id, Attachment.blob_key.is_not(None))
        .order_by(Attachment.id)
    )
    return [
        OutboundAttachment(
            filename=a.filename,
            content_type=a.content_type,
            blob_key=a.blob_key,
            size=a.size or 0,  # type: ignore[arg-type]
        )
        for a in result.scalars()
    ]


async def pending_depth(session: AsyncSession) -> dict[str, int]:
    result = await session.execute(
        sa.select(Outbox.channel, sa.func.count())
        .where(Outbox.state == OutboxState.pending)
        .group_by(Outbox.channel)
    )
    return {row[0]: row[1] for row in result}
