"""The audit trail: who did what to which ticket, when. The one writer of audit events.

Every domain and flow records its events through `record()`; reading them back for a
ticket is `for_ticket()`. Events are added to the caller's session and written at its
next flush, so an event commits or rolls back with the change it describes. A hot path
that writes its event at once, in one statement, uses `audit_chain.append` (the same
event in the same chain; a claim does).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from gateway.db import JSONType, UTCDateTime, empty_dict, utcnow
from gateway.tickets.models import ActorType, written_after_ticket


class AuditEvent(SQLModel, table=True):
    """Who did what, when. Hash-chained: each event stores the hash of the previous
    event of its chain (its ticket; else its case; else the desk-wide chain) and its own
    hash over both, so an edit or a deletion anywhere but the chain's end shows
    (`gateway.audit_chain` computes and verifies the chain)."""

    __tablename__ = "audit_event"
    __table_args__ = (
        sa.Index("ix_audit_event_ticket_chain", "ticket_id", "id"),
        sa.Index("ix_audit_event_case_chain", "case_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    case_id: int | None = Field(default=None, foreign_key="dispute_case.id")
    actor_type: str = Field(sa_type=sa.String(10))
    actor_agent_id: int | None = Field(default=None, foreign_key="agent.id")
    action: str = Field(sa_type=sa.String(64))
    data: dict[str, Any] = Field(default_factory=empty_dict, sa_type=JSONType, nullable=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    prev_hash: str | None = Field(default=None, sa_type=sa.String(64))
    hash: str | None = Field(default=None, sa_type=sa.String(64))


written_after_ticket(AuditEvent)


def record(
    session: AsyncSession,
    action: str,
    *,
    ticket_id: int | None,
    actor_type: ActorType = ActorType.system,
    actor_agent_id: int | None = None,
    case_id: int | None = None,
    **data: Any,
) -> AuditEvent:
    """Add one audit event to the session (written, and chained, at the next flush).
    `action` is `domain.verb` (`message.replied`); None values in `data` are left out.
    An event of a case with no ticket names the case in `case_id`."""
    event = AuditEvent(
        ticket_id=ticket_id,
        case_id=case_id,
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
        sa.select(AuditEvent)
        .where(col(AuditEvent.ticket_id) == ticket_id)
        .order_by(col(AuditEvent.id))
    )
    return list(result.scalars())
