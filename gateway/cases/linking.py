"""Which case a ticket belongs to, and which party it speaks for. Functions flush only.

Intake links every ticket that names an order (either party, any channel); an agent
links and unlinks by hand. A party is known when the ticket's customer proved an
exchange user id (widget HMAC, Telegram deep link) that the order facts name as buyer
or seller, or when an agent says so.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway import audit
from gateway.blobs import BlobStore
from gateway.cases import evidence as evidence_items
from gateway.cases import repository as repo
from gateway.cases.models import (
    CaseStatus,
    CaseTicket,
    DisputeCase,
    LinkSource,
    Party,
    PartySource,
)
from gateway.db import pk
from gateway.orders import repository as orders_repo
from gateway.orders.models import OrderFact
from gateway.risk import service as risk
from gateway.tickets.models import ActorType, Customer, Direction, Message, Ticket


def party_for(order: OrderFact | None, user_id: str | None) -> Party:
    if order is None or user_id is None:
        return Party.unknown
    if user_id == order.buyer_user_id:
        return Party.buyer
    if user_id == order.seller_user_id:
        return Party.seller
    return Party.unknown


async def on_intake(
    session: AsyncSession,
    ticket: Ticket,
    customer: Customer,
    message: Message,
    *,
    new_ticket: bool,
    has_files: bool,
    blobs: BlobStore | None,
    now: datetime,
) -> None:
    """After routing set `order_ref`: put the ticket in its order's case (once; never
    back into a case an agent took it out of) and turn the message's files into
    evidence. A message naming no order and carrying no file costs no query."""
    assert ticket.id is not None and message.id is not None
    # Without an order and without files there is nothing to link or to keep as
    # evidence (a ticket an agent linked by hand gains nothing from a text message).
    if not ticket.order_ref and (new_ticket or not has_files):
        return
    link = None if new_ticket else await repo.link_of_ticket(session, ticket.id)
    if link is None:
        if not ticket.order_ref:
            return
        case, _created = await repo.ensure_case(session, ticket.order_ref)
        link = await link_ticket(session, case, ticket, customer, now=now, by=LinkSource.intake)
    elif link.unlinked_at is not None:
        return
    if has_files:
        await session.flush()  # the message's attachments, so they can be read back
        await evidence_items.record_for_messages(session, link, ticket, [message.id], blobs, now)


async def link_ticket(
    session: AsyncSession,
    case: DisputeCase,
    ticket: Ticket,
    customer: Customer,
    *,
    now: datetime,
    by: LinkSource,
    agent_id: int | None = None,
    party: Party | None = None,
) -> CaseTicket:
    """Link (or relink) a ticket to the case; audited on the ticket and the case."""
    assert case.id is not None and ticket.id is not None
    order = await orders_repo.by_ref(session, case.order_ref)
    user_id = customer.exchange_user_id
    if party is None:
        party = party_for(order, user_id)
        source = PartySource.verified if party != Party.unknown else PartySource.none
    else:
        source = PartySource.agent
    link = await repo.link_in_case(session, case.id, ticket.id)
    if link is None:
        link = CaseTicket(case_id=case.id, ticket_id=ticket.id, linked_at=now)
        session.add(link)
    link.party, link.party_source, link.party_user_id = party, source, user_id
    link.linked_by, link.unlinked_at = by, None
    case.updated_at = now
    await session.flush()
    audit.record(
        session,
        "case.ticket_linked",
        ticket_id=ticket.id,
        case_id=case.id,
        actor_type=ActorType.agent if agent_id else ActorType.system,
        actor_agent_id=agent_id,
        order_ref=case.order_ref,
        party=party,
        party_source=source,
        by=by,
    )
    # Who complains about whom changed: both parties' signals (repeat disputes, many
    # complainants, chargebacks) are recomputed in this transaction.
    await risk.on_case_change(session, case.order_ref, now=now)
    return link


async def unlink_ticket(
    session: AsyncSession, case: DisputeCase, link: CaseTicket, *, agent_id: int, now: datetime
) -> None:
    link.unlinked_at = now
    case.updated_at = now
    audit.record(
        session,
        "case.ticket_unlinked",
        ticket_id=link.ticket_id,
        case_id=case.id,
        actor_type=ActorType.agent,
        actor_agent_id=agent_id,
        order_ref=case.order_ref,
    )
    await session.flush()
    await risk.on_case_change(session, case.order_ref, now=now)


async def backfill_evidence(
    session: AsyncSession, link: CaseTicket, ticket: Ticket, blobs: BlobStore | None, now: datetime
) -> None:
    """A ticket linked by hand brings the files its customer sent before."""
    ids = await session.execute(
        sa.select(pk(Message.id)).where(
            col(Message.ticket_id) == ticket.id, col(Message.direction) == Direction.inbound
        )
    )
    await evidence_items.record_for_messages(session, link, ticket, list(ids.scalars()), blobs, now)


async def refresh_parties(session: AsyncSession, order: OrderFact) -> DisputeCase | None:
    """New order facts: tickets whose party the facts now tell apart get it (an agent's
    word is kept)."""
    case = await repo.case_by_order(session, order.order_ref)
    if case is None:
        return None
    for link, ticket in await repo.active_links(session, case.id):  # type: ignore[arg-type]
        if link.party_source == PartySource.agent:
            continue
        party = party_for(order, link.party_user_id)
        if party != link.party:
            audit.record(
                session,
                "case.party_identified",
                ticket_id=ticket.id,
                case_id=case.id,
                old=link.party,
                new=party,
                user_id=link.party_user_id,
            )
            link.party = party
            link.party_source = PartySource.verified if party != Party.unknown else PartySource.none
    await session.flush()
    return case


def is_open(case: DisputeCase) -> bool:
    return case.status in (CaseStatus.open, CaseStatus.appealed)
