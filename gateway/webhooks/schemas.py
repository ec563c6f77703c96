"""Request and response bodies of the webhook admin routes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gateway.validation import InboundModel
from gateway.webhooks.models import EventType


def _event_types(values: list[EventType]) -> list[EventType]:
    if not values:
        raise ValueError("name at least one event type")
    return list(dict.fromkeys(values))


class SubscriptionCreate(InboundModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(min_length=8, max_length=2000, description="http(s) URL of the receiver")
    event_types: list[EventType] = Field(min_length=1, max_length=len(EventType))
    include_notes: bool = Field(False, description="also message.created for private notes")
    active: bool = True
    description: str | None = Field(None, max_length=500)

    _unique = field_validator("event_types")(_event_types)


class SubscriptionUpdate(InboundModel):
    model_config = ConfigDict(extra="forbid")
    url: str | None = Field(None, min_length=8, max_length=2000)
    event_types: list[EventType] | None = Field(None, min_length=1, max_length=len(EventType))
    include_notes: bool | None = None
    active: bool | None = None
    description: str | None = Field(None, max_length=500)

    @field_validator("event_types")
    @classmethod
    def _unique(cls, values: list[EventType] | None) -> list[EventType] | None:
        return None if values is None else _event_types(values)


class SubscriptionPublic(BaseModel):
    id: int
    url: str
    event_types: list[str]
    include_notes: bool
    active: bool
    description: str | None
    rotating: bool = Field(description="the previous secret still signs too")
    previous_secret_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime


class SubscriptionWithSecret(SubscriptionPublic):
    secret: str = Field(description="Shown this once: store it to verify signatures")


class SubscriptionList(BaseModel):
    items: list[SubscriptionPublic]
    next_cursor: str | None = None


class DeliveryPublic(BaseModel):
    delivery_id: str
    event_id: str
    event_type: str
    ticket: str | None
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    sent_at: datetime | None
    redelivered_at: datetime | None
    created_at: datetime


class DeliveryList(BaseModel):
    items: list[DeliveryPublic]
    next_cursor: str | None
