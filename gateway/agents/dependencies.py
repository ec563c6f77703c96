"""Who is calling over HTTP: bearer-token auth into an `AgentContext`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from gateway.agents.context import AgentContext, load_context
from gateway.agents.models import Role
from gateway.dependencies import SessionDep
from gateway.errors import Forbidden, Unauthorized

bearer = HTTPBearer(auto_error=False, description="The agent's API token")


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
