"""The boundary between channels and the core: what comes in, what goes out.

A channel turns its source's input into an `InboundMessage` or `Ignored` with its
`normalise(raw)` (pure, no I/O) and hands the message to the intake port; the delivery
worker hands its adapter an `OutboundMessage` and `deliver()` sends it.

Besides the shapes, the narrow ports a channel is handed at install (`ChannelPorts`):
intake (ingest, set aside, edits, attachments, choices), identity reads, history reads,
the outbox, a key-value state store and wake-ups. A channel imports this module and the
shared leaf modules (gateway.text, gateway.settings, ...) and nothing else of the core
(pyproject.toml's import contracts); the composition roots (gateway/app.py,
gateway/__main__.py) hand it the core's implementation (gateway/channel_ports.py).
Port methods take the caller's session, the unit of work the channel commits; they
flush and never commit. Nothing in here touches the database.
"""

from __future__ import annotations

import argparse
import asyncio
import enum
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # kept out of the import: a channel's pure modules stay light
    from fastapi import APIRouter
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from gateway.blobs import BlobStore
    from gateway.clock import Clock
    from gateway.settings import Settings


class Channel(enum.StrEnum):
    email = "email"
    telegram = "telegram"
    webchat = "webchat"


@dataclass(frozen=True, slots=True)
class InboundAttachment:
    """A file that came with a message.

    Either `data` holds the bytes (email, webchat upload) or `source_ref` names where the
    channel can fetch them later (a Telegram file_id); `blob_key` is set when the bytes are
    already in the blob store.
    """

    filename: str
    content_type: str
    size: int | None = None
    data: bytes | None = None
    source_ref: str | None = None
    blob_key: str | None = None
    sha256: str | None = None
    inline: bool = False


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One customer message, normalised from any channel.

    `external_id` is the source's stable id (Message-ID, `<chat>:<message>` for Telegram,
    the widget's client_id): the same id from the same channel is stored once.
    `sender` is the channel address (email address, Telegram user id, visitor id).

    Threading hints, tried by ingest in this order:
    `reply_to_ids` (external ids this message answers, e.g. In-Reply-To + References),
    `ticket_ref` (a `D-<n>` token the channel found, honoured only for that ticket's own
    customer), then `thread_key` (the customer's open ticket with the same key on the same
    channel; None means no implicit threading: a new ticket).
    """

    channel: Channel
    external_id: str
    sender: str
    text: str
    sender_name: str | None = None
    subject: str | None = None
    html: str | None = None
    received_at: datetime | None = None
    thread_key: str | None = None
    reply_to_ids: tuple[str, ...] = ()
    ticket_ref: str | None = None
    language_hint: str | None = None
    # An identity the channel has verified: the exchange's user id (widget HMAC, signed
    # Telegram /start token) or an email address the customer proved they own.
    verified_user_id: str | None = None
    contact_email: str | None = None
    attachments: tuple[InboundAttachment, ...] = ()
    raw_blob_key: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OutboundAttachment:
    filename: str
    content_type: str
    blob_key: str
    size: int


@dataclass(frozen=True, slots=True)
class Choice:
    """A one-tap answer offered with a message (a satisfaction rating): Telegram shows it
    as an inline keyboard button, the widget as a button; `value` comes back when tapped."""

    label: str
    value: str


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One agent reply to deliver, built by the worker from an outbox row.

    `idempotency_key` is stable across retries of the same outbox row (an email's
    Message-ID is derived from it, so a resend after a crash carries the same id).
    `thread_ids` are the external ids of the ticket's earlier messages on this channel,
    oldest first (email uses them for In-Reply-To and References).
    """

    outbox_id: int
    message_id: int
    ticket_ref: str
    channel: Channel
    recipient: str
    text: str
    idempotency_key: str
    subject: str | None = None
    html: str | None = None
    recipient_name: str | None = None
    thread_ids: tuple[str, ...] = ()
    attachments: tuple[OutboundAttachment, ...] = ()
    language: str | None = None
    amount: Decimal | None = None
    choices: tuple[Choice, ...] = ()


@dataclass(frozen=True, slots=True)
class DeliveryReceipt:
    """What the channel says it delivered: its own id for the message, if it has one."""

    provider_id: str | None = None


