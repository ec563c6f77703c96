"""Bearer auth for machine callers: a service token, never an agent's."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from gateway.dependencies import RuntimeDep
from gateway.errors import Unauthorized
from gateway.integrations.models import ServiceToken
from gateway.integrations.service import by_token

service_bearer = HTTPBearer(auto_error=False, description="A service token (role integration)")


async def current_integration(
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(service_bearer)],
) -> ServiceToken:
    """The caller, looked up in a session of its own: a route that then waits on the
    network (an order pull) holds no transaction meanwhile."""
    if credentials is None:
        raise Unauthorized("missing service token: send 'Authorization: Bearer <token>'")
    async with runtime.sessionmaker() as session:
        caller = await by_token(session, credentials.credentials)
    if caller is None:
        raise Unauthorized("invalid or revoked service token")
    return caller


CurrentIntegration = Annotated[ServiceToken, Depends(current_integration)]
