"""Console sign-ins: one row per browser session, looked up by the cookie's hash."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from gateway.db import UTCDateTime, utcnow


class ConsoleSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds 256 random bits; only their sha256 is
    stored, like API tokens. Expiry is decided here, not by the browser."""

    __tablename__ = "console_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_type=sa.String(64), unique=True)
    agent_id: int = Field(foreign_key="agent.id", index=True)
    # The synchronizer token every state-changing form of this session carries.
    csrf_token: str = Field(sa_type=sa.String(64))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class ConsoleLink(SQLModel, table=True):
    """An admin-issued one-time sign-in link: used once, or never after it expires."""

    __tablename__ = "console_link"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_type=sa.String(64), unique=True)
    agent_id: int = Field(foreign_key="agent.id", index=True)
    created_by_id: int = Field(foreign_key="agent.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
