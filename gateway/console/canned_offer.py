"""Which canned replies the ticket page offers (filled in slice 4)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.tickets.schemas import TicketPublic


async def offers_for(session: AsyncSession, ticket: TicketPublic, agent_name: str) -> list[Any]:
    return []