class DeliveryError(Exception):
    """A send failed. `retryable` says whether the worker should try again; `retry_after`
    (seconds) overrides the backoff when the channel names a delay (Telegram's 429)."""

    def __init__(self, detail: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retryable = retryable
        self.retry_after = retry_after


@runtime_checkable
class ChannelAdapter(Protocol):
    """Sends replies out through one channel."""

    channel: Channel

    async def deliver(self, message: OutboundMessage) -> DeliveryReceipt:
        """Send one reply. Raises DeliveryError; anything else counts as retryable."""
        ...


class BackgroundService(Protocol):
    """Something a gateway process runs beside HTTP (SMTP listener, IMAP poller, worker)."""

    name: str

    async def run(self, stop: asyncio.Event) -> None:
        """Run until `stop` is set, then return after a clean shutdown."""
        ...


# `gateway CHANNEL ...`: a channel's `commands(subcommands, open_ports)` adds its
# subcommands, each with `func` set to a `CommandRun`; a command that needs the core
# opens the ports with `open_ports(settings)` (migrated first, closed after).
CommandRun = Callable[["Settings", argparse.Namespace], Awaitable[int]]
OpenPorts = Callable[["Settings"], AbstractAsyncContextManager["ChannelPorts"]]


@dataclass
class ChannelPlugin:
    """What one channel hands the composition root: its HTTP routes (`routes`), its
    delivery adapter (None until configured: its replies then wait in the outbox) and
    the background services it needs."""

    channel: Channel
    routes: APIRouter | None = None
    adapter: ChannelAdapter | None = None
    services: list[BackgroundService] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Ignored:
    """Input a channel's `normalise` deliberately does not store, with the reason
    (a group chat, a loop, an update kind we do not serve)."""

    reason: str


# -- what the ports answer ----------------------------------------------------------


class Ingested(Protocol):
    """What intake made of one message."""

    @property
    def ticket_id(self) -> int: ...
    @property
    def ticket_ref(self) -> str: ...
    @property
    def message_id(self) -> int: ...
    @property
    def duplicate(self) -> bool: ...
    @property
    def new_ticket(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Identity:
    """A customer's address on one channel."""

    id: int
    unreachable: bool


@dataclass(frozen=True, slots=True)
class SetAside:
    """Input kept as a dead letter instead of a message."""

    id: int
    sender: str | None
    raw_blob_key: str | None
    resolved_message_id: int | None


@dataclass(frozen=True, slots=True)
class Edited:
    """A stored message whose text the customer changed."""

    ticket_ref: str | None
    message_id: int


@dataclass(frozen=True, slots=True)
class PendingFile:
    """An attachment whose bytes the channel still has to fetch."""

    id: int
    state: str
    source_ref: str | None


@dataclass(frozen=True, slots=True)
class FileMeta:
    filename: str
    content_type: str
    size: int | None


@dataclass(frozen=True, slots=True)
class ConversationItem:
    """One message of a customer's conversation as they see it (no notes)."""

    message_id: int
    inbound: bool
    text: str
    created_at: datetime
    external_id: str | None
    files: tuple[FileMeta, ...] = ()
    choices: tuple[Choice, ...] = ()


# -- the ports ------------------------------------------------------------------------


class Intake(Protocol):
    """Customer input into the core."""

    async def ingest(self, session: AsyncSession, inbound: InboundMessage) -> Ingested:
        """Store one message exactly once and thread it (gateway.tickets.intake)."""
        ...

    async def set_aside(
        self,
        session: AsyncSession,
        channel: Channel,
        *,
        reason: str,
        error: str | None,
        raw_blob_key: str | None,
        external_id: str | None = None,
        sender: str | None = None,
        resolved_message_id: int | None = None,
    ) -> SetAside:
        """Keep input that is not stored as a message, once per (channel, external id,
        raw bytes) however often it comes."""
        ...

    async def dead_letter(self, session: AsyncSession, dead_letter_id: int) -> SetAside | None:
        """A dead letter, locked until commit (its re-run)."""
        ...

    async def dead_letter_retried(
        self,
        session: AsyncSession,
        dead_letter_id: int,
        *,
        reason: str | None = None,
        error: str | None = None,
        resolved_message_id: int | None = None,
    ) -> None:
        """Record a re-run: stored as a message, or set aside again with a reason."""
        ...

    async def apply_edit(
        self,
        session: AsyncSession,
        channel: Channel,
        external_id: str,
        text: str,
        edited_at: datetime | None,
    ) -> Edited | None:
        """A customer's edit of a stored message (the old text kept in the audit
        trail); None when no such message is stored."""
        ...

    async def pending_files(self, session: AsyncSession, message_id: int) -> list[int]:
        """The message's attachments still waiting for their bytes."""
        ...

    async def pending_file_ids(
        self, session: AsyncSession, channel: Channel, limit: int
    ) -> list[int]:
        """Every attachment of the channel still waiting for its bytes, oldest first."""
        ...

    async def file(self, session: AsyncSession, attachment_id: int) -> PendingFile | None: ...

    async def file_fetched(
        self,
        session: AsyncSession,
        attachment_id: int,
        state: str,
        *,
        size: int | None = None,
        blob_key: str | None = None,
        data: bytes | None = None,
    ) -> bool:
        """Move a pending attachment to `state`; False when it was not pending (a
        concurrent fetch won). Stored bytes of a dispute case become evidence."""
        ...

    async def answer_choice(
        self, session: AsyncSession, channel: Channel, address: str, value: str
    ) -> str | None:
        """A button the customer tapped: the text to show them, or None."""
        ...


class Identities(Protocol):
    """Who the customers are on a channel."""

    async def identity(
        self, session: AsyncSession, channel: Channel, address: str
    ) -> Identity | None: ...

    async def set_reachable(
        self, session: AsyncSession, channel: Channel, address: str, *, reachable: bool
    ) -> bool | None:
        """Record whether replies can reach the address (a block flags the customer's
        open tickets). None for an address we never heard from; else whether it changed."""
        ...


class History(Protocol):
    """Reads of what was said."""

    async def conversation(
        self,
        session: AsyncSession,
        channel: Channel,
        identity_id: int,
        *,
        after: int,
        limit: int,
    ) -> list[ConversationItem]:
        """The identity's messages on the channel after a message id, oldest first."""
        ...

    async def identity_of_message(
        self, session: AsyncSession, channel: Channel, message_id: int
    ) -> int | None:
        """The identity on `channel` whose conversation holds the message."""
        ...

    async def outbound_external_ids(
        self, session: AsyncSession, channel: Channel, ids: Sequence[str]
    ) -> list[str]:
        """External ids of our replies known under any of `ids` (stored id or the
        provider's)."""
        ...

    async def replies_seen(
        self, session: AsyncSession, channel: Channel, identity_id: int, message_id: int
    ) -> None:
        """The customer has seen every reply up to `message_id` (a marker that never
        moves back): replies they never saw may go out another way."""
        ...


class Outbox(Protocol):
    """Messages out, through the one writer of outbox rows."""

    async def enqueue(
        self,
        session: AsyncSession,
        *,
        ticket_id: int,
        channel: Channel,
        text: str,
        action: str,
        language: str | None = None,
    ) -> int:
        """Queue a system message to the ticket's customer; its message id."""
        ...

    async def replies_bounced(
        self, session: AsyncSession, ids: Sequence[str], detail: str
    ) -> list[int]:
        """Our email replies known under `ids` failed after all (a relay's bounce): each
        fails once and its ticket is flagged. The message ids failed now."""
        ...

    async def progress(self, session: AsyncSession, outbox_id: int) -> list[int]:
        """What a delivery in several parts already sent (kept on its outbox row)."""
        ...

    async def record_progress(
        self, session: AsyncSession, outbox_id: int, parts: Sequence[int]
    ) -> None:
        """The parts sent so far (their provider ids), so a retry continues after them."""
        ...


class StateStore(Protocol):
    """The desk's small key-value store (checkpoints, secrets, markers, pacing)."""

    async def get(self, session: AsyncSession, key: str) -> str | None: ...

    async def get_many(
        self, session: AsyncSession, keys: Iterable[str], *, for_update: bool = False
    ) -> dict[str, str]: ...

    async def put(self, session: AsyncSession, key: str, value: str) -> None: ...

    async def put_if_absent(self, session: AsyncSession, key: str, value: str) -> str: ...

    async def ensure(self, session: AsyncSession, keys: Iterable[str], default: str) -> None: ...

    async def raise_to(self, session: AsyncSession, key: str, value: int) -> None: ...

    async def delete(self, session: AsyncSession, key: str) -> None: ...


class Wakeups(Protocol):
    """Cross-process signals (gateway.notify): sent at commit, ids only."""

    async def publish(self, session: AsyncSession, topic: str, payload: str) -> None: ...

    def subscribe(self, topic: str) -> AbstractAsyncContextManager[asyncio.Queue[str]]: ...

    async def wait_for(
        self,
        signals: asyncio.Queue[str],
        match: Callable[[str], bool] | Collection[str] | None,
        seconds: float,
        *,
        stop: asyncio.Event | None = None,
    ) -> bool:
        """Wait for a signal on a subscription whose payload `match` accepts (or "", the
        "look again" signal); False on timeout (gateway.notify.wait_for)."""
        ...


class ChannelPorts(Protocol):
    """Everything a channel is handed at install."""

    @property
    def settings(self) -> Settings: ...
    @property
    def sessionmaker(self) -> async_sessionmaker[AsyncSession]: ...
    @property
    def blobs(self) -> BlobStore: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def notifier(self) -> Wakeups: ...
    @property
    def intake(self) -> Intake: ...
    @property
    def identities(self) -> Identities: ...
    @property
    def history(self) -> History: ...
    @property
    def outbox(self) -> Outbox: ...
    @property
    def state(self) -> StateStore: ...
