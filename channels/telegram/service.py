"""What the desk does with one Telegram update. Flushes; the edge (webhook, poller) commits."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot, Update
from telegram.error import TelegramError

from channels.telegram import metrics
from channels.telegram.greetings import GREETINGS, greeting
from channels.telegram.normalise import SCRUBBED, ChoiceTapped, Ignored, MemberStatus, normalise
from gateway import audit
from gateway.blobs import BlobStore
from gateway.db import lock_key, utcnow
from gateway.flows import blocked as blocked_flow
from gateway.outbox import service as outbox
from gateway.ports import Channel, InboundMessage
from gateway.runtime import Runtime
from gateway.tickets import repository as repo
from gateway.tickets.models import (
    ActorType,
    Attachment,
    DeadLetter,
)

log = structlog.get_logger()

CHANNEL = str(Channel.telegram)


@dataclass(frozen=True, slots=True)
class Handled:
    """What became of an update: stored, duplicate, edited, member, ignored."""

    outcome: str
    ticket_ref: str | None = None
    message_id: int | None = None
    pending_attachments: tuple[int, ...] = ()
    # A tapped button to answer after commit: Telegram shows `text` to the user.
    callback: ChoiceTapped | None = None
    callback_text: str | None = None


async def handle_update(
    session: AsyncSession, update: Update, runtime: Runtime, raw: bytes | None = None
) -> Handled:
    """Store what the update means for the desk. Idempotent per update; flushes only.
    `raw` is the update as received, kept when part of it had to be cleaned to store."""
    settings = runtime.settings.telegram
    secret = settings.start_secret.get_secret_value().encode() if settings.start_secret else None
    parsed = normalise(update, start_secret=secret, now=utcnow())
    if isinstance(parsed, Ignored):
        log.info("telegram.update_ignored", update_id=update.update_id, reason=parsed.reason)
        handled = Handled("ignored")
    elif isinstance(parsed, MemberStatus):
        await set_reachability(session, parsed.address, blocked=parsed.blocked)
        handled = Handled("member")
    elif isinstance(parsed, ChoiceTapped):
        answered = await runtime.answer_choice(
            session, Channel.telegram, parsed.address, parsed.value
        )
        text = answered.text if answered is not None else None
        handled = Handled("choice", callback=parsed, callback_text=text)
    elif _may_be_comment(parsed) and await runtime.take_comment(session, parsed):
        # The text a survey asked for after its rating: the survey's comment, not a
        # ticket message (see gateway.csat.service).
        handled = Handled("comment")
    else:
        handled = await _store_message(session, parsed, runtime)
        if handled.outcome == "stored" and parsed.metadata.get(SCRUBBED):
            await _keep_scrubbed(
                session, runtime, parsed, handled, raw or update.to_json().encode()
            )
    metrics.updates.labels(handled.outcome).inc()
    return handled


def _may_be_comment(inbound: InboundMessage) -> bool:
    """Only new words the customer wrote can answer the survey's comment question: a
    photo, a file, a sticker, a command or an edit goes to the ticket as usual."""
    return not (
        inbound.attachments
        or inbound.metadata.keys() & {"edited", "command", "placeholder"}
        or inbound.text.lstrip().startswith("/")
        or not inbound.text.strip()
    )


async def _store_message(
    session: AsyncSession, inbound: InboundMessage, runtime: Runtime
) -> Handled:
    if inbound.metadata.get("edited"):
        edited = await _apply_edit(session, inbound)
        if edited is not None:
            return edited
        # An edit of a message we never got: the edited text is all there is, keep it.
    if inbound.metadata.get("start_token") == "invalid":
        log.warning("telegram.start_token_invalid", sender=inbound.sender)
    result = await runtime.ingest(session, inbound)
    if result.duplicate:
        return Handled("duplicate", result.ticket_ref, result.message_id)
    pending = await session.scalars(
        sa.select(Attachment.id).where(
            Attachment.message_id == result.message_id, Attachment.state == "pending"
        )
    )
    if inbound.metadata.get("command") == "start":
        await _queue_greeting(session, result.ticket_id, inbound.language_hint, runtime)
    return Handled(
        "stored", result.ticket_ref, result.message_id, tuple(i for i in pending if i is not None)
    )


async def _apply_edit(session: AsyncSession, inbound: InboundMessage) -> Handled | None:
    """Update a stored message's text, keeping the previous text in the audit trail."""
    await lock_key(session, "msg", CHANNEL, inbound.external_id)
    message = await repo.message_by_external_id(session, CHANNEL, inbound.external_id)
    if message is None:
        return None
    stale = (
        message.edited_at is not None
        and inbound.received_at is not None
        and inbound.received_at <= message.edited_at
    )
    if message.text != inbound.text and not stale:
        audit.record(
            session,
            "message.edited",
            ticket_id=message.ticket_id,
            actor_type=ActorType.customer,
            message_id=message.id,
            original_text=message.text,
        )
        message.text = inbound.text
        message.edited_at = inbound.received_at or utcnow()
        await session.flush()
        log.info("telegram.message_edited", message_id=message.id)
    ticket = await repo.get_ticket(session, message.ticket_id)
    return Handled("edited", ticket.ref if ticket else None, message.id)


