"""One mail in: keep the raw bytes, parse, then store it as a ticket message or set it
aside with its reason. Shared by the SMTP listener, the IMAP poller and the operator's
re-run; each of them acks its source only after `receive` returned."""

from __future__ import annotations

import asyncio
import dataclasses
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import structlog
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from channels.email import metrics
from channels.email.ids import domain_of, lookup_forms, synthetic_id
from channels.email.loops import BOUNCE
from channels.email.parse import ParsedMail, parse_mail
from gateway.channel_ports import ChannelPorts
from gateway.errors import Conflict, InvalidInbound, NotFound
from gateway.ports import Channel

log = structlog.get_logger()

UNPARSEABLE = "unparseable"
INVALID = "invalid"

Parser = Callable[..., ParsedMail]


class StorageUnavailable(Exception):
    """The mail could not be stored now (disk, database): the source must retry later."""


@dataclass(frozen=True, slots=True)
class MailStored:
    """Where one mail ended: a ticket message, or a dead letter with its reason."""

    ticket_ref: str | None = None
    message_id: int | None = None
    new_ticket: bool = False
    duplicate: bool = False
    dead_letter_id: int | None = None
    reason: str | None = None
    bounced_message_ids: tuple[int, ...] = ()


class EmailIntake:
    """Turns raw mails into ticket messages or dead letters, exactly once each."""

    def __init__(self, ports: ChannelPorts, *, parser: Parser = parse_mail) -> None:
        self.ports = ports
        self.parser = parser
        self.our_domains = frozenset({domain_of(ports.settings.mail.from_address)})

    async def receive(
        self,
        raw: bytes,
        *,
        envelope_from: str | None = None,
        envelope_to: Sequence[str] = (),
    ) -> MailStored:
        """Store one mail. Raises StorageUnavailable when nothing could be committed."""
        try:
            blob_key = await self.ports.blobs.put(raw)
        except OSError as exc:
            raise StorageUnavailable(f"blob store: {exc}") from exc
        try:
            parsed = await asyncio.to_thread(
                self.parser,
                raw,
                our_domains=self.our_domains,
                envelope_from=envelope_from,
                envelope_to=tuple(envelope_to),
                max_text_chars=self.ports.settings.ingest.max_text_chars,
                raw_blob_key=blob_key,
            )
        except Exception as exc:  # a parser bug must not lose the mail: set it aside
            log.exception("email.parse_failed", blob=blob_key)
            return await self._guard(
                self._set_aside_new(
                    external_id=synthetic_id(raw),
                    reason=UNPARSEABLE,
                    error=_error_text(exc),
                    blob_key=blob_key,
                    sender=envelope_from or None,
                )
            )
        return await self._guard(self._store(parsed, blob_key))

    async def retry_dead_letter(
        self, dead_letter_id: int, *, accept_loops: bool = False
    ) -> MailStored:
        """Run a set-aside mail through parsing and intake again (after a parser fix, or
        with `accept_loops` when an operator judges it a person's mail after all)."""
        async with self.ports.sessionmaker() as session:
            letter = await self.ports.intake.dead_letter(session, dead_letter_id)
        if letter is None:
            raise NotFound(f"dead letter {dead_letter_id} not found")
        if letter.resolved_message_id is not None:
            raise Conflict(
                f"dead letter {dead_letter_id} is already message {letter.resolved_message_id}"
            )
        if not letter.raw_blob_key or not self.ports.blobs.exists(letter.raw_blob_key):
            raise Conflict(f"dead letter {dead_letter_id} has no raw mail to run again")
        raw = await self.ports.blobs.get(letter.raw_blob_key)
        try:
            parsed = await asyncio.to_thread(
                self.parser,
                raw,
                our_domains=self.our_domains,
                envelope_from=letter.sender,
                max_text_chars=self.ports.settings.ingest.max_text_chars,
                raw_blob_key=letter.raw_blob_key,
                detect_loops=not accept_loops,
            )
        except Exception as exc:
            log.exception("email.parse_failed", blob=letter.raw_blob_key, dead_letter=letter.id)
            parsed = None
            error = _error_text(exc)
        if parsed is None:
            return await self._update_letter(dead_letter_id, UNPARSEABLE, error)
        return await self._store(parsed, letter.raw_blob_key, retry_of=dead_letter_id)

    async def _guard(self, work: Awaitable[MailStored]) -> MailStored:
        """Database trouble means "not stored": the caller answers 451 / retries."""
        try:
            return await work
        except (DBAPIError, OSError, TimeoutError) as exc:
            raise StorageUnavailable(f"database: {exc}") from exc

    async def _store(
        self, parsed: ParsedMail, blob_key: str, *, retry_of: int | None = None
    ) -> MailStored:
        if parsed.set_aside is not None:
            return await self._set_aside_parsed(parsed, blob_key, retry_of)
        inbound = parsed.inbound
        assert inbound is not None
        problem: str | None = None
        if not inbound.sender:
            problem = "no sender address (no usable From: and no envelope sender)"
        else:
            # Intake validates (once): what it refuses is set aside with its reason.
            try:
                async with self.ports.sessionmaker.begin() as session:
                    ids = await self._reply_ids(session, inbound.reply_to_ids)
                    inbound = dataclasses.replace(inbound, reply_to_ids=ids)
                    result = await self.ports.intake.ingest(session, inbound)
                    if retry_of is not None:
                        await self.ports.intake.dead_letter_retried(
                            session, retry_of, resolved_message_id=result.message_id
                        )
            except InvalidInbound as exc:
                problem = exc.detail
            else:
                metrics.received.labels("message").inc()
                log.info(
                    "email.received",
                    ticket=result.ticket_ref,
                    message_id=result.message_id,
                    duplicate=result.duplicate,
                    new_ticket=result.new_ticket,
                )
                return MailStored(
                    ticket_ref=result.ticket_ref,
                    message_id=result.message_id,
                    new_ticket=result.new_ticket,
                    duplicate=result.duplicate,
                )
        assert problem is not None
        if retry_of is not None:
            return await self._update_letter(retry_of, INVALID, problem)
        return await self._set_aside_new(
            external_id=parsed.external_id,
            reason=INVALID,
            error=problem,
            blob_key=blob_key,
            sender=parsed.sender,
        )

    async def _reply_ids(self, session: AsyncSession, ids: Sequence[str]) -> tuple[str, ...]:
        """The referenced ids in every form a stored message may carry (ours: bare key)."""
        forms: dict[str, None] = {}
        for mid in ids:
            for form in lookup_forms(mid, self.our_domains):
                forms.setdefault(form, None)
        known_ids = await self.ports.history.outbound_external_ids(
            session, Channel.email, list(forms)
        )
        for known in known_ids:
            forms.setdefault(known, None)
        return tuple(forms)

    async def _set_aside_parsed(
        self, parsed: ParsedMail, blob_key: str, retry_of: int | None
    ) -> MailStored:
        verdict = parsed.set_aside
        assert verdict is not None
        bounced: list[int] = []
        async with self.ports.sessionmaker.begin() as session:
            if verdict.reason == BOUNCE and parsed.bounce_failed and parsed.bounced_ids:
                forms = [f for m in parsed.bounced_ids for f in lookup_forms(m, self.our_domains)]
                bounced = await self.ports.outbox.replies_bounced(session, forms, verdict.detail)
            if retry_of is not None:
                await self.ports.intake.dead_letter_retried(
                    session, retry_of, reason=verdict.reason, error=verdict.detail
                )
                letter_id = retry_of
            else:
                letter = await self.ports.intake.set_aside(
                    session,
                    Channel.email,
                    external_id=parsed.external_id,
                    reason=verdict.reason,
                    error=verdict.detail,
                    raw_blob_key=blob_key,
                    sender=parsed.sender,
                )
                letter_id = letter.id
        metrics.received.labels(verdict.reason).inc()
        log.info(
            "email.set_aside",
            reason=verdict.reason,
            detail=verdict.detail,
            dead_letter=letter_id,
            bounced_messages=bounced or None,
        )
        return MailStored(
            dead_letter_id=letter_id,
            reason=verdict.reason,
            bounced_message_ids=tuple(bounced),
        )

    async def _set_aside_new(
        self,
        *,
        external_id: str | None,
        reason: str,
        error: str,
        blob_key: str | None,
        sender: str | None,
    ) -> MailStored:
        async with self.ports.sessionmaker.begin() as session:
            letter = await self.ports.intake.set_aside(
                session,
                Channel.email,
                external_id=external_id,
                reason=reason,
                error=error,
                raw_blob_key=blob_key,
                sender=sender,
            )
        metrics.received.labels(reason).inc()
        log.warning("email.set_aside", reason=reason, detail=error[:300], dead_letter=letter.id)
        return MailStored(dead_letter_id=letter.id, reason=reason)

    async def _update_letter(self, dead_letter_id: int, reason: str, error: str) -> MailStored:
        async with self.ports.sessionmaker.begin() as session:
            await self.ports.intake.dead_letter_retried(
                session, dead_letter_id, reason=reason, error=error
            )
        log.warning("email.retry_set_aside", dead_letter=dead_letter_id, reason=reason)
        return MailStored(dead_letter_id=dead_letter_id, reason=reason)


def _error_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))[-4000:]
