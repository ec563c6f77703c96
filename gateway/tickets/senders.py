"""Who sent an inbound message: the sender's channel identity and customer, found or
created (and linked to a verified exchange user), and whether a stored message or a
ticket is theirs. Intake asks these before it dedupes or threads anything, so a
stranger's reused Message-ID or reference never joins someone else's ticket."""

from __future__ import annotations

import hashlib

from sqlalchemy.ext.asyncio import AsyncSession

from gateway import audit
from gateway.db import lock_key
from gateway.ports import Channel, InboundMessage
from gateway.risk import service as risk
from gateway.tickets import repository as repo
from gateway.tickets.models import ChannelIdentity, Customer, Direction, Message, Ticket


def sender_scoped_id(inbound: InboundMessage) -> str:
    """The external id of a message whose source id another sender's message already
    holds: a digest of both, in the synthetic form that is never written into headers."""
    digest = hashlib.sha256(f"{inbound.external_id}\0{inbound.sender}".encode()).hexdigest()
    return f"sha256:{digest}"


async def same_sender(
    session: AsyncSession,
    existing: Message,
    inbound: InboundMessage,
    identity: ChannelIdentity | None,
) -> bool:
    """A stored message is a repeat of this one only when it came in from the same
    customer (our own replies never are: their ids are ours). `identity`: the sender's,
    as read with the message (`repository.seen`)."""
    if existing.direction != Direction.inbound:
        return False
    if identity is None:
        return False
    ticket = await repo.get_ticket(session, existing.ticket_id)
    return ticket is not None and ticket.customer_id == identity.customer_id


async def belongs_to_sender(
    session: AsyncSession, ticket: Ticket, customer: Customer, inbound: InboundMessage
) -> bool:
    """Whether a threading signal may join this ticket: only its own customer's messages
    may, since Message-IDs are quoted in mail and references are sequential. A mail from
    the address the ticket's customer gave (a chat visitor answering a reply mailed to
    them) is theirs too."""
    if ticket.customer_id == customer.id:
        return True
    if inbound.channel != Channel.email or not inbound.contact_email:
        return False
    owner = await session.get(Customer, ticket.customer_id)
    return (
        owner is not None
        and owner.email is not None
        and owner.email.strip().lower() == inbound.contact_email.strip().lower()
    )


async def identify(
    session: AsyncSession, inbound: InboundMessage, seen: repo.Seen
) -> tuple[ChannelIdentity, Customer, bool]:
    """Find or create the sender's identity and customer; link a verified exchange user.
    `seen`: the identity (and customer) as read under the sender's lock. The flag says
    the customer was created here (and so has no tickets yet)."""
    channel = str(inbound.channel)
    identity = seen.identity
    verified_customer: Customer | None = None
    if inbound.verified_user_id:
        await lock_key(session, "exchange_user", inbound.verified_user_id)
        verified_customer = await repo.customer_by_exchange_user(session, inbound.verified_user_id)

    if identity is None:
        customer = verified_customer or Customer(
            display_name=inbound.sender_name,
            exchange_user_id=inbound.verified_user_id,
            email=inbound.contact_email,
        )
        new_customer = customer.id is None
        if new_customer:
            session.add(customer)
            await session.flush()
        identity = ChannelIdentity(
            customer_id=customer.id,  # type: ignore[arg-type]
            channel=channel,
            address=inbound.sender,
            display_name=inbound.sender_name,
            verified=inbound.verified_user_id is not None,
            language_hint=inbound.language_hint,
        )
        session.add(identity)
        await session.flush()
        return identity, customer, new_customer

    # Read with the identity unless a verified user id took its lock after that read.
    customer = (
        seen.customer
        if seen.customer is not None
        else await session.get_one(Customer, identity.customer_id)
    )
    if inbound.verified_user_id and customer.exchange_user_id != inbound.verified_user_id:
        if customer.exchange_user_id is not None:
            # One channel address proving a second exchange id: a risk signal (rare path).
            await risk.on_identity_link(
                session, channel, inbound.sender, customer.exchange_user_id,
                inbound.verified_user_id,
            )  # fmt: skip
        if verified_customer is None and customer.exchange_user_id is None:
            customer.exchange_user_id = inbound.verified_user_id
        elif verified_customer is not None:
            # This channel address proved it belongs to a known exchange user: from now
            # on its messages are that customer's.
            audit.record(
                session,
                "customer.identity_linked",
                ticket_id=None,
                identity_id=identity.id,
                from_customer=customer.id,
                to_customer=verified_customer.id,
            )
            identity.customer_id = verified_customer.id  # type: ignore[assignment]
            customer = verified_customer
        identity.verified = True
    if inbound.language_hint and identity.language_hint != inbound.language_hint:
        identity.language_hint = inbound.language_hint
    if inbound.contact_email and not customer.email:
        customer.email = inbound.contact_email
    if inbound.sender_name and not customer.display_name:
        customer.display_name = inbound.sender_name
    return identity, customer, False
