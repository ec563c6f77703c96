"""`GET /api/v1/admin/dead-letters`: what intake set aside, for an admin to look at."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from gateway.agents.dependencies import CurrentAdmin
from gateway.deadletters import repository as repo
from gateway.dependencies import SessionDep
from gateway.ports import Channel

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])

# Ids are 32-bit on both databases; a larger cursor can only be a typo or a probe.
MAX_ID = 2**31 - 1


class DeadLetterPublic(BaseModel):
    id: int
    channel: str
    reason: str
    error: str | None
    sender: str | None
    external_id: str | None
    created_at: datetime
    retried_at: datetime | None
    resolved_message_id: int | None


class DeadLetterList(BaseModel):
    items: list[DeadLetterPublic]
    next_cursor: str | None = None


@router.get("/dead-letters", response_model=DeadLetterList)
async def get_dead_letters(
    session: SessionDep,
    _admin: CurrentAdmin,
    channel: Channel | None = None,
    reason: Annotated[str | None, Query(max_length=32, pattern=r"^[a-z_]+$")] = None,
    pending: Annotated[bool, Query(description="only those not stored since")] = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> DeadLetterList:
    """Set-aside input, newest first (`reason`: auto_reply, bounce, unparseable, ...)."""
    letters = await repo.list_dead_letters(
        session,
        channel=channel.value if channel is not None else None,
        reason=reason,
        pending_only=pending,
        before_id=cursor,
        limit=limit,
    )
    items = [
        DeadLetterPublic(
            id=letter.id,  # type: ignore[arg-type]
            channel=letter.channel,
            reason=letter.reason,
            error=letter.error,
            sender=letter.sender,
            external_id=letter.external_id,
            created_at=letter.created_at,
            retried_at=letter.retried_at,
            resolved_message_id=letter.resolved_message_id,
        )
        for letter in letters
    ]
    next_cursor = str(items[-1].id) if len(items) == limit else None
    return DeadLetterList(items=items, next_cursor=next_cursor)
