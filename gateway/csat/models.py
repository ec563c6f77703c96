"""One survey per resolution of a ticket, and the customer's answer to it."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from gateway.db import UTCDateTime, utcnow


class CsatSurvey(SQLModel, table=True):
    """Asked when a ticket was resolved; the answer counts for that resolution even if
    the ticket reopened since. Agent, queue, language and channel are those of the
    resolution, so a later transfer does not move the rating."""

    __tablename__ = "csat_survey"
    __table_args__ = (
        sa.UniqueConstraint("ticket_id", "resolved_at", name="uq_csat_survey_resolution"),
        sa.Index("ix_csat_survey_customer_sent", "customer_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # The links' and buttons' id: random, so survey ids cannot be guessed from refs.
    token: str = Field(sa_type=sa.String(32), unique=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    resolved_at: datetime = Field(sa_type=UTCDateTime)
    customer_id: int = Field(foreign_key="customer.id")
    agent_id: int | None = Field(default=None, foreign_key="agent.id")
    queue_id: int = Field(foreign_key="queue.id")
    language: str = Field(sa_type=sa.String(16))
    channel: str = Field(sa_type=sa.String(16))
    message_id: int | None = Field(default=None, foreign_key="message.id")
    rating: int | None = None
    comment: str | None = Field(default=None, sa_type=sa.Text)
    # Telegram asks for the comment in a message of its own (with a Skip button); until
    # `comment_until` the customer's next text there is the comment, not a ticket message.
    comment_message_id: int | None = Field(default=None, foreign_key="message.id")
    comment_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The source id of the message taken as the comment: a redelivered update is
    # recognised and not stored a second time as a ticket message.
    comment_external_id: str | None = Field(default=None, sa_type=sa.Text)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True
    )
