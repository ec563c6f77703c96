"""Which canned replies the ticket page offers, from the ticket as the agent sees it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.canned import service
from gateway.canned.service import Offer, TicketFacts
from gateway.tickets.schemas import TicketPublic


async def offers_for(session: AsyncSession, ticket: TicketPublic, agent_name: str) -> list[Offer]:
    facts = TicketFacts(
        category=str(ticket.category),
        language=ticket.customer.language or ticket.language,
        customer_name=ticket.customer.name,
        order_ref=ticket.order_ref,
        amount=ticket.amount,
        currency=ticket.currency,
        deadline=ticket.resolution_due,
    )
    return await service.offers(session, facts, agent_name)
