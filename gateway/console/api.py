"""Console routes of the agent API: an admin issues a one-time sign-in link."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from gateway.agents.dependencies import CurrentAdmin
from gateway.console import sessions
from gateway.db import utcnow
from gateway.dependencies import RuntimeDep, SessionDep

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


class ConsoleLinkIssued(BaseModel):
    path: str = Field(description="Open at the gateway's address: /console/link/<token>")
    expires_at: datetime


@router.post(
    "/agents/{name}/console-link",
    status_code=201,
    response_model=ConsoleLinkIssued,
    responses={404: {"description": "No active agent of that name"}},
)
async def issue_console_link(
    name: str, session: SessionDep, admin: CurrentAdmin, runtime: RuntimeDep
) -> ConsoleLinkIssued:
    """A link that signs the agent in to the console once, within a few minutes. Send it
    over a channel the agent trusts; it is worth a session."""
    token, expires_at = await sessions.issue_link(
        session, admin, name, runtime.settings.console, utcnow()
    )
    return ConsoleLinkIssued(path=f"/console/link/{token}", expires_at=expires_at)
