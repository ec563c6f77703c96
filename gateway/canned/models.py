"""Canned replies: a named answer for one ticket category, with a body per language."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from gateway.db import JSONType, UTCDateTime, utcnow


class CannedReply(SQLModel, table=True):
    __tablename__ = "canned_reply"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=sa.String(100), unique=True)
    # A ticket category (gateway.tickets.models.Category); None offers it on every ticket.
    category: str | None = Field(default=None, sa_type=sa.String(40), index=True)
    # ISO 639-1 language -> body with {placeholders}; "en" is the fallback.
    bodies: dict[str, str] = Field(default_factory=dict, sa_type=JSONType, nullable=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
