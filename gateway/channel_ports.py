"""The narrow ports a channel is handed at install (`ChannelPorts`): intake (ingest, set
aside, edits, attachments, choices), identities, history reads, the outbox, a key-value
state store and wake-ups, with what they answer.

A channel imports these, gateway/ports.py and the shared leaf modules (gateway.text,
gateway.settings, ...) and nothing else of the core (pyproject.toml's import contracts);
the composition roots (gateway/app.py, gateway/__main__.py) hand it the core's side
(gateway/doors.py, with Runtime as the bundle). Port methods take the caller's session,
the unit of work the channel commits; they flush and never commit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from gateway.ports import Channel, Choice, ChoiceAnswered, InboundMessage

if TYPE_CHECKING:  # kept out of the import: a channel's pure modules stay light
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from gateway.blobs import BlobStore
    from gateway.clock import Clock
    from gateway.settings import Settings


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
    # False for a repeat, or a late copy of an older edit: nothing changed.
    changed: bool = True


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
    ) -> ChoiceAnswered | None:
        """A button the customer tapped (a survey rating, Skip): what to show them, or
        None when the value is not one of ours."""
        ...

    async def comment_choice(
        self, session: AsyncSession, channel: Channel, address: str, value: str, comment: str
    ) -> str | None:
        """The comment typed on a survey card after tapping the rating `value`: the text
        to show, or None when the value is not one of ours."""
        ...

    async def take_comment(self, session: AsyncSession, inbound: InboundMessage) -> bool:
        """True when this text message is the comment a survey asked for (stored as
        such, not as a ticket message); False for an ordinary message."""
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


# A channel command that needs the core opens the ports (migrated first, closed after).
OpenPorts = Callable[["Settings"], AbstractAsyncContextManager[ChannelPorts]]
