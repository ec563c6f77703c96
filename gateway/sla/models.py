"""SLA metric events, agents' shifts and contacts, and escalation watchers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from gateway.db import JSONType, UTCDateTime, empty_dict, utcnow
from gateway.tickets.models import written_after_ticket


class SlaEvent(SQLModel, table=True):
    """One thing that happened to one SLA target of a ticket: it became active, paused,
    fulfilled, breached, was warned about, or the ticket was escalated or de-escalated.

    `key` is unique and derived from what happened (not from who noticed it), so two
    workers, or a worker restarted after kill -9, can never record, or act on, one
    event twice: the insert and the action share a transaction.
    """

    __tablename__ = "sla_event"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    # first_response, next_response, resolution, or escalation
    target: str = Field(sa_type=sa.String(20))
    cycle: int = 0
    # active, paused, fulfilled, breached, warned, escalated, deescalated
    kind: str = Field(sa_type=sa.String(16))
    at: datetime = Field(sa_type=UTCDateTime)
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    policy: str | None = Field(default=None, sa_type=sa.String(100))
    data: dict[str, Any] = Field(default_factory=empty_dict, sa_type=JSONType, nullable=False)
    key: str = Field(sa_type=sa.String(200), unique=True)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


written_after_ticket(SlaEvent)


class AgentShift(SQLModel, table=True):
    """Whether an agent is on shift, and how they are reached for escalations.

    An agent without a row is on shift (a desk that never set up shifts works as
    before). `rota_on_shift` is the rota's state last applied, so a manual change holds
    until the rota's next boundary.
    """

    __tablename__ = "agent_shift"

    agent_id: int = Field(foreign_key="agent.id", primary_key=True)
    on_shift: bool = True
    set_by: str = Field(default="agent", sa_type=sa.String(16))  # agent, supervisor, rota
    rota_on_shift: bool | None = None
    email: str | None = Field(default=None, sa_type=sa.String(320))
    telegram_chat_id: str | None = Field(default=None, sa_type=sa.String(64))
    notify_via: str = Field(default="email", sa_type=sa.String(10))  # email, telegram
    changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class TicketWatcher(SQLModel, table=True):
    """Someone at an escalation level who follows a ticket that stayed in its queue."""

    __tablename__ = "ticket_watcher"

    ticket_id: int = Field(foreign_key="ticket.id", primary_key=True)
    agent_id: int = Field(foreign_key="agent.id", primary_key=True)
    level: int
    added_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
