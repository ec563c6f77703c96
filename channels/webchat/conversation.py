"""A visitor's conversation: their messages in (exactly once per client_id), what they
see (their messages and agents' replies, never notes), the buttons they tap, and the
replies they say they saw."""

from __future__ import annotations

import dataclasses
import time

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from channels.webchat.normalise import normalise
from channels.webchat.schemas import (
    Ack,
    AttachmentMeta,
    ChoiceAnswer,
    ChoiceFrame,
    MessageFrame,
)
from channels.webchat.sessions import Visitor
from channels.webchat.uploads import Uploads
from gateway import topics
from gateway.channel_ports import ChannelPorts, ConversationItem
from gateway.errors import InvalidInbound, InvalidRequest, TooManyRequests
from gateway.ports import Channel

log = structlog.get_logger()

HISTORY_PAGE = 200


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


class Conversation:
    def __init__(self, ports: ChannelPorts, uploads: Uploads) -> None:
        self.ports = ports
        self.uploads = uploads
        self.settings = ports.settings.webchat
        self.limiter = RateLimiter(self.settings.messages_per_minute)

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
        # The frame's own fields are checked before its upload ids are.
        inbound = normalise(visitor, client_id, text, max_chars=self.settings.max_message_chars)
        attachments = await self.uploads.attached(visitor, attachment_ids)
        inbound = dataclasses.replace(inbound, attachments=attachments)
        ports = self.ports
        async with ports.sessionmaker.begin() as session:
            result = await ports.intake.ingest(session, inbound)
            if not result.duplicate:
                # Other sockets of this visitor (other tabs, other processes) show it too.
                identity_id = await self._identity_id(session, visitor.visitor_id)
                if identity_id is not None:
                    await ports.notifier.publish(session, topics.WEBCHAT, str(identity_id))
        log.info(
            "webchat.message_stored",
            visitor_id=visitor.visitor_id,
            message_id=result.message_id,
            ticket=result.ticket_ref,
            duplicate=result.duplicate,
        )
        assert isinstance(client_id, str)  # normalise refused anything else
        return Ack(client_id=client_id, message_id=result.message_id, ticket=result.ticket_ref)

    async def identity_id(self, visitor_id: str) -> int | None:
        async with self.ports.sessionmaker() as session:
            return await self._identity_id(session, visitor_id)

    async def _identity_id(self, session: AsyncSession, visitor_id: str) -> int | None:
        identity = await self.ports.identities.identity(session, Channel.webchat, visitor_id)
        return identity.id if identity is not None else None

    async def history(
        self, identity_id: int | None, after: int, limit: int = HISTORY_PAGE
    ) -> list[MessageFrame]:
        """The visitor's messages with id > `after`, oldest first: what they wrote and
        what agents answered; never notes, never another visitor's conversation."""
        if identity_id is None:
            return []
        async with self.ports.sessionmaker() as session:
            items = await self.ports.history.conversation(
                session, Channel.webchat, identity_id, after=after, limit=limit
            )
        # A read is not a receipt: only the widget's seen frame or POST .../seen is.
        return [_frame(item) for item in items]

    async def answer_choice(self, visitor: Visitor, value: str) -> ChoiceAnswer:
        """A button the visitor tapped (a survey rating); the text to show them, and the
        comment question when the card may now ask for one."""
        async with self.ports.sessionmaker.begin() as session:
            answered = await self.ports.intake.answer_choice(
                session, Channel.webchat, visitor.visitor_id, value
            )
        if answered is None:
            raise InvalidRequest("that choice is not offered")
        return ChoiceAnswer(
            text=answered.text, comment_prompt=answered.comment_prompt, skip=answered.skip
        )

    async def comment_choice(self, visitor: Visitor, value: str, comment: str) -> str:
        """The optional comment typed on the card after its rating `value`."""
        async with self.ports.sessionmaker.begin() as session:
            text = await self.ports.intake.comment_choice(
                session, Channel.webchat, visitor.visitor_id, value, comment
            )
        if text is None:
            raise InvalidRequest("that choice is not offered")
        return text

    async def mark_seen(self, visitor: Visitor, message_id: object) -> None:
        """The visitor's widget showed every reply up to `message_id` (its seen frame
        or POST /channels/webchat/seen), so the email fallback knows which replies they
        never got. Only a message of their own conversation counts."""
        if not isinstance(message_id, int) or isinstance(message_id, bool) or message_id < 1:
            raise InvalidInbound("seen needs 'message_id': a message id (integer >= 1)")
        async with self.ports.sessionmaker.begin() as session:
            identity_id = await self._identity_id(session, visitor.visitor_id)
            owner = await self.ports.history.identity_of_message(
                session, Channel.webchat, message_id
            )
            if identity_id is None or owner != identity_id:
                raise InvalidInbound("seen names a message that is not in this conversation")
            await self.ports.history.replies_seen(session, Channel.webchat, identity_id, message_id)


def _frame(item: ConversationItem) -> MessageFrame:
    client_id = None
    if item.inbound and item.external_id and ":" in item.external_id:
        client_id = item.external_id.split(":", 1)[1]
    return MessageFrame(
        message_id=item.message_id,
        author="customer" if item.inbound else "agent",
        text=item.text,
        created_at=item.created_at.isoformat(),
        client_id=client_id,
        attachments=[
            AttachmentMeta(filename=f.filename, content_type=f.content_type, size=f.size)
            for f in item.files
        ],
        choices=[ChoiceFrame(label=c.label, value=c.value) for c in item.choices],
    )
