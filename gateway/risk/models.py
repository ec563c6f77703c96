"""Risk: each exchange account's current signals and score, and reports of suspicious
accounts with their review.

`risk_account` is a materialised view kept by `gateway.risk.service.refresh`: rows are
recomputed for the accounts an order fact or a case link touches, in that transaction,
so a new ring shows at once without a nightly batch.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from gateway.db import JSONType, UTCDateTime, utcnow


class ReportStatus(enum.StrEnum):
    open = "open"
    confirmed = "confirmed"
    dismissed = "dismissed"


class RiskAccount(SQLModel, table=True):
    __tablename__ = "risk_account"
    __table_args__ = (sa.Index("ix_risk_account_score", "score", "user_id"),)

    user_id: str = Field(sa_type=sa.String(200), primary_key=True)
    score: float = 0.0
    # [{"kind", "weight", "sentence", "cases": [case ids], "orders": [order refs]}]
    signals: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType, nullable=False)
    # A risk reviewer confirmed a report: routing treats the account as over the threshold
    # and its customer as flagged `watchlist`.
    watchlisted: bool = False
    watchlisted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Signal kind -> how many dismissed reports named it (each lowers its weight).
    dismissals: dict[str, int] = Field(default_factory=dict, sa_type=JSONType, nullable=False)
    computed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class RiskIdentityLink(SQLModel, table=True):
    """One channel address (a Telegram user, an email) seen proving two exchange ids."""

    __tablename__ = "risk_identity_link"
    __table_args__ = (
        sa.UniqueConstraint("channel", "address", "user_id", "linked_user_id", name="uq_risk_link"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(sa_type=sa.String(16))
    address: str = Field(sa_type=sa.String(320))
    user_id: str = Field(sa_type=sa.String(200), index=True)
    linked_user_id: str = Field(sa_type=sa.String(200), index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class RiskReport(SQLModel, table=True):
    __tablename__ = "risk_report"

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(sa_type=sa.String(200), index=True)
    reason: str = Field(sa_type=sa.Text)
    case_ids: list[int] = Field(default_factory=list, sa_type=JSONType, nullable=False)
    # The signals and score when reported: what a dismissal lowers.
    signals: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType, nullable=False)
    score: float = 0.0
    ticket_id: int = Field(foreign_key="ticket.id")
    reported_by: int = Field(foreign_key="agent.id")
    status: str = Field(default=ReportStatus.open, sa_type=sa.String(10))
    # How it reached the exchange's risk system: webhook, email or none.
    sent_via: str = Field(default="none", sa_type=sa.String(8))
    reviewed_by: int | None = Field(default=None, foreign_key="agent.id")
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    review_note: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
