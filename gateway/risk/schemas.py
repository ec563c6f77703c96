"""Request and response bodies of the risk routes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from gateway.risk.models import ReportStatus
from gateway.validation import InboundModel

USER_ID_PATTERN = r"^[^\x00-\x1f\x7f]+$"


class CaseBehind(BaseModel):
    id: int
    ref: str
    order_ref: str
    status: str
    opened_at: datetime


class SignalPublic(BaseModel):
    kind: str
    weight: float
    sentence: str
    cases: list[CaseBehind]
    orders: list[str] = Field(description="Order refs behind the signal (at most 20)")


class AccountSummary(BaseModel):
    user_id: str
    score: float
    watchlisted: bool
    signals: list[str] = Field(description="Kinds of the signals, strongest first")
    computed_at: datetime


class AccountList(BaseModel):
    items: list[AccountSummary]
    next_cursor: str | None


class ReportPublic(BaseModel):
    id: int
    user_id: str
    reason: str
    cases: list[str]
    score: float
    ticket: str
    reported_by: str
    status: ReportStatus
    sent_via: str = Field(description="How it reached the risk system: webhook, email or none")
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_note: str | None
    created_at: datetime


class AccountPublic(BaseModel):
    user_id: str
    score: float
    watchlisted: bool
    watchlisted_at: datetime | None
    route_threshold: float
    above_threshold: bool
    signals: list[SignalPublic]
    dismissals: dict[str, int]
    reports: list[ReportPublic]
    computed_at: datetime


class ReportCreate(InboundModel):
    model_config = ConfigDict(extra="forbid")

    user_id: str = Field(min_length=1, max_length=200, pattern=USER_ID_PATTERN)
    reason: str = Field(min_length=3, max_length=4000)
    cases: list[str] = Field(
        default_factory=list, max_length=50, description="Case ids or refs (`C-12`)"
    )


class ReviewBody(InboundModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=3, max_length=4000)
