"""Request and response bodies of the ticket routes (the JSON of api.md)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.tickets.models import Category, DeliveryState, Direction, Severity, TicketStatus
from gateway.validation import InboundModel


class AttachmentPublic(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int | None
    sha256: str | None
    state: str


class MessagePublic(BaseModel):
    id: int
    direction: Direction
    author: str = Field(description="`customer`, `system`, or the agent's name")
    text: str
    html: str | None = None
    subject: str | None = None
    language: str | None = None
    delivery_state: DeliveryState
    created_at: datetime
    edited_at: datetime | None = None
    attachments: list[AttachmentPublic] = []


class CustomerPublic(BaseModel):
    id: int
    name: str | None
    email: str | None
    exchange_user_id: str | None
    language: str | None


class TicketSummary(BaseModel):
    ref: str
    status: TicketStatus
    severity: Severity
    category: Category
    language: str | None
    channel: str
    queue: str
    assignee: str | None
    subject: str | None
    order_ref: str | None
    amount: Decimal | None
    currency: str | None
    escalation_level: int
    needs_attention: bool
    attention_reason: str | None
    created_at: datetime
    updated_at: datetime
    first_response_due: datetime | None
    next_response_due: datetime | None = Field(
        None, description="Due time of the open next-response cycle (a customer waits)"
    )
    resolution_due: datetime | None = Field(None, description="None while the clock is paused")
    sla_state: str = Field(
        "none", description="none, active, warning, paused, breached or fulfilled"
    )


class TicketPublic(TicketSummary):
    customer: CustomerPublic
    parent: str | None
    routing_reasons: list[str]
    messages: list[MessagePublic]


class TicketList(BaseModel):
    items: list[TicketSummary]
    next_cursor: str | None


class TextBody(InboundModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, description="Plain text; shown to the customer as text")


class ReplyAttachment(InboundModel):
    model_config = ConfigDict(extra="forbid")
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(
        min_length=3, max_length=255, pattern=r"^[a-zA-Z0-9!#$&^_.+-]+/[a-zA-Z0-9!#$&^_.+-]+$"
    )
    content_base64: str = Field(min_length=1, description="The file, base64-encoded")


class ReplyBody(TextBody):
    attachments: list[ReplyAttachment] = Field(default_factory=list)


class StatusBody(InboundModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["open", "pending_customer", "resolved", "closed"]


class TransferBody(InboundModel):
    model_config = ConfigDict(extra="forbid")
    queue: str = Field(min_length=1, max_length=64)


class EscalateBody(InboundModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000)


class LanguageBody(InboundModel):
    model_config = ConfigDict(extra="forbid")
    language: str = Field(min_length=2, max_length=16, pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,8})?$")


class EventPublic(BaseModel):
    id: int
    action: str
    actor: str = Field(description="`customer`, `system`, or the agent's name")
    data: dict[str, Any]
    created_at: datetime


class EventList(BaseModel):
    items: list[EventPublic]
    next_cursor: str | None = None
