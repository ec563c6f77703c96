"""Bodies of /api/v1/admin/canned."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gateway.canned.placeholders import unknown_placeholders
from gateway.tickets.models import Category
from gateway.validation import InboundModel

Language = Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,8})?$")]
Body = Annotated[str, Field(min_length=1, max_length=20_000)]


class CannedFields(InboundModel):
    model_config = ConfigDict(extra="forbid")
    category: Category | None = Field(
        default=None, description="Offered on tickets of this category; null: on every ticket"
    )
    bodies: dict[Language, Body] = Field(
        description="Language -> text with {customer_name} {order_ref} {amount} "
        "{agent_name} {deadline}; English ('en') is required, it is the fallback",
        min_length=1,
        max_length=50,
    )

    @field_validator("bodies")
    @classmethod
    def english_and_known_placeholders(cls, bodies: dict[str, str]) -> dict[str, str]:
        if "en" not in bodies:
            raise ValueError("an English ('en') body is required: it is the fallback")
        for lang, body in bodies.items():
            unknown = unknown_placeholders(body)
            if unknown:
                raise ValueError(f"{lang}: unknown placeholders {', '.join(sorted(unknown))}")
        return bodies


class CannedCreate(CannedFields):
    name: str = Field(min_length=1, max_length=100)


class CannedUpdate(CannedFields):
    name: str | None = Field(default=None, min_length=1, max_length=100)


class CannedPublic(BaseModel):
    id: int
    name: str
    category: Category | None
    bodies: dict[str, str]
    created_at: datetime
    updated_at: datetime


class CannedList(BaseModel):
    items: list[CannedPublic]
    next_cursor: str | None = None
