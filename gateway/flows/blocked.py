"""A customer blocked a channel (the Telegram bot): no reply reaches them there, so
their open tickets on it are flagged for a supervisor to try another way."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway import audit
from gateway.tickets import service as tickets
from gateway.tickets.models import OPEN_STATUSES, ChannelIdentity, Ticket


def blocked_reason(channel: str) -> str:
    return f"customer blocked the {channel.capitalize()} bot: replies cannot be delivered"


async def set_reachable(
    session: AsyncSession, identity: ChannelIdentity, *, reachable: bool
) -> bool:
    """Record whether the identity can be reached; a block flags the customer's open
    tickets on that channel. Whether anything changed. The caller locks the identity
    (its sender lock). Flushes."""
    if identity.unreachable == (not reachable):
        return False
    identity.unreachable = not reachable
    audit.record(
        session,
        "customer.reachable" if reachable else "customer.unreachable",
        ticket_id=None,
        identity_id=identity.id,
        channel=identity.channel,
    )
    if not reachable:
        open_tickets = await session.scalars(
            sa.select(Ticket)
            .where(
                col(Ticket.customer_id) == identity.customer_id,
                col(Ticket.channel) == identity.channel,
                col(Ticket.status).in_(OPEN_STATUSES),
            )
            .with_for_update()
        )
        reason = blocked_reason(identity.channel)
        for ticket in open_tickets:
            tickets.flag(session, ticket, reason)
    await session.flush()
    return True
