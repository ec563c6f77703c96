"""A relay's bounce of one of our emails: the reply it names failed after all."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.flows.undelivered import reply_undelivered
from gateway.outbox.models import Outbox, OutboxState
from gateway.ports import Channel
from gateway.tickets.models import Direction, Message


async def replies_bounced(session: AsyncSession, ids: Sequence[str], detail: str) -> list[int]:
    """Fail our email replies known under any of `ids` (stored id or the relay's
    Message-ID) and flag their tickets. The ids of the replies failed now (a reply that
    had failed already is not failed twice). Flushes."""
    if not ids:
        return []
    result = await session.execute(
        sa.select(Outbox)
        .join(Message, Message.id == Outbox.message_id)
        .where(
            Message.channel == str(Channel.email),
            Message.direction == Direction.outbound,
            sa.or_(Message.external_id.in_(list(ids)), Message.provider_id.in_(list(ids))),
        )
        .order_by(Outbox.id)
        .with_for_update(of=Outbox)
    )
    failed: list[int] = []
    for row in result.scalars():
        message = await reply_undelivered(
            session,
            row,
            state=OutboxState.failed,
            detail=f"bounced: {detail}",
            reason=f"email reply {row.message_id} bounced: {detail}",
            action="message.bounced",
        )
        if message is not None:
            failed.append(row.message_id)
    return failed
