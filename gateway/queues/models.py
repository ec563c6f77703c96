"""Agent queues and who works them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from gateway.db import UTCDateTime, utcnow

DEFAULT_QUEUE = "general"


class Queue(SQLModel, table=True):
    __tablename__ = "queue"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=sa.String(64), unique=True)
    description: str | None = Field(default=None, sa_type=sa.String(500))
    # The escalation matrix: where `escalate` sends a ticket of this queue next.
    escalates_to_id: int | None = Field(default=None, foreign_key="queue.id")
    # Only agents who read the ticket's language may claim it from this queue (a ticket
    # whose language is unknown is claimable by anyone).
    requires_agent_language: bool = Field(
        default=False, sa_column_kwargs={"server_default": sa.false()}
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class QueueMembership(SQLModel, table=True):
    __tablename__ = "queue_membership"

    agent_id: int = Field(foreign_key="agent.id", primary_key=True)
    queue_id: int = Field(foreign_key="queue.id", primary_key=True, index=True)
