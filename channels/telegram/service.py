"""What the desk does with one Telegram update. Flushes; the edge (webhook, poller) commits."""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot, Update
from telegram.error import TelegramError

from channels.telegram import metrics
from channels.telegram.greetings import GREETINGS, greeting
from channels.telegram.normalise import SCRUBBED, ChoiceTapped, MemberStatus, normalise
from gateway.channel_ports import ChannelPorts
from gateway.clock import SystemClock
from gateway.ports import Channel, Ignored, InboundMessage

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
    session: AsyncSession, update: Update, ports: ChannelPorts, raw: bytes | None = None
) -> Handled:
    """Store what the update means for the desk. Idempotent per update; flushes only.
    `raw` is the update as received, kept when part of it had to be cleaned to store."""
    settings = ports.settings.telegram
    secret = settings.start_secret.get_secret_value().encode() if settings.start_secret else None
    # The wall clock, not the desk's: a start token's expiry is the exchange's time.
    parsed = normalise(update, start_secret=secret, now=SystemClock().now())
    if isinstance(parsed, Ignored):
        log.info("telegram.update_ignored", update_id=update.update_id, reason=parsed.reason)
        handled = Handled("ignored")
    elif isinstance(parsed, MemberStatus):
        await set_reachability(session, ports, parsed.address, blocked=parsed.blocked)
        handled = Handled("member")
    elif isinstance(parsed, ChoiceTapped):
        answered = await ports.intake.answer_choice(
            session, Channel.telegram, parsed.address, parsed.value
        )
        text = answered.text if answered is not None else None
        handled = Handled("choice", callback=parsed, callback_text=text)
    elif _may_be_comment(parsed) and await ports.intake.take_comment(session, parsed):
        # The text a survey asked for after its rating: the survey's comment, not a
        # ticket message (see gateway.csat.service).
        handled = Handled("comment")
    else:
        handled = await _store_message(session, parsed, ports)
        if handled.outcome == "stored" and parsed.metadata.get(SCRUBBED):
            await _keep_scrubbed(session, ports, parsed, handled, raw or update.to_json().encode())
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
    session: AsyncSession, inbound: InboundMessage, ports: ChannelPorts
) -> Handled:
    if inbound.metadata.get("edited"):
        edited = await ports.intake.apply_edit(
            session, Channel.telegram, inbound.external_id, inbound.text, inbound.received_at
        )
        if edited is not None:
            if edited.changed:
                log.info("telegram.message_edited", message_id=edited.message_id)
            return Handled("edited", edited.ticket_ref, edited.message_id)
        # An edit of a message we never got: the edited text is all there is, keep it.
    if inbound.metadata.get("start_token") == "invalid":
        log.warning("telegram.start_token_invalid", sender=inbound.sender)
    result = await ports.intake.ingest(session, inbound)
    if result.duplicate:
        return Handled("duplicate", result.ticket_ref, result.message_id)
    # A message stored without files has no attachment rows to wait for: no read.
    pending = (
        await ports.intake.pending_files(session, result.message_id) if inbound.attachments else []
    )
    if inbound.metadata.get("command") == "start":
        # The greeting goes out like any reply: through the outbox, in this transaction.
        language = inbound.language_hint
        await ports.outbox.enqueue(
            session,
            ticket_id=result.ticket_id,
            channel=Channel.telegram,
            text=greeting(language),
            action="telegram.greeting_queued",
            language=language if language in GREETINGS else "en",
        )
    return Handled("stored", result.ticket_ref, result.message_id, tuple(pending))


async def set_reachability(
    session: AsyncSession, ports: ChannelPorts, address: str, *, blocked: bool
) -> None:
    """Mark a Telegram user (un)reachable; a block flags their open tickets. Flushes."""
    changed = await ports.identities.set_reachable(
        session, Channel.telegram, address, reachable=not blocked
    )
    if changed is None:
        log.info("telegram.member_status_unknown_user", address=address, blocked=blocked)
    elif changed:
        log.info("telegram.reachability_changed", address=address, blocked=blocked)


async def set_aside(
    ports: ChannelPorts, raw: bytes, *, reason: str, error: str, external_id: str | None = None
) -> None:
    """Keep an update we cannot store as a message (raw bytes + why), in its own
    transaction; a re-posted copy of it is kept once."""
    key = await ports.blobs.put(raw)
    async with ports.sessionmaker.begin() as session:
        await ports.intake.set_aside(
            session,
            Channel.telegram,
            reason=reason,
            error=error,
            raw_blob_key=key,
            external_id=external_id,
        )
    metrics.updates.labels("set_aside").inc()
    log.warning("telegram.update_set_aside", reason=reason, error=error)


async def _keep_scrubbed(
    session: AsyncSession,
    ports: ChannelPorts,
    inbound: InboundMessage,
    handled: Handled,
    raw: bytes,
) -> None:
    """The message is stored cleaned; its raw update stays beside it for operators, in
    the same transaction, as a dead letter already resolved to the stored message."""
    fields = inbound.metadata[SCRUBBED]
    await ports.intake.set_aside(
        session,
        Channel.telegram,
        reason="scrubbed",
        error=f"stored with {fields} cut or cleaned (NUL, lone surrogates, controls, "
        "over-long values); the raw update is kept",
        raw_blob_key=await ports.blobs.put(raw),
        external_id=inbound.external_id,
        resolved_message_id=handled.message_id,
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
