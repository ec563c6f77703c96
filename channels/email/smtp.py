"""The inbound SMTP listener: aiosmtpd's protocol on the gateway's own event loop.

250 only after the mail is committed (as a message or a dead letter), 451 when storage
fails so the sending server retries, 552 above the size limit (aiosmtpd, from SIZE).
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from aiosmtpd.smtp import SMTP, Envelope, Session

from channels.email import metrics
from channels.email.service import EmailIntake, StorageUnavailable

log = structlog.get_logger()


class LenientSMTP(SMTP):
    """aiosmtpd's protocol, accepting lines longer than RFC 5321's 1000 octets.

    Broken clients do send them; refusing with a 500 would lose a customer's mail, and
    the size limit still bounds memory."""

    line_length_limit = 64 * 1024


class SmtpHandler:
    """aiosmtpd handler: every RCPT is accepted; DATA is stored before it is answered."""

    def __init__(self, intake: EmailIntake, *, max_concurrent: int = 8):
        self.intake = intake
        # Parsing and storing are bounded so a flood queues here instead of exhausting
        # the database pool and memory; the senders wait on their open connections.
        self._slots = asyncio.Semaphore(max_concurrent)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        async with self._slots:
            try:
                outcome = await self.intake.receive(
                    raw, envelope_from=envelope.mail_from, envelope_to=list(envelope.rcpt_tos)
                )
            except StorageUnavailable as exc:
                log.warning("email.smtp_deferred", error=str(exc), peer=str(session.peer))
                metrics.smtp_replies.labels("451").inc()
                return "451 4.3.0 Could not store the message now; please try again later"
            except Exception:  # never a 5xx for a mail we failed to handle ourselves
                log.exception("email.smtp_failed", peer=str(session.peer))
                metrics.smtp_replies.labels("451").inc()
                return "451 4.3.0 Temporary failure; please try again later"
        metrics.smtp_replies.labels("250").inc()
        if outcome.ticket_ref:
            return f"250 2.0.0 Stored in ticket {outcome.ticket_ref}"
        return f"250 2.0.0 Accepted ({outcome.reason})"


class SmtpListener:
    """BackgroundService: listens until `stop`, on the loop it runs on."""

    name = "email-smtp"

    def __init__(
        self,
        intake: EmailIntake,
        *,
        host: str,
        port: int,
        max_message_bytes: int,
        hostname: str = "localhost",
    ):
        self.handler = SmtpHandler(intake)
        self.host = host
        self.port = port
        self.max_message_bytes = max_message_bytes
        self.hostname = hostname
        self.started = asyncio.Event()
        self.bound_port: int | None = None

    def _protocol(self) -> Any:
        return LenientSMTP(
            self.handler,
            data_size_limit=self.max_message_bytes,
            enable_SMTPUTF8=True,
            hostname=self.hostname,
            ident="Parley ESMTP",
            loop=asyncio.get_running_loop(),
        )

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(self._protocol, self.host, self.port)
        self.bound_port = server.sockets[0].getsockname()[1]
        log.info("email.smtp_listening", host=self.host, port=self.bound_port)
        self.started.set()
        try:
            await stop.wait()
        finally:
            server.close()
            await server.wait_closed()
            self.started.clear()
            log.info("email.smtp_stopped")
