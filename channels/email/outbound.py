"""Agent replies out by email: built with the `email` package, sent with aiosmtplib.

Headers are set only through `email.message.EmailMessage` and `headerregistry.Address`,
which refuse CR/LF in values, so no field can inject a header. The Message-ID comes from
the outbox row's idempotency key: a resend after a crash carries the same id.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Awaitable, Callable, Sequence
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, getaddresses
from typing import Any

import aiosmtplib
import nh3
import structlog

from channels.email import metrics
from channels.email.ids import domain_of, external_id_for_reply, header_id, message_id_for
from gateway.blobs import BlobStore
from gateway.ports import Channel, DeliveryError, DeliveryReceipt, OutboundMessage
from gateway.settings import MailSettings, SmtpSettings

log = structlog.get_logger()

Send = Callable[..., Awaitable[Any]]
# Enough of the thread for any client to place the reply; RFC 5322 suggests keeping the
# first id and the most recent ones when trimming.
MAX_REFERENCES = 20
_PREFIX = re.compile(r"^\s*((re|fwd?|aw|wg|sv|vs|antw|ответ|回复|答复)\s*(\[\d+\])?\s*:\s*)+", re.I)
_TOKEN = re.compile(r"\s*\[\s*D-\d+\s*\]\s*", re.IGNORECASE)


def reply_subject(subject: str | None, ticket_ref: str) -> str:
    """`Re: <original subject> [D-1042]`, without stacking Re: or tokens."""
    base = _TOKEN.sub(" ", _PREFIX.sub("", _one_line(subject or ""))).strip()
    return f"Re: {base} [{ticket_ref}]" if base else f"Re: [{ticket_ref}]"


def ticket_address(from_address: str, ticket_ref: str) -> Address:
    """The plus-address of a ticket: `support+D-1042@desk.example`."""
    name, addr = _parse_address(from_address)
    local, _, domain = addr.rpartition("@")
    return Address(display_name=name, username=f"{local}+{ticket_ref}", domain=domain)


def build_reply(
    message: OutboundMessage,
    mail: MailSettings,
    attachments: Sequence[tuple[str, str, bytes]] = (),
) -> EmailMessage:
    """The reply as a MIME message (text and HTML alternatives, thread headers). Pure."""
    from_name, from_addr = _parse_address(mail.from_address)
    domain = domain_of(from_addr)
    msg = EmailMessage()
    msg["From"] = Address(display_name=from_name, addr_spec=from_addr)
    try:
        msg["To"] = Address(
            display_name=_one_line(message.recipient_name or ""),
            addr_spec=_one_line(message.recipient),
        )
    except (ValueError, IndexError) as exc:
        raise DeliveryError(
            f"not a deliverable address: {message.recipient!r}", retryable=False
        ) from exc
    msg["Reply-To"] = ticket_address(mail.from_address, message.ticket_ref)
    msg["Subject"] = reply_subject(message.subject, message.ticket_ref)
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = message_id_for(message.idempotency_key, domain)
    own = external_id_for_reply(message.idempotency_key)
    thread = [
        hid for hid in (header_id(eid, domain) for eid in message.thread_ids if eid != own) if hid
    ]
    if thread:
        msg["In-Reply-To"] = thread[-1]
        kept = thread if len(thread) <= MAX_REFERENCES else [thread[0], *thread[-19:]]
        msg["References"] = " ".join(kept)
    # Ask Exchange not to answer our replies with out-of-office notes (loop prevention).
    msg["X-Auto-Response-Suppress"] = "All"
    msg["X-Parley-Ticket"] = message.ticket_ref
    msg.set_content(message.text)
    html = nh3.clean(message.html) if message.html else _text_to_html(message.text)
    msg.add_alternative(html, subtype="html")
    for filename, content_type, data in attachments:
        maintype, _, subtype = content_type.partition("/")
        msg.add_attachment(
            data,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=_one_line(filename),
        )
    return msg


class EmailAdapter:
    """ChannelAdapter for email: one reply, one SMTP transaction with the relay."""

    channel = Channel.email

    def __init__(
        self,
        smtp: SmtpSettings,
        mail: MailSettings,
        blobs: BlobStore,
        *,
        send: Send = aiosmtplib.send,
    ):
        self.smtp = smtp
        self.mail = mail
        self.blobs = blobs
        self._send = send

    async def deliver(self, message: OutboundMessage) -> DeliveryReceipt:
        """Send one reply. 4xx and connection trouble retry; 5xx is final."""
        files = [
            (a.filename, a.content_type, await self.blobs.get(a.blob_key))
            for a in message.attachments
        ]
        try:
            msg = build_reply(message, self.mail, files)
        except ValueError as exc:
            raise DeliveryError(f"cannot build the mail: {exc}", retryable=False) from exc
        password = self.smtp.relay_password.get_secret_value() if self.smtp.relay_password else None
        try:
            await self._send(
                msg,
                hostname=self.smtp.relay_host,
                port=self.smtp.relay_port,
                username=self.smtp.relay_username,
                password=password,
                start_tls=self.smtp.relay_starttls,
                use_tls=False,
                timeout=self.smtp.relay_timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            retryable = any(400 <= c < 500 for c in codes)
            raise self._failed(message, f"recipient refused: {exc}", retryable) from exc
        except aiosmtplib.SMTPResponseException as exc:
            detail = f"relay said {exc.code} {exc.message}"
            raise self._failed(message, detail, exc.code < 500) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise self._failed(message, f"relay unreachable: {exc!r}", True) from exc
        message_id = str(msg["Message-ID"]).strip("<>")
        metrics.sent.labels("sent").inc()
        log.info("email.reply_sent", ticket=message.ticket_ref, outbox_id=message.outbox_id)
        return DeliveryReceipt(provider_id=message_id)

    def _failed(self, message: OutboundMessage, detail: str, retryable: bool) -> DeliveryError:
        metrics.sent.labels("retry" if retryable else "failed").inc()
        log.warning(
            "email.reply_failed",
            ticket=message.ticket_ref,
            outbox_id=message.outbox_id,
            detail=detail,
            retryable=retryable,
        )
        return DeliveryError(detail, retryable=retryable)


def _parse_address(value: str) -> tuple[str, str]:
    pairs = getaddresses([value])
    name, addr = pairs[0] if pairs else ("", value)
    return _one_line(name), _one_line(addr or value)


def _one_line(value: str) -> str:
    """Field text with every line break folded to a space: never a second header."""
    return " ".join(value.replace("\x00", "").split())


def _text_to_html(text: str) -> str:
    paragraphs = text.replace("\r\n", "\n").split("\n\n")
    body = "".join(
        "<p>" + html_lib.escape(p).replace("\n", "<br>\n") + "</p>\n" for p in paragraphs
    )
    return f'<!DOCTYPE html>\n<html><body style="font-family:sans-serif">\n{body}</body></html>\n'
