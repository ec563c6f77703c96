"""The audit trail: who did what to which ticket, when. The one writer of audit events.

Every domain and flow records its events through `record()`; reading them back for a
ticket is `for_ticket()`. Events are added to the caller's session and written at its
next flush, so an event commits or rolls back with the change it describes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from gateway.db import JSONType, UTCDateTime, utcnow
from gateway.tickets.models import ActorType


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    actor_type: str = Field(sa_type=sa.String(10))
    actor_agent_id: int | None = Field(default=None, foreign_key="agent.id")
    action: str = Field(sa_type=sa.String(64))
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType, nullable=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


def record(
    session: AsyncSession,
    action: str,
    *,
    ticket_id: int | None,
    actor_type: ActorType = ActorType.system,
    actor_agent_id: int | None = None,
    **data: Any,
) -> AuditEvent:
    """Add one audit event to the session (written at the next flush). `action` is
    `domain.verb` (`message.replied`); None values in `data` are left out."""
    event = AuditEvent(
        ticket_id=ticket_id,
        actor_type=actor_type,
        actor_agent_id=actor_agent_id,
        action=action,
        data={k: v for k, v in data.items() if v is not None},
    )
    session.add(event)
    return event


async def for_ticket(session: AsyncSession, ticket_id: int) -> list[AuditEvent]:
    """A ticket's events, oldest first."""
    result = await session.execute(
        sa.select(AuditEvent).where(AuditEvent.ticket_id == ticket_id).order_by(AuditEvent.id)
    )
    return list(result.scalars())
