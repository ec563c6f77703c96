"""The transactional outbox: one row per reply to deliver, and every attempt made."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from gateway.db import JSONType, UTCDateTime, utcnow


class OutboxState(enum.StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"  # the channel refused for good
    dead = "dead"  # attempts used up


# The row's life: pending until a send succeeds, is refused, or runs out of attempts
# (a retry stays pending); a sent email can still bounce, which fails it afterwards.
# failed and dead are final. `move` is the only way a row changes state, and
# `repository.mark_sent` applies the same table to a batch in SQL.
NEXT_STATES: dict[OutboxState, frozenset[OutboxState]] = {
    OutboxState.pending: frozenset({OutboxState.sent, OutboxState.failed, OutboxState.dead}),
    OutboxState.sent: frozenset({OutboxState.failed}),
    OutboxState.failed: frozenset(),
    OutboxState.dead: frozenset(),
}


class Outbox(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (
        sa.Index(
            "ix_outbox_due",
            "next_attempt_at",
            "id",
            postgresql_where=sa.text("state = 'pending'"),
            sqlite_where=sa.text("state = 'pending'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id", unique=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    channel: str = Field(sa_type=sa.String(16))
    # Set for a notice to a desk member (an agent's email, a Telegram chat id): the row
    # goes there instead of to the ticket's customer, outside the customer's thread.
    recipient: str | None = Field(default=None, sa_type=sa.String(320))
    state: str = Field(default=OutboxState.pending, sa_type=sa.String(10))
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    leased_by: str | None = Field(default=None, sa_type=sa.String(100))
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # What a delivery in several parts already sent (the Telegram message ids of a long
    # reply's parts): a retry after a failure or a crash continues after them.
    progress: list[int] | None = Field(default=None, sa_type=JSONType)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class DeliveryAttempt(SQLModel, table=True):
    __tablename__ = "delivery_attempt"

    id: int | None = Field(default=None, primary_key=True)
    outbox_id: int = Field(foreign_key="outbox.id", index=True)
    attempt: int
    worker: str = Field(sa_type=sa.String(100))
    # sent, retry, failed, dead
    result: str = Field(sa_type=sa.String(10))
    error: str | None = Field(default=None, sa_type=sa.Text)
    started_at: datetime = Field(sa_type=UTCDateTime)
    finished_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def move(row: Outbox, to: OutboxState) -> bool:
    """Move the row to `to` if its state allows it; whether it moved."""
    if to not in NEXT_STATES[OutboxState(row.state)]:
        return False
    row.state = to
    return True
