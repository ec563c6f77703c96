"""The outbox's doors: what `enqueue` writes, and how a reply fails exactly once."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from gateway import notify
from gateway.audit import AuditEvent
from gateway.flows.bounces import replies_bounced
from gateway.outbox import service as outbox
from gateway.outbox.models import Outbox, OutboxState
from gateway.ports import Channel
from gateway.runtime import Runtime
from gateway.tickets.models import ActorType, DeliveryState, Message, Ticket
from tests.desk import new_ticket


async def actions(runtime: Runtime, ticket_id: int) -> list[str]:
    async with runtime.sessionmaker() as session:
        rows = await session.scalars(
            sa.select(AuditEvent.action)
            .where(AuditEvent.ticket_id == ticket_id)
            .order_by(AuditEvent.id)
        )
        return list(rows)


async def test_enqueue_writes_message_outbox_row_audit_and_wakes_workers(
    runtime: Runtime, unique: str
) -> None:
    ticket = await new_ticket(runtime, f"door-{unique}")
    async with runtime.notifier.subscribe(notify.OUTBOX) as signals:
        async with runtime.sessionmaker.begin() as session:
            message = await outbox.enqueue(
                session,
                ticket_id=ticket.ticket_id,
                channel="webchat",
                text="Your order is released",
                notifier=runtime.notifier,
                action="message.replied",
                author_type=ActorType.system,
            )
        async with runtime.sessionmaker() as session:
            row = (
                await session.execute(sa.select(Outbox).where(Outbox.message_id == message.id))
            ).scalar_one()
            stored = await session.get_one(Message, message.id)
        seen: set[str] = set()
        async with asyncio.timeout(10):
            while str(row.id) not in seen:
                seen.add(await signals.get())
    assert stored.direction == "outbound" and stored.delivery_state == DeliveryState.pending
    assert stored.external_id  # channels derive their stable ids from it
    assert row.state == OutboxState.pending and row.channel == "webchat"
    assert (await actions(runtime, ticket.ticket_id))[-1] == "message.replied"


async def test_a_failed_row_fails_once_and_a_sent_one_can_still_bounce(
    runtime: Runtime, unique: str
) -> None:
    ticket = await new_ticket(runtime, f"door-{unique}")
    async with runtime.sessionmaker.begin() as session:
        failing = await outbox.enqueue(
            session,
            ticket_id=ticket.ticket_id,
            channel="webchat",
            text="one",
            notifier=runtime.notifier,
            action="message.replied",
        )
        sent = await outbox.enqueue(
            session,
            ticket_id=ticket.ticket_id,
            channel="webchat",
            text="two",
            notifier=runtime.notifier,
            action="message.replied",
        )
    async with runtime.sessionmaker.begin() as session:
        rows = {
            r.message_id: r
            for r in await session.scalars(
                sa.select(Outbox).where(Outbox.message_id.in_([failing.id, sent.id]))
            )
        }
        first = await outbox.mark_undeliverable(
            session, rows[failing.id], state=OutboxState.failed, detail="refused"
        )
        again = await outbox.mark_undeliverable(
            session, rows[failing.id], state=OutboxState.dead, detail="refused again"
        )
        rows[sent.id].state = OutboxState.sent
        bounced = await outbox.mark_undeliverable(
            session, rows[sent.id], state=OutboxState.failed, detail="bounced"
        )
    assert first is not None and first.delivery_state == DeliveryState.failed
    assert again is None  # failed is final: not dead on top, not audited twice
    assert bounced is not None and bounced.delivery_state == DeliveryState.failed
    async with runtime.sessionmaker() as session:
        row = await session.get_one(Outbox, rows[failing.id].id)
    assert row.state == OutboxState.failed and row.last_error == "refused"
    assert (await actions(runtime, ticket.ticket_id)).count("message.delivery_failed") == 2


async def test_a_repeated_bounce_fails_the_reply_and_flags_the_ticket_once(
    runtime: Runtime, unique: str
) -> None:
    ticket = await new_ticket(runtime, f"door-{unique}", channel=Channel.email)
    async with runtime.sessionmaker.begin() as session:
        reply = await outbox.enqueue(
            session,
            ticket_id=ticket.ticket_id,
            channel="email",
            text="Please send the statement",
            notifier=runtime.notifier,
            action="message.replied",
        )
    assert reply.external_id
    async with runtime.sessionmaker.begin() as session:
        first = await replies_bounced(session, [reply.external_id], "mailbox full")
    async with runtime.sessionmaker.begin() as session:
        second = await replies_bounced(session, [reply.external_id], "mailbox full")
    assert first == [reply.id] and second == []
    async with runtime.sessionmaker() as session:
        flagged = await session.get_one(Ticket, ticket.ticket_id)
        row = (
            await session.execute(sa.select(Outbox).where(Outbox.message_id == reply.id))
        ).scalar_one()
    assert row.state == OutboxState.failed
    assert flagged.needs_attention and "bounced: mailbox full" in (flagged.attention_reason or "")
    events = await actions(runtime, ticket.ticket_id)
    assert events.count("message.bounced") == 1 and events.count("ticket.flagged") == 1
