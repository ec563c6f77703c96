"""Who is calling over HTTP: bearer-token auth into an `AgentContext`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from gateway import notify
from gateway.agents.context import AgentContext, load_context
from gateway.agents.models import Role
from gateway.dependencies import RuntimeDep, SessionDep
from gateway.errors import Forbidden, Unauthorized
from gateway.runtime import Runtime

bearer = HTTPBearer(auto_error=False, description="The agent's API token")


async def current_agent(
    session: SessionDep,
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> AgentContext:
    if credentials is None:
        raise Unauthorized("missing API token: send 'Authorization: Bearer <token>'")
    cache = runtime.agent_cache
    return await load_context(
        session,
        credentials.credentials,
        cache=cache,
        trusted=cache_trusted(runtime),
        now=runtime.clock.now(),
        ttl_seconds=runtime.settings.http.auth_cache_seconds,
    )


def cache_trusted(runtime: Runtime) -> bool:
    """The token cache may answer while this process hears agent changes (always on
    SQLite; on PostgreSQL while its LISTEN connection is up). The first call starts
    listening; until the connection is up every request reads the database."""
    cache = runtime.agent_cache
    if not cache.subscribed:
        cache.subscribed = True
        runtime.notifier.on_signal(notify.AGENTS, cache.clear)
        return runtime.notifier.local
    return runtime.notifier.listening


CurrentAgent = Annotated[AgentContext, Depends(current_agent)]


async def current_admin(ctx: CurrentAgent) -> AgentContext:
    if ctx.agent.role != Role.admin:
        raise Forbidden("this route is for admins")
    return ctx


CurrentAdmin = Annotated[AgentContext, Depends(current_admin)]
