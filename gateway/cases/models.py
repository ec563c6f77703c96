"""Dispute cases: one per disputed order, linking both parties' tickets, with evidence,
evidence requests, case-wide notes and decisions.

Shaped for loss figures and risk signals to build on: a case names its order (and so
the order facts), every linked ticket carries the party and the exchange user id that
party proved, and every decision is its own row (appeals keep the history).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from gateway.db import UTCDateTime, utcnow

CASE_REF_PREFIX = "C-"


class CaseStatus(enum.StrEnum):
    open = "open"
    decided = "decided"
    appealed = "appealed"  # open again, linked to the decision that was appealed


class Party(enum.StrEnum):
    buyer = "buyer"
    seller = "seller"
    unknown = "unknown"  # not (yet) verified as either; an agent can say which


class LinkSource(enum.StrEnum):
    intake = "intake"  # the ticket named the order
    agent = "agent"  # linked by hand


class PartySource(enum.StrEnum):
    verified = "verified"  # the channel proved the exchange user id (widget HMAC, /start)
    agent = "agent"  # an agent said so
    none = "none"


class EvidenceKind(enum.StrEnum):
    image = "image"
    video = "video"
    pdf = "pdf"
    other = "other"


class ReviewState(enum.StrEnum):
    pending = "pending"
    accepted = "accepted"
    rejected = "rejected"


class DecisionOutcome(enum.StrEnum):
    release_to_buyer = "release_to_buyer"
    return_to_seller = "return_to_seller"
    cancel_order = "cancel_order"
    no_action = "no_action"
    referred_to_risk = "referred_to_risk"


def case_ref(case_id: int) -> str:
    return f"{CASE_REF_PREFIX}{case_id}"


def parse_case_ref(ref: str) -> int | None:
    """`C-12` or `12` -> 12; anything else -> None."""
    ref = ref.strip().upper()
    if ref.startswith(CASE_REF_PREFIX):
        ref = ref[len(CASE_REF_PREFIX) :]
    if not ref.isdigit() or len(ref) > 18:
        return None
    return int(ref)


def _created() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class DisputeCase(SQLModel, table=True):
    __tablename__ = "dispute_case"
    __table_args__ = (sa.Index("ix_dispute_case_status_opened", "status", "opened_at"),)

    id: int | None = Field(default=None, primary_key=True)
    # One case per disputed order; an appeal reopens the same case.
    order_ref: str = Field(sa_type=sa.String(100), unique=True)
    status: str = Field(default=CaseStatus.open, sa_type=sa.String(12))
    opened_at: datetime = _created()
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = _created()

    @property
    def ref(self) -> str:
        assert self.id is not None
        return case_ref(self.id)


class CaseTicket(SQLModel, table=True):
    """A ticket in a case. An unlinked ticket keeps its row (`unlinked_at`), so intake
    does not link it again behind the agent's back."""

    __tablename__ = "case_ticket"
    __table_args__ = (
        sa.UniqueConstraint("case_id", "ticket_id", name="uq_case_ticket_case_ticket"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="dispute_case.id", index=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    party: str = Field(default=Party.unknown, sa_type=sa.String(8))
    party_source: str = Field(default=PartySource.none, sa_type=sa.String(8))
    # The exchange user id behind the ticket when verified (risk signals read it).
    party_user_id: str | None = Field(default=None, sa_type=sa.String(200), index=True)
    linked_by: str = Field(default=LinkSource.intake, sa_type=sa.String(8))
    linked_at: datetime = _created()
    unlinked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CaseNote(SQLModel, table=True):
    """A note on the whole case (both sides); never sent to anyone."""

    __tablename__ = "case_note"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="dispute_case.id", index=True)
    author_agent_id: int = Field(foreign_key="agent.id")
    text: str = Field(sa_type=sa.Text)
    created_at: datetime = _created()


class Evidence(SQLModel, table=True):
    """A file a party sent on a case ticket. Bytes stay in the blob store under their
    sha256; `sha256`, `size` and `mime` are filled once the bytes are stored (Telegram
    files arrive a moment after their message)."""

    __tablename__ = "evidence"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="dispute_case.id", index=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    message_id: int = Field(foreign_key="message.id")
    attachment_id: int = Field(foreign_key="attachment.id", unique=True)
    party: str = Field(sa_type=sa.String(8))
    uploader: str = Field(sa_type=sa.String(320))
    channel: str = Field(sa_type=sa.String(16))
    filename: str = Field(sa_type=sa.String(255))
    declared_type: str = Field(sa_type=sa.String(255))
    sha256: str | None = Field(default=None, sa_type=sa.String(64))
    size: int | None = None
    # Recognised from the bytes, never from the name or the declared type.
    mime: str | None = Field(default=None, sa_type=sa.String(100))
    kind: str = Field(default=EvidenceKind.other, sa_type=sa.String(8))
    received_at: datetime = _created()
    review_state: str = Field(default=ReviewState.pending, sa_type=sa.String(10))
    review_reason: str | None = Field(default=None, sa_type=sa.String(2000))
    reviewed_by: int | None = Field(default=None, foreign_key="agent.id")
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class EvidenceRequest(SQLModel, table=True):
    """An agent asked a party for evidence by a deadline; fulfilled by that party's next
    file on the case, breached when the deadline passes first."""

    __tablename__ = "evidence_request"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="dispute_case.id", index=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    party: str = Field(sa_type=sa.String(8))
    message_id: int = Field(foreign_key="message.id")
    what: str = Field(sa_type=sa.String(2000))
    deadline_at: datetime = Field(sa_type=UTCDateTime)
    requested_by: int = Field(foreign_key="agent.id")
    created_at: datetime = _created()
    fulfilled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    fulfilled_by_evidence_id: int | None = Field(default=None, foreign_key="evidence.id")


class CaseDecision(SQLModel, table=True):
    __tablename__ = "case_decision"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="dispute_case.id", index=True)
    outcome: str = Field(sa_type=sa.String(20))
    reason: str = Field(sa_type=sa.Text)
    decided_by: int = Field(foreign_key="agent.id")
    decided_at: datetime = _created()
    appeal_until: datetime = Field(sa_type=UTCDateTime)
    appealed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    appealed_by_party: str | None = Field(default=None, sa_type=sa.String(8))
    appeal_reason: str | None = Field(default=None, sa_type=sa.Text)
