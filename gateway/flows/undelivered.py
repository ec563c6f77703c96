"""A reply that will never arrive: its outbox row fails and its ticket is flagged."""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.outbox import service as outbox
from gateway.outbox.service import OutboxRow, OutboxState
from gateway.tickets import service as tickets
from gateway.tickets.models import Message, Ticket

log = structlog.get_logger()


async def reply_undelivered(
    session: AsyncSession,
    row: OutboxRow,
    *,
    state: OutboxState,
    detail: str,
    reason: str,
    action: str | None = None,
    **audit_data: Any,
) -> Message | None:
    """Fail the (locked) row through `outbox.mark_undeliverable` and flag its ticket with
    `reason` for a supervisor. None when the row had already failed. Flushes."""
    message = await outbox.mark_undeliverable(
        session, row, state=state, detail=detail, action=action, **audit_data
    )
    if message is None:
        return None
    ticket = await session.get_one(Ticket, row.ticket_id)
    tickets.flag(session, ticket, reason, message_id=message.id)
    await session.flush()
    log.warning(
        "outbox.delivery_failed",
        ticket=ticket.ref,
        outbox_id=row.id,
        state=row.state,
        error=detail,
    )
    return message
