"""Customers, their channel identities, tickets, messages, attachments, audit trail."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm
from sqlmodel import Field, SQLModel

from gateway.db import JSONType, UTCDateTime, empty_dict, empty_list, utcnow
from gateway.text import parse_id

TICKET_REF_PREFIX = "D-"
# The channel of tickets the desk opens about someone (a risk report): no customer
# receives anything on it.
INTERNAL_CHANNEL = "internal"


class TicketStatus(enum.StrEnum):
    new = "new"
    open = "open"
    pending_customer = "pending_customer"
    escalated = "escalated"
    resolved = "resolved"
    closed = "closed"


# The status sets, defined here only. Open: still being worked (not resolved or closed).
OPEN_STATUSES: tuple[TicketStatus, ...] = (
    TicketStatus.new,
    TicketStatus.open,
    TicketStatus.pending_customer,
    TicketStatus.escalated,
)
# Claimable: an agent can take it now (pending_customer waits on the customer).
CLAIMABLE_STATUSES: tuple[TicketStatus, ...] = (
    TicketStatus.new,
    TicketStatus.open,
    TicketStatus.escalated,
)
# The claim index's predicate, spelled from the set above (it must match the
# migration's text exactly, which tests/gateway/test_migrations.py checks).
CLAIMABLE_PREDICATE = "assignee_id IS NULL AND status IN ({})".format(
    ",".join(f"'{s}'" for s in CLAIMABLE_STATUSES)
)


class Severity(enum.StrEnum):
    critical = "critical"
    high = "high"
    normal = "normal"
    low = "low"


# Sort key: lower is more urgent. Stored beside severity so a claim can ORDER BY it.
SEVERITY_RANK = {Severity.critical: 0, Severity.high: 1, Severity.normal: 2, Severity.low: 3}


class Category(enum.StrEnum):
    crypto_not_released = "crypto_not_released"
    payment_not_received = "payment_not_received"
    amount_mismatch = "amount_mismatch"
    cancelled_after_payment = "cancelled_after_payment"
    third_party_payment = "third_party_payment"
    bank_account_frozen = "bank_account_frozen"
    chargeback = "chargeback"
    fraud_or_scam = "fraud_or_scam"
    account_takeover = "account_takeover"
    account_frozen = "account_frozen"
    other = "other"


class Direction(enum.StrEnum):
    inbound = "inbound"
    outbound = "outbound"
    note = "note"


class DeliveryState(enum.StrEnum):
    received = "received"  # inbound, stored
    pending = "pending"  # outbound, waiting in the outbox
    sent = "sent"
    failed = "failed"  # the channel said no for good (bounce, blocked bot)
    dead = "dead"  # every attempt used up
    internal = "internal"  # a note: never leaves the desk


class ActorType(enum.StrEnum):
    customer = "customer"
    agent = "agent"
    system = "system"


def ticket_ref(ticket_id: int) -> str:
    return f"{TICKET_REF_PREFIX}{ticket_id}"


def parse_ticket_ref(ref: str) -> int | None:
    """`D-1042` -> 1042; anything else -> None (so lookups never raise on junk)."""
    ref = ref.strip().upper()
    if not ref.startswith(TICKET_REF_PREFIX):
        return None
    return parse_id(ref[len(TICKET_REF_PREFIX) :])


def _str(length: int, **kw: Any) -> Any:
    return Field(sa_type=sa.String(length), **kw)


def _created() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class Customer(SQLModel, table=True):
    __tablename__ = "customer"

    id: int | None = Field(default=None, primary_key=True)
    display_name: str | None = _str(200, default=None)
    email: str | None = _str(320, default=None, index=True)
    # The exchange's own account id, known once an identity proved it (widget HMAC,
    # signed Telegram /start token). Links one person's channels into one customer.
    exchange_user_id: str | None = _str(200, default=None, unique=True)
    # Set by an agent; wins over detection from then on.
    language: str | None = _str(16, default=None)
    flags: dict[str, Any] = Field(default_factory=empty_dict, sa_type=JSONType, nullable=False)
    created_at: datetime = _created()

    def contact_address(self, channel: str) -> str | None:
        """Where the customer can be reached on a channel they have not written from:
        the email address they left (the widget asks for one), else nowhere."""
        return self.email if channel == "email" else None


class ChannelIdentity(SQLModel, table=True):
    __tablename__ = "channel_identity"
    __table_args__ = (sa.UniqueConstraint("channel", "address", name="uq_channel_identity"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    channel: str = _str(16)
    address: str = _str(320)
    display_name: str | None = _str(200, default=None)
    verified: bool = False
    # The customer blocked us (Telegram kicked, hard bounce): replies fail at once.
    unreachable: bool = False
    language_hint: str | None = _str(16, default=None)
    created_at: datetime = _created()


class Ticket(SQLModel, table=True):
    __tablename__ = "ticket"
    __table_args__ = (
        # The claim: unassigned tickets of a queue, most urgent first.
        sa.Index(
            "ix_ticket_claim",
            "queue_id",
            "severity_rank",
            "first_response_due",
            "id",
            postgresql_where=sa.text(CLAIMABLE_PREDICATE),
            sqlite_where=sa.text(CLAIMABLE_PREDICATE),
        ),
        sa.Index("ix_ticket_customer_thread", "customer_id", "channel", "thread_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    identity_id: int = Field(foreign_key="channel_identity.id")
    channel: str = _str(16)
    thread_key: str | None = _str(320, default=None)
    subject: str | None = _str(998, default=None)
    status: str = _str(20, default=TicketStatus.new)
    severity: str = _str(10, default=Severity.normal)
    severity_rank: int = Field(default=SEVERITY_RANK[Severity.normal])
    language: str | None = _str(16, default=None)
    category: str = _str(40, default=Category.other)
    order_ref: str | None = _str(100, default=None)
    amount: Decimal | None = Field(default=None, sa_type=sa.Numeric(38, 8))
    currency: str | None = _str(16, default=None)
    queue_id: int = Field(foreign_key="queue.id", index=True)
    assignee_id: int | None = Field(default=None, foreign_key="agent.id", index=True)
    assigned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Last time the assignee acted on the ticket; a claim untouched past the lease while
    # the customer still waits for a first answer goes back to the queue.
    agent_touched_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    escalation_level: int = 0
    routing_reasons: list[str] = Field(default_factory=empty_list, sa_type=JSONType, nullable=False)
    # How sure routing was (0..1); below the triage threshold the next customer message
    # routes the ticket again while nobody holds it. None: not routed yet.
    routing_confidence: float | None = None
    # Raised for a supervisor: a reply that could not be delivered, a blocked customer.
    needs_attention: bool = False
    attention_reason: str | None = _str(500, default=None)
    parent_ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    first_response_due: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolution_due: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Kept by gateway/sla: the open next-response cycle's due time, the one-word state
    # (none, active, warning, paused, breached, fulfilled), the policy that applies, and
    # when the SLA worker must look at the ticket next (NULL: nothing pending).
    next_response_due: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sla_state: str = _str(16, default="none")
    sla_policy: str | None = _str(100, default=None)
    sla_check_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    first_responded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_customer_message_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = _created()
    updated_at: datetime = _created()

    @property
    def ref(self) -> str:
        assert self.id is not None
        return ticket_ref(self.id)


class Message(SQLModel, table=True):
    __tablename__ = "message"
    __table_args__ = (sa.UniqueConstraint("channel", "external_id", name="uq_message_external"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    channel: str = _str(16)
    # The source's id; for our own replies a generated one (an email's Message-ID).
    external_id: str | None = _str(998, default=None)
    direction: str = _str(10)
    author_type: str = _str(10)
    author_agent_id: int | None = Field(default=None, foreign_key="agent.id")
    text: str = Field(sa_type=sa.Text)
    html: str | None = Field(default=None, sa_type=sa.Text)
    subject: str | None = _str(998, default=None)
    language: str | None = _str(16, default=None)
    delivery_state: str = _str(10)
    provider_id: str | None = _str(200, default=None)
    raw_blob_key: str | None = _str(100, default=None)
    edited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = _created()


def written_after_ticket(model: type[SQLModel]) -> None:
    """Have the unit of work insert `model`'s rows after their ticket's when both are in
    one flush (intake inserts a new ticket with its message, audit and SLA rows): it
    orders tables by relationships only. The relationship orders, nothing else: never
    set, never loaded."""
    table: sa.Table = model.__table__  # type: ignore[attr-defined]
    orm.class_mapper(model).add_property(
        "_written_after_ticket",
        orm.relationship(Ticket, lazy="raise", foreign_keys=[table.c.ticket_id]),
    )


written_after_ticket(Message)


class Attachment(SQLModel, table=True):
    __tablename__ = "attachment"

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id", index=True)
    filename: str = _str(255)
    content_type: str = _str(255)
    size: int | None = None
    sha256: str | None = _str(64, default=None)
    blob_key: str | None = _str(100, default=None)
    # Where the channel can fetch it (Telegram file_id) while blob_key is still empty.
    source_ref: str | None = _str(500, default=None)
    # stored, pending (to fetch), too_large, failed
    state: str = _str(16, default="stored")
    inline: bool = False
    created_at: datetime = _created()


class DeadLetter(SQLModel, table=True):
    """Inbound input set aside instead of stored as a message, with the reason.

    Auto-replies and bounces (reason `auto_reply`, `bounce`), mail that cannot be
    parsed (`unparseable`, with the error). The raw bytes stay in the blob store so an
    operator can run it again.
    """

    __tablename__ = "dead_letter"

    id: int | None = Field(default=None, primary_key=True)
    channel: str = _str(16)
    external_id: str | None = _str(998, default=None)
    reason: str = _str(32)
    error: str | None = Field(default=None, sa_type=sa.Text)
    raw_blob_key: str | None = _str(100, default=None)
    sender: str | None = _str(320, default=None)
    retried_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_message_id: int | None = Field(default=None, foreign_key="message.id")
    created_at: datetime = _created()
