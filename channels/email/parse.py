"""Raw mail bytes -> InboundMessage (or a reason to set it aside). Pure: no I/O.

Parsed with the stdlib `email` package under policy.default. Nothing here raises on a
real-world mail: lying charsets decode with a fallback, broken headers read as text,
HTML-only mail becomes text plus sanitised HTML, attachments keep their bytes (ingest
puts them in the blob store with their sha256).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from email.utils import getaddresses
from typing import cast

import nh3
from inscriptis import get_text

from channels.email.headers import clean_text, decode_words, header_text, raw_all
from channels.email.ids import message_ids_in, normalise_message_id, synthetic_id
from channels.email.loops import BOUNCE, LoopVerdict, bounce_info, classify
from channels.email.quotes import split_reply
from gateway.ports import Channel, Ignored, InboundAttachment, InboundMessage
from gateway.text import display_line, display_name

_PLUS_TOKEN = re.compile(r"^[^@+\s]+\+(d-\d{1,18})@([^@\s]+)$", re.IGNORECASE)
_SUBJECT_TOKEN = re.compile(r"\[\s*(D-\d{1,18})\s*\]", re.IGNORECASE)
_ADDRESS = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+$")
_TRUNCATED = "\n\n[... text cut at {limit} characters; the full mail is kept]"
# Tags an agent's browser may render; links keep only safe schemes (cid: for inline images).
_URL_SCHEMES = {"http", "https", "mailto", "cid"}
# Charsets mail clients declare while sending something else (usually UTF-8 or cp1252).
_WEAK_CHARSETS = {"us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "windows-1252", "cp1252"}


@dataclass(frozen=True, slots=True)
class ParsedMail:
    """One mail, parsed: the message to ingest, or why it is set aside."""

    external_id: str
    sender: str | None
    subject: str | None
    inbound: InboundMessage | None = None
    set_aside: LoopVerdict | None = None
    # For a bounce: Message-IDs of the mails it reports on, and whether delivery failed.
    bounced_ids: tuple[str, ...] = ()
    bounce_failed: bool = False
    defects: tuple[str, ...] = field(default=())


def parse_message(raw: bytes) -> EmailMessage:
    """The stdlib parse of raw bytes (never raises for bytes; defects are recorded)."""
    return BytesParser(policy=default_policy).parsebytes(raw)


def parse_mail(
    raw: bytes,
    *,
    our_domains: frozenset[str] = frozenset(),
    envelope_from: str | None = None,
    envelope_to: Sequence[str] = (),
    max_text_chars: int = 100_000,
    raw_blob_key: str | None = None,
    detect_loops: bool = True,
) -> ParsedMail:
    """Parse one mail. Raises only on a bug: the caller sets such a mail aside.

    `detect_loops=False` is the operator's override for a mail wrongly taken for a loop.
    """
    msg = parse_message(raw)
    external_id = normalise_message_id(header_text(msg, "Message-ID")) or synthetic_id(raw)
    sender, sender_name = _sender(msg, envelope_from)
    # Cut to the columns' sizes: PostgreSQL refuses longer values, and a refusal would
    # make the sender retry a mail we can never store.
    subject = display_line(header_text(msg, "Subject"), max_chars=998)
    defects = tuple(type(d).__name__ for d in msg.defects)

    verdict = classify(msg, envelope_from) if detect_loops else None
    if verdict is not None:
        bounced: tuple[str, ...] = ()
        failed = False
        if verdict.reason == BOUNCE:
            info = bounce_info(msg, our_domains)
            bounced, failed = info.original_ids, info.failed
            verdict = LoopVerdict(verdict.reason, f"{verdict.detail}; {info.detail}")
        return ParsedMail(external_id, sender, subject, None, verdict, bounced, failed, defects)

    body = _Body()
    _collect(msg, body)
    plain = "\n\n".join(t for t in (seg.text() for seg in body.segments) if t.strip())
    html_parts = [seg.html for seg in body.segments if seg.html]
    html = _sanitise("\n<hr>\n".join(html_parts)) if html_parts else None
    split = split_reply(plain)
    text = split.new.strip()
    if not text and not body.attachments and subject:
        # A mail with only a subject ("Order 123 not released") is still a message.
        text = subject
    if len(text) > max_text_chars:
        note = _TRUNCATED.format(limit=max_text_chars)
        text = text[: max_text_chars - len(note)] + note

    reply_to: dict[str, None] = {}
    for name in ("In-Reply-To", "References"):
        for mid in message_ids_in(header_text(msg, name)):
            reply_to.setdefault(mid, None)
    recipients = [*envelope_to]
    for name in ("To", "Cc", "Delivered-To", "X-Original-To"):
        recipients.extend(_addresses(raw_all(msg, name)))
    ticket_ref = _plus_token(recipients, our_domains) or _subject_token(subject)

    inbound = InboundMessage(
        channel=Channel.email,
        external_id=external_id,
        sender=sender or "",
        sender_name=sender_name,
        text=text,
        subject=subject,
        html=html,
        reply_to_ids=tuple(reply_to),
        ticket_ref=ticket_ref,
        contact_email=sender,
        attachments=tuple(body.attachments),
        raw_blob_key=raw_blob_key,
        metadata={
            k: v for k, v in {"quoted": split.quoted, "signature": split.signature}.items() if v
        },
    )
    return ParsedMail(external_id, sender, subject, inbound, None, (), False, defects)


def normalise(raw: bytes, *, our_domains: frozenset[str] = frozenset()) -> InboundMessage | Ignored:
    """The channel contract (gateway/ports.py): the InboundMessage of a mail, or Ignored
    with the reason when it is set aside (loop, bounce, bulk). The intake uses
    `parse_mail` itself, which also says which of our replies a bounce names."""
    parsed = parse_mail(raw, our_domains=our_domains)
    if parsed.inbound is not None:
        return parsed.inbound
    assert parsed.set_aside is not None
    return Ignored(parsed.set_aside.reason)


def decode_text(payload: bytes, charset: str | None) -> str:
    """Bytes of a text part as str: the declared charset when it is real and true, else
    UTF-8, else cp1252, else latin-1 (which cannot fail)."""
    declared = (charset or "").strip().strip("\"'").lower() or None
    candidates: list[str] = []
    if declared in _WEAK_CHARSETS:
        # A "latin-1" part that is valid UTF-8 with non-ASCII bytes is UTF-8 mislabelled.
        candidates = ["utf-8", "cp1252"]
    elif declared:
        candidates = [declared, "utf-8", "cp1252"]
    else:
        candidates = ["utf-8", "cp1252"]
    for name in candidates:
        try:
            return payload.decode(name)
        except (LookupError, UnicodeDecodeError, ValueError):
            continue
    return payload.decode("latin-1")


def html_to_text(html: str) -> str:
    """Readable text of an HTML body (layout-aware); falls back to stripping all tags."""
    try:
        return str(get_text(html)).strip()
    except Exception:  # inscriptis on pathological markup; the tag-stripper cannot fail
        import html as html_lib

        return html_lib.unescape(nh3.clean(html, tags=set())).strip()


def _sanitise(html: str) -> str:
    return nh3.clean(html, url_schemes=_URL_SCHEMES)


@dataclass
class _Segment:
    plain: str | None = None
    html: str | None = None

    def text(self) -> str:
        if self.plain is not None and self.plain.strip():
            return self.plain
        return html_to_text(self.html) if self.html else ""


@dataclass
class _Body:
    segments: list[_Segment] = field(default_factory=list)
    attachments: list[InboundAttachment] = field(default_factory=list)


def _collect(part: EmailMessage, body: _Body, related: bool = False) -> None:
    """Walk the MIME tree: readable text into segments, everything else an attachment."""
    ctype = part.get_content_type()
    maintype = part.get_content_maintype()
    payload = part.get_payload()
    if maintype == "multipart" and isinstance(payload, list):
        if ctype == "multipart/alternative":
            _collect_alternative(payload, body)
            return
        for child in payload:
            if isinstance(child, EmailMessage):
                _collect(child, body, related or ctype == "multipart/related")
        return
    if ctype in ("text/plain", "text/html") and not _is_attachment(part):
        text = decode_text(_payload_bytes(part), _charset(part))
        body.segments.append(_Segment(plain=text) if ctype == "text/plain" else _Segment(html=text))
        return
    body.attachments.append(_attachment(part, len(body.attachments) + 1, related))


def _collect_alternative(children: Sequence[object], body: _Body) -> None:
    """One segment from the alternatives: the plain one for text, the richest for HTML."""
    subs: list[_Body] = []
    for child in children:
        if isinstance(child, EmailMessage):
            sub = _Body()
            _collect(child, sub, related=True)
            subs.append(sub)
    plain = next((s for s in subs if any(seg.plain for seg in s.segments)), None)
    rich = next((s for s in reversed(subs) if any(seg.html for seg in s.segments)), None)
    segment = _Segment()
    if plain is not None:
        segment.plain = "\n\n".join(seg.plain for seg in plain.segments if seg.plain)
    if rich is not None:
        segment.html = "\n".join(seg.html for seg in rich.segments if seg.html)
    if segment.plain is None and segment.html is None:
        segments = [seg for s in subs for seg in s.segments]
        if segments:
            segment = segments[-1]
    if segment.plain is not None or segment.html is not None:
        body.segments.append(segment)
    # Inline images of the HTML alternative, calendar invites and the like stay attached.
    for sub in subs:
        body.attachments.extend(sub.attachments)


def _is_attachment(part: EmailMessage) -> bool:
    disposition = (part.get_content_disposition() or "").lower()
    return disposition == "attachment" or (disposition != "inline" and bool(_filename(part)))


def _attachment(part: EmailMessage, n: int, related: bool) -> InboundAttachment:
    ctype = part.get_content_type()
    if ctype == "message/rfc822":
        data = _embedded_bytes(part)
        inner = part.get_payload()
        inner_subject = (
            header_text(cast(EmailMessage, inner[0]), "Subject")
            if isinstance(inner, list) and inner
            else ""
        )
        name = _filename(part) or f"{_safe_name(inner_subject) or f'forwarded-{n}'}.eml"
    else:
        data = _payload_bytes(part)
        name = _filename(part) or f"part-{n}{_extension(ctype)}"
    disposition = (part.get_content_disposition() or "").lower()
    inline = disposition == "inline" or (
        disposition != "attachment" and related and part.get("Content-ID") is not None
    )
    return InboundAttachment(
        filename=name[:255],
        content_type=clean_text(ctype),
        size=len(data),
        data=data,
        inline=inline,
    )


def _payload_bytes(part: EmailMessage) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:  # broken transfer encoding: keep what is there
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def _embedded_bytes(part: EmailMessage) -> bytes:
    inner = part.get_payload()
    if isinstance(inner, list) and inner:
        # A message/rfc822 part's payload is the one message (an EmailMessage here).
        message = cast(EmailMessage, inner[0])
        try:
            return message.as_bytes()
        except Exception:  # unserialisable header: fall back to the text form
            return message.as_string().encode("utf-8", "surrogateescape")
    return _payload_bytes(part)


def _charset(part: EmailMessage) -> str | None:
    try:
        return part.get_content_charset()
    except Exception:
        return None


def _filename(part: EmailMessage) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        return None
    if not name:
        return None
    name = " ".join(clean_text(str(name)).split())
    return name.replace("/", "_").replace("\\", "_") or None


def _safe_name(value: str) -> str:
    return re.sub(r"[^\w.\- ]+", "_", value).strip()[:100]


def _extension(ctype: str) -> str:
    import mimetypes

    return mimetypes.guess_extension(ctype) or ".bin"


def _charset_safe_lower(value: str) -> str:
    return value.strip().lower()


def _sender(msg: EmailMessage, envelope_from: str | None) -> tuple[str | None, str | None]:
    """The From address (lowercased) and display name; the envelope sender as fallback.

    The address is the addr-spec of the raw header, parsed before any encoded word is
    decoded: a display name like `=?utf-8?b?...?=` decoding to `carol@example.org, ` or
    `Evil\r\nBcc: x@y` is display text, never an address or a header. The decoded name
    is scrubbed to one line and dropped when it holds an address."""
    for raw in raw_all(msg, "From") + raw_all(msg, "Sender"):
        for name, addr in getaddresses([raw]):
            addr = _charset_safe_lower(addr)
            if _ADDRESS.match(addr):
                return clean_text(addr), display_name(decode_words(name))
    if envelope_from:
        addr = _charset_safe_lower(envelope_from.strip("<> "))
        if _ADDRESS.match(addr):
            return addr, None
    return None, None


def _addresses(values: list[str]) -> list[str]:
    return [addr for _, addr in getaddresses(values) if addr]


def _plus_token(addresses: Sequence[str], our_domains: frozenset[str]) -> str | None:
    for address in addresses:
        found = _PLUS_TOKEN.match(address.strip().strip("<>"))
        if found and (not our_domains or found.group(2).lower() in our_domains):
            return found.group(1).upper()
    return None


def _subject_token(subject: str | None) -> str | None:
    found = _SUBJECT_TOKEN.search(subject or "")
    return found.group(1).upper() if found else None
