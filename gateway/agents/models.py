"""Desk agents and their API tokens (stored hashed only)."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from gateway.db import JSONType, UTCDateTime, utcnow


class Role(enum.StrEnum):
    agent = "agent"
    supervisor = "supervisor"
    admin = "admin"


class Agent(SQLModel, table=True):
    __tablename__ = "agent"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=sa.String(100), unique=True)
    role: str = Field(default=Role.agent, sa_type=sa.String(16))
    languages: list[str] = Field(default_factory=list, sa_type=JSONType, nullable=False)
    capacity: int = 10
    # sha256 of the token: tokens are 256 random bits, so a fast hash is enough and
    # lets every request look the agent up by index.
    token_hash: str = Field(sa_type=sa.String(64), unique=True)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
