"""All SQL of the tickets domain. Functions flush; the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.system import repository as system
from gateway.tickets.models import (
    ChannelIdentity,
    Customer,
    Message,
    Ticket,
    TicketStatus,
)


@dataclass(frozen=True, slots=True)
class Seen:
    """What intake knows about an inbound message before it writes anything."""

    message: Message | None
    identity: ChannelIdentity | None
    # The identity's customer, when it was asked for and the identity exists.
    customer: Customer | None
    # An id reserved for the message's row (PostgreSQL), so it can be inserted once,
    # complete; None on SQLite, where the id comes from the INSERT.
    message_id: int | None


async def seen(
    session: AsyncSession,
    channel: str,
    external_id: str,
    sender: str,
    *,
    customer: bool,
    state_keys: Sequence[str] = (),
) -> Seen:
    """The stored message with this (channel, external id), the sender's identity and
    (with `customer`) its customer, in one round trip; the `state_keys` of the system
    store are read along with them and remembered for this transaction (`get_once`)."""
    # One row whatever exists: each part is LEFT JOINed to a constant row on its unique key.
    anchor = sa.select(sa.literal(1).label("one")).subquery()
    reserve = session.get_bind().dialect.name == "postgresql"
    stmt = (
        sa.select(
            Message,
            ChannelIdentity,
            Customer if customer else sa.null(),
            sa.func.nextval(sa.func.pg_get_serial_sequence("message", "id"))
            if reserve
            else sa.null(),
            *(system.value_of(key) for key in state_keys),
        )
        .select_from(anchor)
        .outerjoin(
            Message,
            sa.and_(col(Message.channel) == channel, col(Message.external_id) == external_id),
        )
        .outerjoin(
            ChannelIdentity,
            sa.and_(
                col(ChannelIdentity.channel) == channel, col(ChannelIdentity.address) == sender
            ),
        )
    )
    if customer:
        stmt = stmt.outerjoin(Customer, col(Customer.id) == col(ChannelIdentity.customer_id))
    message, identity, found_customer, message_id, *values = (await session.execute(stmt)).one()
    for key, value in zip(state_keys, values, strict=True):
        system.remember(session, key, value)
    return Seen(message, identity, found_customer, message_id)


async def message_by_external_id(
    session: AsyncSession, channel: str, external_id: str
) -> Message | None:
    result = await session.execute(
        sa.select(Message).where(
            col(Message.channel) == channel, col(Message.external_id) == external_id
        )
    )
    return result.scalar_one_or_none()


async def messages_by_external_ids(
    session: AsyncSession, external_ids: Sequence[str]
) -> list[Message]:
    if not external_ids:
        return []
    result = await session.execute(
        sa.select(Message)
        .where(col(Message.external_id).in_(list(external_ids)))
        .order_by(col(Message.id).desc())
    )
    return list(result.scalars())


async def identity(session: AsyncSession, channel: str, address: str) -> ChannelIdentity | None:
    result = await session.execute(
        sa.select(ChannelIdentity).where(
            col(ChannelIdentity.channel) == channel, col(ChannelIdentity.address) == address
        )
    )
    return result.scalar_one_or_none()


async def customer_by_exchange_user(session: AsyncSession, user_id: str) -> Customer | None:
    result = await session.execute(
        sa.select(Customer).where(col(Customer.exchange_user_id) == user_id)
    )
    return result.scalar_one_or_none()


async def get_ticket(
    session: AsyncSession, ticket_id: int, *, for_update: bool = False
) -> Ticket | None:
    stmt = sa.select(Ticket).where(col(Ticket.id) == ticket_id)
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
            col(Ticket.customer_id) == customer_id,
            col(Ticket.channel) == channel,
            col(Ticket.thread_key) == thread_key,
        )
        .order_by(
            sa.case((col(Ticket.status) == TicketStatus.closed, 1), else_=0), col(Ticket.id).desc()
        )
        .limit(1)
    )
    return result.scalar_one_or_none()
