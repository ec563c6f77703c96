"""The core's side of gateway/channel_ports.py: what each port a channel is handed does.

`Runtime` builds one of each and is itself the `ChannelPorts` bundle the composition
roots hand every channel's `install`. Every method takes the caller's session, flushes
and never commits: the channel owns its unit of work (it acks its source after commit).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway import audit
from gateway.blobs import BlobStore
from gateway.cases import evidence
from gateway.channel_ports import (
    ConversationItem,
    Edited,
    FileMeta,
    Identity,
    PendingFile,
    SetAside,
)
from gateway.clock import Clock
from gateway.db import lock_key, utcnow
from gateway.deadletters import repository as dead_letters
from gateway.flows import blocked, bounces
from gateway.flows.seen import seen_key
from gateway.notify import Notifier
from gateway.outbox import service as outbox_service
from gateway.ports import Channel, Choice, ChoiceAnswered, InboundMessage
from gateway.settings import Settings
from gateway.system import repository as system_state
from gateway.tickets import repository as tickets_repo
from gateway.tickets.intake import IngestResult, TicketRouter, ingest
from gateway.tickets.models import (
    ActorType,
    Attachment,
    ChannelIdentity,
    DeadLetter,
    Direction,
    Message,
    Ticket,
)


class Core(Protocol):
    """What the doors read from the process's runtime (gateway/runtime.py), at each call:
    tests swap the runtime's router and clock after building it."""

    @property
    def settings(self) -> Settings: ...
    @property
    def router(self) -> TicketRouter: ...
    @property
    def blobs(self) -> BlobStore: ...
    @property
    def notifier(self) -> Notifier: ...
    @property
    def clock(self) -> Clock: ...


def _set_aside(letter: DeadLetter) -> SetAside:
    assert letter.id is not None
    return SetAside(
        id=letter.id,
        sender=letter.sender,
        raw_blob_key=letter.raw_blob_key,
        resolved_message_id=letter.resolved_message_id,
    )


