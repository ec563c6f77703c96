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
