"""Service tokens: the exchange backend and other systems, never desk agents."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from gateway.db import UTCDateTime, utcnow


class IntegrationRole(enum.StrEnum):
    # Pushes order facts; reads them back. Cannot see tickets or cases.
    integration = "integration"


class ServiceToken(SQLModel, table=True):
    """A machine caller. Kept apart from `agent` so no agent route can ever accept it."""

    __tablename__ = "service_token"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=sa.String(100), unique=True)
    role: str = Field(default=IntegrationRole.integration, sa_type=sa.String(16))
    # sha256 of the token, as for agents: 256 random bits need no slow hash.
    token_hash: str = Field(sa_type=sa.String(64), unique=True)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