class CoreIntake:
    """The intake port: `gateway.tickets.intake.ingest` with this process's limits,
    router, blob store and notifier, and the set-aside, edit, file and choice doors."""

    def __init__(self, runtime: Core) -> None:
        self.runtime = runtime

    async def ingest(self, session: AsyncSession, inbound: InboundMessage) -> IngestResult:
        runtime = self.runtime
        return await ingest(
            session,
            inbound,
            limits=runtime.settings.ingest,
            router=runtime.router,
            blobs=runtime.blobs,
            notifier=runtime.notifier,
        )

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
        letter = await dead_letters.set_aside(
            session,
            channel=str(channel),
            external_id=external_id,
            reason=reason,
            error=error,
            raw_blob_key=raw_blob_key,
            sender=sender,
            resolved_message_id=resolved_message_id,
        )
        return _set_aside(letter)

    async def dead_letter(self, session: AsyncSession, dead_letter_id: int) -> SetAside | None:
        letter = await session.get(DeadLetter, dead_letter_id, with_for_update=True)
        return _set_aside(letter) if letter is not None else None

    async def dead_letter_retried(
        self,
        session: AsyncSession,
        dead_letter_id: int,
        *,
        reason: str | None = None,
        error: str | None = None,
        resolved_message_id: int | None = None,
    ) -> None:
        letter = await session.get_one(DeadLetter, dead_letter_id, with_for_update=True)
        letter.retried_at = utcnow()
        letter.error = error
        if reason is not None:
            letter.reason = reason
        if resolved_message_id is not None:
            letter.resolved_message_id = resolved_message_id
        await session.flush()

    async def apply_edit(
        self,
        session: AsyncSession,
        channel: Channel,
        external_id: str,
        text: str,
        edited_at: datetime | None,
    ) -> Edited | None:
        await lock_key(session, "msg", str(channel), external_id)
        message = await tickets_repo.message_by_external_id(session, str(channel), external_id)
        if message is None:
            return None
        assert message.id is not None
        # A late copy of an older edit changes nothing.
        stale = (
            message.edited_at is not None
            and edited_at is not None
            and edited_at <= message.edited_at
        )
        changed = message.text != text and not stale
        if changed:
            audit.record(
                session,
                "message.edited",
                ticket_id=message.ticket_id,
                actor_type=ActorType.customer,
                message_id=message.id,
                original_text=message.text,
            )
            message.text = text
            message.edited_at = edited_at or utcnow()
            await session.flush()
        ticket = await tickets_repo.get_ticket(session, message.ticket_id)
        return Edited(ticket.ref if ticket else None, message.id, changed)

    async def pending_files(self, session: AsyncSession, message_id: int) -> list[int]:
        rows = await session.scalars(
            sa.select(col(Attachment.id)).where(
                col(Attachment.message_id) == message_id, col(Attachment.state) == "pending"
            )
        )
        return [i for i in rows if i is not None]

    async def pending_file_ids(
        self, session: AsyncSession, channel: Channel, limit: int
    ) -> list[int]:
        rows = await session.scalars(
            sa.select(col(Attachment.id))
            .join(Message, col(Message.id) == col(Attachment.message_id))
            .where(
                col(Message.channel) == str(channel),
                col(Attachment.state) == "pending",
                col(Attachment.source_ref).is_not(None),
            )
            .order_by(col(Attachment.id))
            .limit(limit)
        )
        return [i for i in rows if i is not None]

    async def file(self, session: AsyncSession, attachment_id: int) -> PendingFile | None:
        attachment = await session.get(Attachment, attachment_id)
        if attachment is None:
            return None
        return PendingFile(attachment_id, attachment.state, attachment.source_ref)

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
        values: dict[str, object] = {"state": state}
        if size is not None:
            values["size"] = size
        if blob_key is not None:
            values.update(blob_key=blob_key, sha256=blob_key)
        # Only a pending row moves: a concurrent fetch of the same row changes nothing.
        result = await session.execute(
            sa.update(Attachment)
            .where(col(Attachment.id) == attachment_id, col(Attachment.state) == "pending")
            .values(**values)
        )
        moved = bool(result.rowcount)  # type: ignore[attr-defined]
        if moved and data is not None:
            # A file on a dispute case is evidence: it gets its hash and type now.
            await evidence.attachment_stored(session, attachment_id, data)
        return moved

    async def answer_choice(
        self, session: AsyncSession, channel: Channel, address: str, value: str
    ) -> ChoiceAnswered | None:
        from gateway.csat.choices import answer_choice  # csat reaches back into tickets

        return await answer_choice(
            session,
            channel=str(channel),
            address=address,
            value=value,
            settings=self.runtime.settings.csat,
            now=self.runtime.clock.now(),
            notifier=self.runtime.notifier,
        )

    async def comment_choice(
        self, session: AsyncSession, channel: Channel, address: str, value: str, comment: str
    ) -> str | None:
        from gateway.csat.choices import comment_on_choice

        return await comment_on_choice(
            session,
            channel=str(channel),
            address=address,
            value=value,
            comment=comment,
            settings=self.runtime.settings.csat,
            now=self.runtime.clock.now(),
            notifier=self.runtime.notifier,
        )

    async def take_comment(self, session: AsyncSession, inbound: InboundMessage) -> bool:
        from gateway.csat.service import take_comment

        return await take_comment(
            session,
            channel=str(inbound.channel),
            address=inbound.sender,
            external_id=inbound.external_id,
            text=inbound.text,
            max_chars=self.runtime.settings.csat.max_comment_chars,
            now=self.runtime.clock.now(),
            notifier=self.runtime.notifier,
        )


class CoreIdentities:
    """The identity port: customers' addresses per channel."""

    async def identity(
        self, session: AsyncSession, channel: Channel, address: str
    ) -> Identity | None:
        found = await tickets_repo.identity(session, str(channel), address)
        if found is None or found.id is None:
            return None
        return Identity(found.id, found.unreachable)

    async def set_reachable(
        self, session: AsyncSession, channel: Channel, address: str, *, reachable: bool
    ) -> bool | None:
        await lock_key(session, "sender", str(channel), address)
        found = await tickets_repo.identity(session, str(channel), address)
        if found is None:
            return None
        return await blocked.set_reachable(session, found, reachable=reachable)