async def _queue_greeting(
    session: AsyncSession, ticket_id: int, language: str | None, runtime: Runtime
) -> None:
    """The greeting goes out like any reply: through the outbox, in this transaction."""
    await outbox.enqueue(
        session,
        ticket_id=ticket_id,
        channel=CHANNEL,
        text=greeting(language),
        notifier=runtime.notifier,
        action="telegram.greeting_queued",
        language=language if language in GREETINGS else "en",
    )


async def set_reachability(session: AsyncSession, address: str, *, blocked: bool) -> None:
    """Mark a Telegram user (un)reachable; a block flags their open tickets. Flushes."""
    await lock_key(session, "sender", CHANNEL, address)
    identity = await repo.identity(session, CHANNEL, address)
    if identity is None:
        log.info("telegram.member_status_unknown_user", address=address, blocked=blocked)
        return
    if await blocked_flow.set_reachable(session, identity, reachable=not blocked):
        log.info("telegram.reachability_changed", address=address, blocked=blocked)


async def set_aside(
    runtime: Runtime, raw: bytes, *, reason: str, error: str, external_id: str | None = None
) -> None:
    """Keep an update we cannot store as a message (raw bytes + why), in its own transaction."""
    blobs: BlobStore = runtime.blobs
    key = await blobs.put(raw)
    async with runtime.sessionmaker.begin() as session:
        session.add(
            DeadLetter(
                channel=CHANNEL,
                reason=reason,
                error=error,
                raw_blob_key=key,
                external_id=external_id,
            )
        )
    metrics.updates.labels("set_aside").inc()
    log.warning("telegram.update_set_aside", reason=reason, error=error)


async def _keep_scrubbed(
    session: AsyncSession, runtime: Runtime, inbound: InboundMessage, handled: Handled, raw: bytes
) -> None:
    """The message is stored cleaned; its raw update stays beside it for operators, in
    the same transaction, as a dead letter already resolved to the stored message."""
    fields = inbound.metadata[SCRUBBED]
    session.add(
        DeadLetter(
            channel=CHANNEL,
            reason="scrubbed",
            error=f"stored with {fields} cut or cleaned (NUL, lone surrogates, controls, "
            "over-long values); the raw update is kept",
            raw_blob_key=await runtime.blobs.put(raw),
            external_id=inbound.external_id,
            resolved_message_id=handled.message_id,
        )
    )
    log.warning("telegram.update_scrubbed", fields=fields, message_id=handled.message_id)


async def answer_callback(bot: Bot, handled: Handled) -> None:
    """After commit: close the tapped button's spinner with our answer and take the
    keyboard off the survey, so it is not tapped again. Best effort: the rating is
    stored whatever Telegram says."""
    tapped = handled.callback
    if tapped is None:
        return
    try:
        await bot.answer_callback_query(tapped.callback_id, text=handled.callback_text)
        if tapped.chat_id is not None and tapped.message_id is not None:
            await bot.edit_message_reply_markup(tapped.chat_id, tapped.message_id)
    except TelegramError as exc:
        log.info("telegram.callback_answer_failed", error=str(exc))
