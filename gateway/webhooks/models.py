"""Webhook subscribers and the deliveries owed to them.

A `WebhookDelivery` is the outbox row of a webhook: written in the transaction that
made the change, leased and sent by the delivery worker, retried, dead after the last
attempt. Its `delivery_id` is the `X-Parley-Delivery` header, the same on every retry
and redelivery, so a receiver can drop a repeat.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from gateway.db import JSONType, UTCDateTime, utcnow


class EventType(enum.StrEnum):
    ticket_created = "ticket.created"
    ticket_updated = "ticket.updated"
    message_created = "message.created"
    ticket_escalated = "ticket.escalated"
    sla_warning = "sla.warning"
    sla_breached = "sla.breached"
    case_decided = "case.decided"
    risk_report_created = "risk.report_created"
    csat_received = "csat.received"


class DeliveryStatus(enum.StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"  # the receiver refused for good (a 4xx other than 429), or SSRF
    dead = "dead"  # attempts used up


class WebhookSubscription(SQLModel, table=True):
    __tablename__ = "webhook_subscription"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(sa_type=sa.String(2000))
    event_types: list[str] = Field(default_factory=list, sa_type=JSONType, nullable=False)
    # message.created for private notes only when asked: notes are the desk's own words.
    include_notes: bool = False
    active: bool = True
    description: str | None = Field(default=None, sa_type=sa.String(500))
    # The signing secret must be readable to sign with; it is shown to the admin once.
    secret: str = Field(sa_type=sa.String(200))
    # During a rotation the previous secret signs too, until it expires.
    previous_secret: str | None = Field(default=None, sa_type=sa.String(200))
    previous_secret_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by: int | None = Field(default=None, foreign_key="agent.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class WebhookDelivery(SQLModel, table=True):
    __tablename__ = "webhook_delivery"
    __table_args__ = (
        sa.Index(
            "ix_webhook_delivery_due",
            "next_attempt_at",
            "id",
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        ),
        sa.Index("ix_webhook_delivery_order", "subscription_id", "order_key", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: str = Field(sa_type=sa.String(36), unique=True)
    subscription_id: int = Field(foreign_key="webhook_subscription.id", index=True)
    event_id: str = Field(sa_type=sa.String(36), index=True)
    event_type: str = Field(sa_type=sa.String(40))
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    # Deliveries to one subscriber with the same key go out one at a time, oldest
    # first: `ticket:<id>` keeps a ticket's events in order.
    order_key: str = Field(sa_type=sa.String(64))
    # The exact bytes sent: serialised once, so every retry carries the same body.
    body: str = Field(sa_type=sa.Text)
    status: str = Field(default=DeliveryStatus.pending, sa_type=sa.String(10))
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    leased_by: str | None = Field(default=None, sa_type=sa.String(100))
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    redelivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class WebhookAttempt(SQLModel, table=True):
    """Every try of a delivery: what the receiver answered, so a dead one explains itself."""

    __tablename__ = "webhook_attempt"

    id: int | None = Field(default=None, primary_key=True)
    delivery_pk: int = Field(foreign_key="webhook_delivery.id", index=True)
    attempt: int
    worker: str = Field(sa_type=sa.String(100))
    # sent, retry, failed, dead, stale
    result: str = Field(sa_type=sa.String(10))
    status_code: int | None = None
    error: str | None = Field(default=None, sa_type=sa.Text)
    started_at: datetime = Field(sa_type=UTCDateTime)
    finished_at: datetime = Field(sa_type=UTCDateTime)
