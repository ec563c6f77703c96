"""The boundary between channels and the core: what comes in, what goes out.

A channel turns its source's input into an `InboundMessage` or `Ignored` with its
`normalise(raw)` (pure, no I/O) and hands the message to the intake port
(gateway/channel_ports.py); the delivery worker hands its adapter an `OutboundMessage`
and `deliver()` sends it; `ChannelPlugin` is what a channel's `install` returns.
Nothing in here touches the database.
"""

from __future__ import annotations

import argparse
import asyncio
import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # kept out of the import: a channel's pure modules stay light
    from fastapi import APIRouter

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
class ChoiceAnswered:
    """What to show the customer after a tap; `comment_prompt` (with `skip`, the label
    of the button that declines) when a card may now ask for the optional comment."""

    text: str
    comment_prompt: str | None = None
    skip: str | None = None


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
# subcommands, each with `func` set to a `CommandRun` (gateway/channel_ports.py has
# `OpenPorts`, for a command that needs the core).
CommandRun = Callable[["Settings", argparse.Namespace], Awaitable[int]]


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
