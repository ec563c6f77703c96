"""Request and response bodies of the SLA routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.validation import InboundModel


class ClockPublic(BaseModel):
    target: str = Field(description="first_response, next_response, resolution or evidence")
    cycle: int = Field(
        description="0; next_response counts 1, 2, ... per customer message; evidence is the "
        "evidence request's id"
    )
    state: str = Field(description="active, paused, fulfilled or breached")
    started_at: datetime
    due_at: datetime | None = Field(description="None while paused")
    warn_at: datetime | None
    fulfilled_at: datetime | None
    breached_at: datetime | None


class SlaEventPublic(BaseModel):
    target: str
    cycle: int
    kind: str = Field(
        description="active, paused, fulfilled, breached, warned, escalated or deescalated"
    )
    at: datetime
    due_at: datetime | None
    policy: str | None
    data: dict[str, Any]
    recorded_at: datetime


class WatcherPublic(BaseModel):
    agent: str
    level: int


class TicketSla(BaseModel):
    ref: str
    policy: str | None = Field(description="The policy that applies; None: no SLA")
    calendar: str
    sla_state: str
    escalation_level: int
    first_response_due: datetime | None
    next_response_due: datetime | None
    resolution_due: datetime | None
    clocks: list[ClockPublic]
    events: list[SlaEventPublic]
    watchers: list[WatcherPublic]


class DeescalateBody(InboundModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000)
    level: int | None = Field(
        None, ge=0, le=9, description="Level to step down to; default one below the current"
    )


class NextBreach(BaseModel):
    ref: str
    target: str
    due_at: datetime
    severity: str


class QueueSla(BaseModel):
    queue: str
    open: dict[str, int] = Field(description="Open tickets by SLA state")
    next_breaches: list[NextBreach]
    breached_24h: int


class SlaOverview(BaseModel):
    generated_at: datetime
    queues: list[QueueSla]


class ShiftBody(InboundModel):
    model_config = ConfigDict(extra="forbid")
    on_shift: bool
    hand_to: str | None = Field(
        None,
        min_length=1,
        max_length=100,
        description="Going off: hand every open ticket to this colleague (on shift) "
        "instead of returning the untouched ones to their queue",
    )


class ContactBody(InboundModel):
    model_config = ConfigDict(extra="forbid")
    email: str | None = Field(None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    telegram_chat_id: str | None = Field(None, max_length=64, pattern=r"^-?\d{1,20}$")
    notify_via: Literal["email", "telegram"] = "email"


class ShiftPublic(BaseModel):
    agent: str
    on_shift: bool
    set_by: str
    changed_at: datetime | None
    email: str | None
    telegram_chat_id: str | None
    notify_via: str
    returned: list[str] = Field(default_factory=list, description="Tickets back in their queue")
    handed_over: list[str] = Field(default_factory=list, description="Tickets given to hand_to")