class CoreHistory:
    """The history port: what customers and agents said, as the customer sees it."""

    def __init__(self, runtime: Core) -> None:
        self.runtime = runtime

    async def conversation(
        self,
        session: AsyncSession,
        channel: Channel,
        identity_id: int,
        *,
        after: int,
        limit: int,
    ) -> list[ConversationItem]:
        messages = list(
            (
                await session.execute(
                    sa.select(Message)
                    .join(Ticket, col(Ticket.id) == col(Message.ticket_id))
                    .where(
                        col(Ticket.identity_id) == identity_id,
                        col(Ticket.channel) == str(channel),
                        # Copies on other channels (a mailed chat reply) live on the
                        # ticket too; not in this conversation.
                        col(Message.channel) == str(channel),
                        col(Message.id) > after,
                        col(Message.direction).in_([Direction.inbound, Direction.outbound]),
                    )
                    .order_by(col(Message.id))
                    .limit(limit)
                )
            ).scalars()
        )
        files: dict[int, list[FileMeta]] = {}
        if messages:
            for item in (
                await session.execute(
                    sa.select(Attachment)
                    .where(col(Attachment.message_id).in_([m.id for m in messages]))
                    .order_by(col(Attachment.id))
                )
            ).scalars():
                files.setdefault(item.message_id, []).append(
                    FileMeta(item.filename, item.content_type, item.size)
                )
        replies = [m.id for m in messages if m.direction == Direction.outbound and m.id]
        choices = await self._choices(session, replies)
        items = []
        for m in messages:
            assert m.id is not None
            items.append(
                ConversationItem(
                    message_id=m.id,
                    inbound=m.direction == Direction.inbound,
                    text=m.text,
                    created_at=m.created_at,
                    external_id=m.external_id,
                    files=tuple(files.get(m.id, ())),
                    choices=choices.get(m.id, ()),
                )
            )
        return items

    async def _choices(
        self, session: AsyncSession, message_ids: list[int]
    ) -> dict[int, tuple[Choice, ...]]:
        from gateway.csat.choices import choices_by_message  # csat reaches back into tickets

        return await choices_by_message(session, message_ids, now=self.runtime.clock.now())

    async def identity_of_message(
        self, session: AsyncSession, channel: Channel, message_id: int
    ) -> int | None:
        return await session.scalar(
            sa.select(col(Ticket.identity_id))
            .join(Message, col(Message.ticket_id) == col(Ticket.id))
            .join(ChannelIdentity, col(ChannelIdentity.id) == col(Ticket.identity_id))
            .where(col(Message.id) == message_id, col(ChannelIdentity.channel) == str(channel))
        )

    async def outbound_external_ids(
        self, session: AsyncSession, channel: Channel, ids: Sequence[str]
    ) -> list[str]:
        if not ids:
            return []
        result = await session.execute(
            sa.select(col(Message.external_id)).where(
                col(Message.channel) == str(channel),
                col(Message.direction) == Direction.outbound,
                sa.or_(
                    col(Message.external_id).in_(list(ids)), col(Message.provider_id).in_(list(ids))
                ),
            )
        )
        return [eid for eid in result.scalars() if eid]

    async def replies_seen(
        self, session: AsyncSession, channel: Channel, identity_id: int, message_id: int
    ) -> None:
        if channel != Channel.webchat:
            raise ValueError(f"no seen markers on {channel}")
        await system_state.raise_to(session, seen_key(identity_id), message_id)


class CoreOutbox:
    """The outbox port: `gateway.outbox.service.enqueue` with this process's notifier,
    and the bounce flow."""

    def __init__(self, runtime: Core) -> None:
        self.runtime = runtime

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
        message = await outbox_service.enqueue(
            session,
            ticket_id=ticket_id,
            channel=str(channel),
            text=text,
            notifier=self.runtime.notifier,
            action=action,
            language=language,
        )
        assert message.id is not None
        return message.id

    async def replies_bounced(
        self, session: AsyncSession, ids: Sequence[str], detail: str
    ) -> list[int]:
        return await bounces.replies_bounced(session, ids, detail)

    async def progress(self, session: AsyncSession, outbox_id: int) -> list[int]:
        return await outbox_service.delivery_progress(session, outbox_id)

    async def record_progress(
        self, session: AsyncSession, outbox_id: int, parts: Sequence[int]
    ) -> None:
        await outbox_service.record_progress(session, outbox_id, parts)
