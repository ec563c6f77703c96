"""A relay's bounce of one of our emails: the reply it names failed after all."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.flows.undelivered import reply_undelivered
from gateway.outbox import repository as outbox_rows
from gateway.outbox.service import OutboxState
from gateway.ports import Channel


async def replies_bounced(session: AsyncSession, ids: Sequence[str], detail: str) -> list[int]:
    """Fail our email replies known under any of `ids` (stored id or the relay's
    Message-ID) and flag their tickets. The ids of the replies failed now (a reply that
    had failed already is not failed twice). Flushes."""
    failed: list[int] = []
    for row in await outbox_rows.replies_known_as(session, str(Channel.email), ids):
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
