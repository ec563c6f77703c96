"""Webchat use cases shared by the websocket, the HTTP fallback and the adapter.

A visitor is who holds a session token: `visitor_id` is their channel address and their
one conversation's thread key, so a visitor only ever reaches their own messages.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import sqlalchemy as sa
import structlog
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.ext.asyncio import AsyncSession

from channels.webchat import tokens
from channels.webchat.schemas import (
    Ack,
    AttachmentMeta,
    AttachmentUploaded,
    ChoiceAnswer,
    ChoiceFrame,
    MessageFrame,
    SessionCreate,
    SessionPublic,
)
from gateway import notify
from gateway.errors import (
    InvalidInbound,
    InvalidRequest,
    PayloadTooLarge,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
)
from gateway.flows.unseen_webchat_replies import seen_key
from gateway.ports import Channel, Choice, InboundAttachment, InboundMessage
from gateway.runtime import Runtime
from gateway.sniff import sniff as sniff_mime
from gateway.system import repository as system
from gateway.text import display_name, problem_in
from gateway.tickets import repository as repo
from gateway.tickets.models import Attachment, ChannelIdentity, Direction, Message, Ticket

log = structlog.get_logger()

SECRET_STATE_KEY = "webchat.secret"


CHANNEL = str(Channel.webchat)
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")
HISTORY_PAGE = 200

# What a visitor may attach, recognised by its first bytes (gateway.sniff), never by the
# name or the declared type: screenshots, PDFs, and screen recordings of a payment.
_ALLOWED: dict[str, str] = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "image/webp": "webp",
    "application/pdf": "pdf",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/webm": "webm",
}


@dataclass(frozen=True, slots=True)
class Visitor:
    """What a valid session token says about its holder."""

    visitor_id: str
    user_id: str | None = None
    email: str | None = None
    # The exchange vouched for the address (email_hash): only then is it the customer's
    # contact address, mailed reply copies. An unvouched one could be anyone's.
    email_vouched: bool = False
    language: str | None = None
    name: str | None = None


def sniff(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) of an allowed file type by its magic bytes, else None."""
    content_type = sniff_mime(data)
    if content_type is None or content_type not in _ALLOWED:
        return None
    return content_type, _ALLOWED[content_type]


def origin_allowed(origin: str | None, host: str | None, allowed: list[str]) -> bool:
    """Whether a page at `origin` may talk to this gateway.

    No Origin header means a non-browser client (which could claim any origin anyway):
    the token is what authenticates. `"*"` in `allowed` admits every origin; an empty
    list admits only the gateway's own origin (same host and port).
    """
    if origin is None:
        return True
    origin = origin.strip().rstrip("/").lower()
    if "*" in allowed or origin in {a.strip().rstrip("/").lower() for a in allowed}:
        return True
    try:
        netloc = urlsplit(origin).netloc
    except ValueError:  # "http://[" and the like: not an origin any page can have
        return False
    return bool(host) and netloc == (host or "").lower()


class RateLimiter:
    """A token bucket per visitor, in this process only: N gateway processes admit up
    to N times the rate in total, which still stops one visitor flooding a socket."""

    def __init__(self, per_minute: int):
        self.capacity = float(max(per_minute, 1))
        self.rate = self.capacity / 60.0
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        tokens_left, last = self._buckets.get(key, (self.capacity, now))
        tokens_left = min(self.capacity, tokens_left + (now - last) * self.rate)
        if tokens_left < 1.0:
            self._buckets[key] = (tokens_left, now)
            return False
        self._buckets[key] = (tokens_left - 1.0, now)
        if len(self._buckets) > 100_000:  # forget idle visitors: a full bucket is the default
            self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < 60 / self.rate}
        return True


