"""What the calling agent may see and do: framework-free, so services take it from any
edge (the HTTP API, the console, the CLI) without importing FastAPI."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.agents.models import Agent, Role
from gateway.agents.service import agent_by_token
from gateway.errors import Unauthorized
from gateway.queues.models import QueueMembership
from gateway.tickets.models import Ticket


@dataclass(frozen=True)
class AgentContext:
    """The calling agent and the queues they work."""

    agent: Agent
    queue_ids: frozenset[int]

    @property
    def id(self) -> int:
        assert self.agent.id is not None
        return self.agent.id

    @property
    def sees_all(self) -> bool:
        return self.agent.role in (Role.supervisor, Role.admin)

    def can_see(self, ticket: Ticket) -> bool:
        return self.sees_all or ticket.queue_id in self.queue_ids or ticket.assignee_id == self.id

    def can_work_queue(self, queue_id: int) -> bool:
        return self.sees_all or queue_id in self.queue_ids


async def load_context(session: AsyncSession, token: str) -> AgentContext:
    agent = await agent_by_token(session, token)
    if agent is None:
        raise Unauthorized("invalid or revoked API token")
    rows = await session.execute(
        sa.select(col(QueueMembership.queue_id)).where(col(QueueMembership.agent_id) == agent.id)
    )
    return AgentContext(agent, frozenset(rows.scalars()))
