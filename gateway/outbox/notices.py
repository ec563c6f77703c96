"""Notices to the desk itself (an escalation to a line manager, a warning to the agent
on a ticket, the on-call Telegram chat): written through the outbox like a reply, but
addressed to a desk member instead of the ticket's customer.

A notice is a note on the ticket (so it is in the ticket's thread for every agent and
never shown to the customer) plus an outbox row whose `recipient` names the address;
the delivery worker sends it like any reply, with retries, and records the outcome.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from gateway import notify
from gateway.notify import Notifier
from gateway.outbox.models import Outbox
from gateway.tickets.models import ActorType, DeliveryState, Direction, Message


async def enqueue_notice(
    session: AsyncSession,
    *,
    ticket_id: int,
    channel: str,
    recipient: str,
    text: str,
    notifier: Notifier | None = None,
) -> Message:
    """Queue one notice about the ticket to `recipient` on `channel`. Flushes."""
    message = Message(
        ticket_id=ticket_id,
        channel=channel,
        direction=Direction.note,
        author_type=ActorType.system,
        text=text,
        delivery_state=DeliveryState.pending,
    )
    session.add(message)
    await session.flush()
    row = Outbox(message_id=message.id, ticket_id=ticket_id, channel=channel, recipient=recipient)  # type: ignore[arg-type]
    session.add(row)
    await session.flush()
    if notifier is not None:
        await notifier.publish(session, notify.OUTBOX, str(row.id))
    return message