class WebchatService:
    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self.settings = runtime.settings.webchat
        self.limiter = RateLimiter(self.settings.messages_per_minute)
        self._key: bytes | None = None
        self._key_lock = asyncio.Lock()

    # -- keys and sessions -------------------------------------------------------------

    async def key(self) -> bytes:
        """The token signing key: the setting, else one generated once and shared by
        every process through the database (the first writer wins)."""
        if self._key is not None:
            return self._key
        async with self._key_lock:
            if self._key is None:
                if self.settings.secret is not None:
                    self._key = self.settings.secret.get_secret_value().encode()
                else:
                    self._key = (await self._stored_secret()).encode()
        return self._key

    async def _stored_secret(self) -> str:
        async with self.runtime.sessionmaker.begin() as session:
            return await system.put_if_absent(session, SECRET_STATE_KEY, secrets.token_urlsafe(48))

    async def create_session(self, body: SessionCreate) -> SessionPublic:
        """Issue a token for a new visitor; a user id counts only when its hash checks."""
        user_id = (body.user_id or "").strip() or None
        identity_secret = self.settings.identity_secret
        verified: str | None = None
        if identity_secret is not None and user_id is not None:
            if not body.user_hash or not tokens.user_hash_valid(
                identity_secret.get_secret_value().encode(), user_id, body.user_hash
            ):
                log.warning("webchat.identity_rejected", user_id=user_id[:64])
                raise Unauthorized("user_hash is not the HMAC-SHA256 of user_id")
            verified = user_id
        if self.settings.require_identity and verified is None:
            raise Unauthorized("this desk requires a verified user_id with its user_hash")
        email = (body.email or "").strip() or None
        if email is not None:
            try:
                email = validate_email(email, check_deliverability=False).normalized
            except EmailNotValidError as exc:
                raise InvalidInbound(f"email is not an address: {exc}") from None
        vouched = False
        if email is not None and body.email_hash:
            if identity_secret is None or not tokens.email_hash_valid(
                identity_secret.get_secret_value().encode(), email, body.email_hash
            ):
                raise Unauthorized("email_hash is not the HMAC-SHA256 of the email")
            vouched = True
        language = (body.language or "").strip() or None
        if language is not None and not LANGUAGE.match(language):
            raise InvalidInbound("language is not a language tag like 'en' or 'pt-BR'")
        name = display_name(body.name, max_chars=200)
        visitor_id = uuid.uuid4().hex
        payload = {
            "v": visitor_id,
            "u": verified,
            "e": email,
            "ev": vouched or None,
            "l": language,
            "n": name,
        }
        ttl = self.settings.session_ttl_seconds
        token = tokens.sign(
            await self.key(),
            tokens.SESSION,
            {k: v for k, v in payload.items() if v is not None},
            ttl_seconds=ttl,
        )
        log.info("webchat.session_created", visitor_id=visitor_id, verified=bool(verified))
        return SessionPublic(
            token=token,
            visitor_id=visitor_id,
            expires_at=int(time.time()) + ttl,
            verified=verified is not None,
        )

    async def authenticate(self, token: str | None) -> Visitor:
        """The visitor a session token names; Unauthorized for anything else."""
        try:
            payload = tokens.verify(await self.key(), tokens.SESSION, token or "")
        except tokens.InvalidToken as exc:
            raise Unauthorized(f"session token rejected: {exc}") from exc
        visitor_id = payload.get("v")
        if not isinstance(visitor_id, str) or not visitor_id:
            raise Unauthorized("session token rejected: no visitor")
        return Visitor(
            visitor_id=visitor_id,
            user_id=payload.get("u"),
            email=payload.get("e"),
            email_vouched=payload.get("ev") is True,
            language=payload.get("l"),
            name=payload.get("n"),
        )

    # -- messages ----------------------------------------------------------------------

    def check_rate(self, visitor: Visitor) -> None:
        if not self.limiter.allow(visitor.visitor_id):
            raise TooManyRequests(
                f"too many messages: at most {self.settings.messages_per_minute} a minute"
            )

    async def post_message(
        self,
        visitor: Visitor,
        client_id: object,
        text: object,
        attachment_ids: object = (),
    ) -> Ack:
        """Store one visitor message exactly once (per client_id) and return its ack.

        Commits before returning: the ack may be sent as soon as this returns."""
        if not isinstance(client_id, str) or not CLIENT_ID.match(client_id):
            raise InvalidInbound("client_id must be 1-64 characters of A-Z a-z 0-9 _ -")
        if not isinstance(text, str):
            raise InvalidInbound("text must be a string")
        if problem := problem_in(text):
            raise InvalidInbound(f"text {problem}")
        if len(text) > self.settings.max_message_chars:
            raise PayloadTooLarge(
                f"message is {len(text)} characters; the limit is {self.settings.max_message_chars}"
            )
        attachments = await self._attachments(visitor, attachment_ids)
        inbound = InboundMessage(
            channel=Channel.webchat,
            external_id=f"{visitor.visitor_id}:{client_id}",
            sender=visitor.visitor_id,
            sender_name=visitor.name,
            text=text,
            thread_key=visitor.visitor_id,
            language_hint=visitor.language.split("-")[0].split("_")[0].lower()
            if visitor.language
            else None,
            verified_user_id=visitor.user_id,
            contact_email=visitor.email if visitor.email_vouched else None,
            attachments=attachments,
        )
        runtime = self.runtime
        async with runtime.sessionmaker.begin() as session:
            result = await runtime.ingest(session, inbound)
            if not result.duplicate:
                # Other sockets of this visitor (other tabs, other processes) show it too.
                identity_id = await self._identity_id(session, visitor.visitor_id)
                if identity_id is not None:
                    await runtime.notifier.publish(session, notify.WEBCHAT, str(identity_id))
        log.info(
            "webchat.message_stored",
            visitor_id=visitor.visitor_id,
            message_id=result.message_id,
            ticket=result.ticket_ref,
            duplicate=result.duplicate,
        )
        return Ack(client_id=client_id, message_id=result.message_id, ticket=result.ticket_ref)

    async def _attachments(
        self, visitor: Visitor, attachment_ids: object
    ) -> tuple[InboundAttachment, ...]:
        if attachment_ids is None:
            return ()
        if not isinstance(attachment_ids, list | tuple) or not all(
            isinstance(a, str) for a in attachment_ids
        ):
            raise InvalidInbound("attachments must be a list of attachment ids")
        if len(attachment_ids) > self.settings.max_attachments_per_message:
            raise InvalidInbound(
                f"at most {self.settings.max_attachments_per_message} attachments a message"
            )
        result = []
        for attachment_id in attachment_ids:
            try:
                payload = tokens.verify(await self.key(), tokens.ATTACHMENT, attachment_id)
            except tokens.InvalidToken as exc:
                raise InvalidInbound(f"attachment id rejected: {exc}") from exc
            # An upload belongs to the visitor who made it: no one else can send it on.
            if payload.get("v") != visitor.visitor_id:
                raise InvalidInbound("attachment id rejected: not this visitor's upload")
            result.append(
                InboundAttachment(
                    filename=str(payload["n"]),
                    content_type=str(payload["t"]),
                    size=int(payload["s"]),
                    blob_key=str(payload["k"]),
                    sha256=str(payload["k"]),
                )
            )
        return tuple(result)

    async def store_attachment(
        self, visitor: Visitor, data: bytes, filename: str | None
    ) -> AttachmentUploaded:
        """Keep an uploaded file's bytes and return an id only this visitor can send."""
        if len(data) > self.settings.max_attachment_bytes:
            raise PayloadTooLarge(f"file is larger than {self.settings.max_attachment_bytes} bytes")
        if not data:
            raise InvalidInbound("empty file")
        kind = sniff(data)
        if kind is None:
            raise UnsupportedMediaType(
                "only PNG, JPEG, WebP, GIF, PDF and MP4, MOV or WebM videos can be attached"
            )
        content_type, ext = kind
        stem = re.sub(r"[^\w.-]+", "_", (filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1])
        stem = stem.strip("._")[:100].rsplit(".", 1)[0] or "screenshot"
        name = f"{stem}.{ext}"
        blob_key = await self.runtime.blobs.put(data)
        attachment_id = tokens.sign(
            await self.key(),
            tokens.ATTACHMENT,
            {"v": visitor.visitor_id, "k": blob_key, "t": content_type, "n": name, "s": len(data)},
            ttl_seconds=24 * 3600,
        )
        log.info("webchat.attachment_stored", visitor_id=visitor.visitor_id, size=len(data))
        return AttachmentUploaded(
            attachment_id=attachment_id, filename=name, content_type=content_type, size=len(data)
        )

    # -- history -----------------------------------------------------------------------

    async def identity_id(self, visitor_id: str) -> int | None:
        async with self.runtime.sessionmaker() as session:
            return await self._identity_id(session, visitor_id)

    @staticmethod
    async def _identity_id(session: AsyncSession, visitor_id: str) -> int | None:
        identity = await repo.identity(session, CHANNEL, visitor_id)
        return identity.id if identity is not None else None

    async def history(
        self, identity_id: int | None, after: int, limit: int = HISTORY_PAGE
    ) -> list[MessageFrame]:
        """The visitor's messages with id > `after`, oldest first: what they wrote and
        what agents answered; never notes, never another visitor's conversation."""
        if identity_id is None:
            return []
        async with self.runtime.sessionmaker() as session:
            rows = (
                await session.execute(
                    sa.select(Message)
                    .join(Ticket, Ticket.id == Message.ticket_id)
                    .where(
                        Ticket.identity_id == identity_id,
                        Ticket.channel == CHANNEL,
                        # Email copies of replies live on the ticket too; not in the chat.
                        Message.channel == CHANNEL,
                        Message.id > after,
                        Message.direction.in_([Direction.inbound, Direction.outbound]),
                    )
                    .order_by(Message.id)
                    .limit(limit)
                )
            ).scalars()
            messages = list(rows)
            files: dict[int, list[AttachmentMeta]] = {}
            if messages:
                for item in (
                    await session.execute(
                        sa.select(Attachment)
                        .where(Attachment.message_id.in_([m.id for m in messages]))
                        .order_by(Attachment.id)
                    )
                ).scalars():
                    files.setdefault(item.message_id, []).append(
                        AttachmentMeta(
                            filename=item.filename, content_type=item.content_type, size=item.size
                        )
                    )
            replies = [m.id for m in messages if m.direction == Direction.outbound and m.id]
            choices = await self.runtime.choices_for(session, replies)
        if replies:
            await self.mark_seen(identity_id, max(replies))
        return [_frame(m, files.get(m.id or 0, []), choices.get(m.id or 0, ())) for m in messages]

    async def answer_choice(self, visitor: Visitor, value: str) -> ChoiceAnswer:
        """A button the visitor tapped (a survey rating); the text to show them, and the
        comment question when the card may now ask for one."""
        async with self.runtime.sessionmaker.begin() as session:
            answered = await self.runtime.answer_choice(
                session, Channel.webchat, visitor.visitor_id, value
            )
        if answered is None:
            raise InvalidRequest("that choice is not offered")
        return ChoiceAnswer(
            text=answered.text, comment_prompt=answered.comment_prompt, skip=answered.skip
        )

    async def comment_choice(self, visitor: Visitor, value: str, comment: str) -> str:
        """The optional comment typed on the card after its rating `value`."""
        async with self.runtime.sessionmaker.begin() as session:
            text = await self.runtime.comment_choice(
                session, Channel.webchat, visitor.visitor_id, value, comment
            )
        if text is None:
            raise InvalidRequest("that choice is not offered")
        return text

    async def mark_seen(self, identity_id: int, message_id: int) -> None:
        """Remember the newest reply that reached this visitor (socket push or HTTP
        read), so the email fallback knows which replies they never got."""
        async with self.runtime.sessionmaker.begin() as session:
            await system.raise_to(session, seen_key(identity_id), message_id)


def _frame(
    message: Message, files: list[AttachmentMeta], choices: tuple[Choice, ...] = ()
) -> MessageFrame:
    inbound = message.direction == Direction.inbound
    client_id = None
    if inbound and message.external_id and ":" in message.external_id:
        client_id = message.external_id.split(":", 1)[1]
    assert message.id is not None
    return MessageFrame(
        message_id=message.id,
        author="customer" if inbound else "agent",
        text=message.text,
        created_at=message.created_at.isoformat(),
        client_id=client_id,
        attachments=files,
        choices=[ChoiceFrame(label=c.label, value=c.value) for c in choices],
    )


async def identity_of_message(session: AsyncSession, message_id: int) -> int | None:
    """The webchat identity whose conversation holds a message."""
    return await session.scalar(
        sa.select(Ticket.identity_id)
        .join(Message, Message.ticket_id == Ticket.id)
        .join(ChannelIdentity, ChannelIdentity.id == Ticket.identity_id)
        .where(Message.id == message_id, ChannelIdentity.channel == CHANNEL)
    )
