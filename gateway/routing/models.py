"""Ordered routing rules: the first that matches names the ticket's queue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from gateway.db import JSONType, UTCDateTime, utcnow


class RoutingRule(SQLModel, table=True):
    __tablename__ = "routing_rule"

    id: int | None = Field(default=None, primary_key=True)
    position: int = Field(index=True)
    name: str = Field(sa_type=sa.String(100), unique=True)
    queue_id: int = Field(foreign_key="queue.id")
    # {"language": [...], "severity": [...], "category": [...], "channel": [...],
    #  "customer_flags": [...]}; a missing key matches anything.
    conditions: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType, nullable=False)
    enabled: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class RoutingCorrection(SQLModel, table=True):
    """An agent's correction of a ticket's triage: a labelled example for `routing train`
    and `routing eval` (`gateway routing export-corrections`)."""

    __tablename__ = "routing_correction"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    agent_id: int = Field(foreign_key="agent.id")
    # What the customer wrote, as routing read it: the ticket's inbound messages so far.
    text: str = Field(sa_type=sa.Text)
    language: str | None = Field(default=None, sa_type=sa.String(16))
    old_category: str = Field(sa_type=sa.String(40))
    new_category: str = Field(sa_type=sa.String(40))
    old_severity: str = Field(sa_type=sa.String(10))
    new_severity: str = Field(sa_type=sa.String(10))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
