"""Who is calling: bearer-token auth and what the caller may see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.agents.models import Agent, Role
from gateway.agents.service import agent_by_token
from gateway.dependencies import SessionDep
from gateway.errors import Forbidden, Unauthorized
from gateway.queues.models import QueueMembership
from gateway.tickets.models import Ticket

bearer = HTTPBearer(auto_error=False, description="The agent's API token")


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
        sa.select(QueueMembership.queue_id).where(QueueMembership.agent_id == agent.id)
    )
    return AgentContext(agent, frozenset(rows.scalars()))


async def current_agent(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> AgentContext:
    if credentials is None:
        raise Unauthorized("missing API token: send 'Authorization: Bearer <token>'")
    return await load_context(session, credentials.credentials)


CurrentAgent = Annotated[AgentContext, Depends(current_agent)]


async def current_admin(ctx: CurrentAgent) -> AgentContext:
    if ctx.agent.role != Role.admin:
        raise Forbidden("this route is for admins")
    return ctx


CurrentAdmin = Annotated[AgentContext, Depends(current_admin)]
