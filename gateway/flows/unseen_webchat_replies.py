"""Replies a visitor never received go out by email too.

A visitor who closed the tab cannot see an agent's answer until they come back. When
they left an email address and the email channel is configured, a reply that has not
reached any of their sockets or history reads (the "seen" marker) within
`GATEWAY_WEBCHAT_EMAIL_COPY_AFTER_SECONDS` is copied into an email reply on the same
ticket: its own message and outbox row, so delivery, retries and the audit trail are the
outbox's. The copy's id is the reply's id plus ".mail", which makes the copy exactly-once
across processes (unique per channel) and lets the customer's email answer thread back.

The webchat channel records the "seen" marker through the history port (`replies_seen`,
gateway/doors.py) under `seen_key`; this flow only reads it.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from gateway.db import lock_key, utcnow
from gateway.flows.seen import seen_key
from gateway.outbox import service as outbox
from gateway.ports import Channel
from gateway.system import repository as system
from gateway.tickets import repository as tickets_repo
from gateway.tickets.models import ActorType, Customer, DeliveryState, Direction, Message, Ticket

if TYPE_CHECKING:
    from gateway.runtime import Runtime

log = structlog.get_logger()

COPY_SUFFIX = ".mail"
# Replies older than this are history, not news: never mailed, whatever the marker says.
HORIZON = timedelta(days=1)


class UnseenRepliesByEmail:
    name = "webchat-email-copies"

    def __init__(self, runtime: Runtime, interval: float = 15.0):
        self.runtime = runtime
        self.after = timedelta(seconds=runtime.settings.webchat.email_copy_after_seconds)
        self.interval = interval

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if Channel.email in self.runtime.adapters:
                await self.sweep()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.interval)

    async def sweep(self) -> int:
        """Copy every reply that is due; how many copies were made."""
        now = utcnow()
        copy = aliased(Message)
        made = 0
        async with self.runtime.sessionmaker.begin() as session:
            rows = await session.execute(
                sa.select(Message, col(Ticket.identity_id))
                .join(Ticket, col(Ticket.id) == col(Message.ticket_id))
                .join(Customer, col(Customer.id) == col(Ticket.customer_id))
                .where(
                    col(Message.channel) == str(Channel.webchat),
                    col(Message.direction) == Direction.outbound,
                    col(Message.author_type) == ActorType.agent,
                    # Delivered to the chat (sockets signalled): only then can it go unseen.
                    col(Message.delivery_state) == DeliveryState.sent,
                    col(Message.created_at) <= now - self.after,
                    col(Message.created_at) > now - HORIZON,
                    col(Customer.email).is_not(None),
                    ~sa.exists().where(
                        col(copy.channel) == str(Channel.email),
                        col(copy.external_id) == col(Message.external_id) + COPY_SUFFIX,
                    ),
                )
                .order_by(col(Message.id))
                .limit(200)
            )
            for reply, identity_id in rows.all():
                seen = await system.get(session, seen_key(identity_id))
                if seen is not None and int(seen) >= (reply.id or 0):
                    continue
                if await self._copy(session, reply):
                    made += 1
        if made:
            log.info("webchat.replies_copied_by_email", count=made)
        return made

    async def _copy(self, session: AsyncSession, reply: Message) -> bool:
        assert reply.external_id
        external_id = reply.external_id + COPY_SUFFIX
        # Another process may copy the same reply right now: whoever locks first copies.
        await lock_key(session, "msg", str(Channel.email), external_id)
        if await tickets_repo.message_by_external_id(session, str(Channel.email), external_id):
            return False
        await outbox.enqueue(
            session,
            ticket_id=reply.ticket_id,
            channel=str(Channel.email),
            text=reply.text,
            notifier=self.runtime.notifier,
            action="message.copied_by_email",
            author_type=ActorType.agent,
            author_agent_id=reply.author_agent_id,
            audit_actor=ActorType.system,
            external_id=external_id,
            copy_of=reply.id,
        )
        return True
