"""Agent and queue bodies: who is calling, and the admin's management routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from gateway.agents.models import Role
from gateway.validation import InboundModel

QUEUE_NAME = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
LANGUAGE = r"^[a-z]{2,3}(-[A-Za-z]{2,8})?$"
QueueName = Annotated[str, Field(pattern=QUEUE_NAME)]
Language = Annotated[str, Field(pattern=LANGUAGE)]


class AgentPublic(BaseModel):
    id: int
    name: str
    role: Role
    languages: list[str]
    queues: list[str]
    capacity: int
    active: bool
    created_at: datetime


class AgentCreate(InboundModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    role: Role = Role.agent
    languages: list[Language] = Field(default_factory=list, max_length=50)
    queues: list[QueueName] = Field(default_factory=list, max_length=100)
    capacity: int = Field(default=10, ge=1, le=10_000)


class AgentCreated(AgentPublic):
    token: str = Field(description="Shown once; only its hash is stored")


class AgentUpdate(InboundModel):
    model_config = ConfigDict(extra="forbid")
    role: Role | None = None
    languages: list[Language] | None = Field(default=None, max_length=50)
    queues: list[QueueName] | None = Field(default=None, max_length=100)
    capacity: int | None = Field(default=None, ge=1, le=10_000)
    active: bool | None = None


class QueuePublic(BaseModel):
    name: str
    description: str | None
    escalates_to: str | None
    open: int = Field(description="tickets not resolved or closed")
    unassigned: int = Field(description="claimable tickets nobody holds")
    oldest_due: datetime | None = Field(description="earliest first-response due among them")


class QueueCreate(InboundModel):
    model_config = ConfigDict(extra="forbid")
    name: QueueName
    description: str | None = Field(default=None, max_length=500)
    escalates_to: QueueName | None = None
