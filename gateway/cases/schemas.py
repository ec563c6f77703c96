"""Request and response bodies of the case routes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.cases.models import CaseStatus, DecisionOutcome, Party
from gateway.orders.schemas import ORDER_REF_PATTERN, OrderFactsPublic
from gateway.reports.schemas import LossIn, LossPublic
from gateway.tickets.schemas import MessagePublic, ReplyAttachment, TicketSummary
from gateway.validation import InboundModel

TICKET_PATTERN = r"^[Dd]-\d{1,18}$"
TICKET_REF = Field(min_length=3, max_length=24, pattern=TICKET_PATTERN)
# Which of the case's tickets, when not simply the party's newest.
SOME_TICKET = Field(default=None, min_length=3, max_length=24, pattern=TICKET_PATTERN)
SpokenParty = Literal["buyer", "seller"]


class CaseTicketPublic(TicketSummary):
    party: Party
    party_source: str
    party_user_id: str | None
    linked_by: str
    linked_at: datetime


class PartySide(BaseModel):
    party: Party
    user_id: str | None = Field(description="The exchange user id, from the order facts")
    tickets: list[CaseTicketPublic]


class EvidencePublic(BaseModel):
    id: int
    ticket: str
    party: Party
    uploader: str
    channel: str
    filename: str
    declared_type: str
    sha256: str | None
    size: int | None
    mime: str | None = Field(description="Recognised from the bytes")
    kind: str
    received_at: datetime
    file_state: str = Field(description="stored, or pending while the channel fetches it")
    review_state: str
    review_reason: str | None
    reviewed_by: str | None
    reviewed_at: datetime | None


class DeadlinePublic(BaseModel):
    kind: Literal["evidence_request", "payment", "appeal"]
    party: Party | None
    due_at: datetime
    state: Literal["open", "met", "breached", "expired"]
    request_id: int | None = None
    what: str | None = None


class DecisionPublic(BaseModel):
    id: int
    outcome: DecisionOutcome
    reason: str
    decided_by: str
    decided_at: datetime
    appeal_until: datetime
    appealed_at: datetime | None
    appealed_by_party: str | None
    appeal_reason: str | None
    loss: LossPublic | None = Field(
        default=None, description="Loss figures set with this decision (the case's current)"
    )


class NotePublic(BaseModel):
    id: int
    author: str
    text: str
    created_at: datetime


class TimelineItem(BaseModel):
    at: datetime
    kind: Literal["message", "note", "evidence", "evidence_request", "decision", "appeal"]
    ticket: str | None = None
    party: Party | None = None
    direction: str | None = None
    author: str | None = None
    text: str | None = None
    channel: str | None = None
    message_id: int | None = None
    evidence_id: int | None = None
    request_id: int | None = None
    decision_id: int | None = None


class CaseSummary(BaseModel):
    id: int
    ref: str
    order_ref: str
    status: CaseStatus
    opened_at: datetime
    decided_at: datetime | None
    updated_at: datetime
    buyer_user_id: str | None
    seller_user_id: str | None
    tickets: list[str]


class CasePublic(CaseSummary):
    order: OrderFactsPublic | None
    parties: list[PartySide]
    timeline: list[TimelineItem]
    evidence: list[EvidencePublic]
    evidence_requests: list[DeadlinePublic]
    deadlines: list[DeadlinePublic]
    decisions: list[DecisionPublic]
    notes: list[NotePublic]


class CaseList(BaseModel):
    items: list[CaseSummary]
    next_cursor: str | None


class CaseCreate(InboundModel):
    model_config = ConfigDict(extra="forbid")
    order_ref: str = Field(pattern=ORDER_REF_PATTERN)
    ticket: str = TICKET_REF
    party: Party | None = None


class LinkBody(InboundModel):
    model_config = ConfigDict(extra="forbid")
    ticket: str = TICKET_REF
    party: Party | None = Field(default=None, description="Say which side; else from facts")


class CaseReplyBody(InboundModel):
    model_config = ConfigDict(extra="forbid")
    party: SpokenParty | None = None
    ticket: str | None = SOME_TICKET
    text: str = Field(min_length=1)
    attachments: list[ReplyAttachment] = Field(default_factory=list)


class CaseReply(BaseModel):
    ticket: str
    party: Party
    message: MessagePublic


class CaseNoteBody(InboundModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1)


class ReviewBody(InboundModel):
    model_config = ConfigDict(extra="forbid")
    state: Literal["accepted", "rejected", "pending"]
    reason: str | None = Field(default=None, max_length=2000)


class EvidenceRequestBody(InboundModel):
    model_config = ConfigDict(extra="forbid")
    party: SpokenParty | None = None
    ticket: str | None = SOME_TICKET
    what: str = Field(min_length=1, max_length=2000, description="What to send, in words")
    deadline_hours: float | None = Field(default=None, gt=0, description="Default: settings")


class DecisionBody(InboundModel):
    model_config = ConfigDict(extra="forbid")
    outcome: DecisionOutcome
    reason: str = Field(min_length=1, max_length=10000, description="On record; not sent")
    loss: LossIn | None = Field(
        default=None,
        description="Loss figures (amounts in the order's currency); audited, reported",
    )


class AppealBody(InboundModel):
    model_config = ConfigDict(extra="forbid")
    party: SpokenParty
    reason: str = Field(min_length=1, max_length=10000)


class DecisionResult(BaseModel):
    decision: DecisionPublic
    told: list[str] = Field(description="Tickets the decision was sent to")
    not_told: list[str] = Field(
        default_factory=list, description="Tickets of unknown party: not sent the decision"
    )
