"""ingest(): exactly once, the right ticket, nothing written for bad input."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import uuid

import pytest
import sqlalchemy as sa

from gateway import audit, audit_chain, notify
from gateway.audit import AuditEvent
from gateway.errors import InvalidInbound
from gateway.ports import Channel, InboundAttachment, InboundMessage
from gateway.runtime import Runtime
from gateway.tickets.intake import IngestResult, ingest
from gateway.tickets.models import (
    Attachment,
    ChannelIdentity,
    Customer,
    Message,
    Ticket,
    TicketStatus,
)
from tests.desk import someone_waits_for_a_lock


def inbound(
    sender: str, text: str = "I paid but the USDT was not released", **kw: object
) -> InboundMessage:
    fields: dict[str, object] = {
        "channel": Channel.telegram,
        "external_id": uuid.uuid4().hex,
        "sender": sender,
        "text": text,
        "thread_key": sender,
    }
    return InboundMessage(**(fields | kw))  # type: ignore[arg-type]


async def store(runtime: Runtime, message: InboundMessage) -> IngestResult:
    async with runtime.sessionmaker.begin() as session:
        return await ingest(session, message, limits=runtime.settings.ingest, blobs=runtime.blobs)


async def count(runtime: Runtime, stmt: sa.Select[tuple[int]]) -> int:
    async with runtime.sessionmaker() as session:
        return (await session.execute(stmt)).scalar_one()


async def set_status(runtime: Runtime, ticket_id: int, status: TicketStatus) -> None:
    async with runtime.sessionmaker.begin() as session:
        ticket = await session.get_one(Ticket, ticket_id)
        ticket.status = status


async def test_first_message_opens_ticket_in_default_queue(runtime: Runtime, unique: str) -> None:
    result = await store(runtime, inbound(f"user-{unique}", sender_name="Ann"))
    assert result.new_ticket and not result.duplicate
    assert result.ticket_ref == f"D-{result.ticket_id}"
    async with runtime.sessionmaker() as session:
        ticket = await session.get_one(Ticket, result.ticket_id)
        customer = await session.get_one(Customer, ticket.customer_id)
        events = (
            await session.execute(
                sa.select(AuditEvent.action).where(AuditEvent.ticket_id == ticket.id)
            )
        ).scalars()
        assert ticket.status == TicketStatus.new
        assert ticket.subject == "I paid but the USDT was not released"
        assert ticket.first_response_due is not None and ticket.resolution_due is not None
        assert customer.display_name == "Ann"
        assert set(events) >= {"ticket.created", "message.received"}


async def test_same_external_id_twice_stores_once(runtime: Runtime, unique: str) -> None:
    message = inbound(f"user-{unique}")
    first = await store(runtime, message)
    again = await store(runtime, message)
    assert again.duplicate and (again.message_id, again.ticket_id) == (
        first.message_id,
        first.ticket_id,
    )
    assert (
        await count(
            runtime, sa.select(sa.func.count()).where(Message.external_id == message.external_id)
        )
        == 1
    )


async def test_fifty_concurrent_copies_store_one_message(runtime: Runtime, unique: str) -> None:
    message = inbound(f"user-{unique}")
    results = await asyncio.gather(*(store(runtime, message) for _ in range(50)))
    assert len({r.message_id for r in results}) == 1
    assert sum(not r.duplicate for r in results) == 1
    assert (
        await count(
            runtime, sa.select(sa.func.count()).where(Message.external_id == message.external_id)
        )
        == 1
    )
    assert (
        await count(
            runtime, sa.select(sa.func.count()).where(Ticket.thread_key == f"user-{unique}")
        )
        == 1
    )


async def test_five_hundred_concurrent_distinct_messages_store_all(
    runtime: Runtime, backend: str, unique: str
) -> None:
    n = 500 if backend == "postgresql" else 100
    senders = [f"crowd-{unique}-{i % 50}" for i in range(n)]
    results = await asyncio.gather(*(store(runtime, inbound(s)) for s in senders))
    assert len({r.message_id for r in results}) == n
    stored = await count(
        runtime,
        sa.select(sa.func.count())
        .select_from(Message)
        .join(Ticket)
        .where(Ticket.thread_key.like(f"crowd-{unique}-%")),
    )
    assert stored == n
    # 50 senders each writing 10 times at once: one conversation each, never two.
    tickets = await count(
        runtime, sa.select(sa.func.count()).where(Ticket.thread_key.like(f"crowd-{unique}-%"))
    )
    assert tickets == 50


async def test_follow_up_threads_onto_open_ticket(runtime: Runtime, unique: str) -> None:
    first = await store(runtime, inbound(f"user-{unique}"))
    second = await store(runtime, inbound(f"user-{unique}", text="order 123456 still open"))
    assert second.ticket_id == first.ticket_id and not second.new_ticket


async def test_resolved_ticket_reopens_and_closed_one_gets_a_linked_successor(
    runtime: Runtime, unique: str
) -> None:
    first = await store(runtime, inbound(f"user-{unique}"))
    await set_status(runtime, first.ticket_id, TicketStatus.resolved)
    reopened = await store(runtime, inbound(f"user-{unique}", text="still not released!"))
    assert reopened.ticket_id == first.ticket_id
    async with runtime.sessionmaker() as session:
        assert (await session.get_one(Ticket, first.ticket_id)).status == TicketStatus.open

    await set_status(runtime, first.ticket_id, TicketStatus.closed)
    successor = await store(runtime, inbound(f"user-{unique}", text="new problem"))
    assert successor.new_ticket and successor.ticket_id != first.ticket_id
    async with runtime.sessionmaker() as session:
        assert (
            await session.get_one(Ticket, successor.ticket_id)
        ).parent_ticket_id == first.ticket_id


async def test_another_customer_never_joins_by_thread_key_or_reference(
    runtime: Runtime, unique: str
) -> None:
    owner = await store(runtime, inbound(f"owner-{unique}", thread_key="shared-key"))
    intruder = await store(
        runtime,
        inbound(f"intruder-{unique}", thread_key="shared-key", ticket_ref=owner.ticket_ref),
    )
    assert intruder.new_ticket and intruder.ticket_id != owner.ticket_id


async def test_reply_to_a_known_message_id_threads(runtime: Runtime, unique: str) -> None:
    first_msg = inbound(f"mail-{unique}@example.com", channel=Channel.email, thread_key=None)
    first = await store(runtime, first_msg)
    answer = await store(
        runtime,
        inbound(
            f"mail-{unique}@example.com",
            channel=Channel.email,
            thread_key=None,
            reply_to_ids=(first_msg.external_id,),
        ),
    )
    fresh = await store(
        runtime, inbound(f"mail-{unique}@example.com", channel=Channel.email, thread_key=None)
    )
    assert answer.ticket_id == first.ticket_id
    assert fresh.new_ticket and fresh.ticket_id != first.ticket_id


async def test_verified_user_links_channels_to_one_customer(runtime: Runtime, unique: str) -> None:
    by_chat = await store(runtime, inbound(f"tg-{unique}", verified_user_id=f"ex-{unique}"))
    by_web = await store(
        runtime,
        inbound(f"web-{unique}", channel=Channel.webchat, verified_user_id=f"ex-{unique}"),
    )
    async with runtime.sessionmaker() as session:
        a = await session.get_one(Ticket, by_chat.ticket_id)
        b = await session.get_one(Ticket, by_web.ticket_id)
        assert a.customer_id == b.customer_id


async def test_attachment_bytes_land_in_the_blob_store(runtime: Runtime, unique: str) -> None:
    data = b"\x89PNG\r\n\x1a\n" + unique.encode()
    result = await store(
        runtime,
        inbound(
            f"user-{unique}",
            text="",
            attachments=(
                InboundAttachment(filename="proof.png", content_type="image/png", data=data),
            ),
        ),
    )
    async with runtime.sessionmaker() as session:
        row = (
            await session.execute(
                sa.select(Attachment).where(Attachment.message_id == result.message_id)
            )
        ).scalar_one()
    assert row.size == len(data) and row.state == "stored"
    assert await runtime.blobs.get(row.blob_key) == data  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"sender": ""}, "no sender"),
        ({"external_id": "  "}, "no external id"),
        ({"text": "x" * 100_001}, "limit is 100000"),
        ({"text": "   "}, "neither text nor attachments"),
        ({"text": "nul\x00byte"}, "NUL"),
    ],
)
async def test_bad_input_is_refused_and_nothing_written(
    runtime: Runtime, unique: str, change: dict[str, str], reason: str
) -> None:
    message = dataclasses.replace(inbound(f"bad-{unique}"), **change)
    with pytest.raises(InvalidInbound, match=reason):
        await store(runtime, message)
    assert (
        await count(runtime, sa.select(sa.func.count()).where(Ticket.thread_key == f"bad-{unique}"))
        == 0
    )
    identities = sa.select(sa.func.count()).where(ChannelIdentity.address == message.sender)
    assert await count(runtime, identities) == 0


async def test_names_and_subjects_are_display_text_at_intake(runtime: Runtime, unique: str) -> None:
    message = dataclasses.replace(
        inbound(f"bidi-{unique}@example.com", channel=Channel.email, thread_key=None),
        sender_name="Bob\r\n\u202eAdmin\u200b",
        subject="Re:\r\nBcc: x\u2066 [help]",
    )
    result = await store(runtime, message)
    async with runtime.sessionmaker() as session:
        ticket = await session.get_one(Ticket, result.ticket_id)
        identity = await session.get_one(ChannelIdentity, ticket.identity_id)
    assert identity.display_name == "Bob Admin"
    assert ticket.subject == "Re: Bcc: x [help]"
    invisible = await store(
        runtime,
        dataclasses.replace(
            inbound(f"zw-{unique}@example.com", channel=Channel.email, thread_key=None),
            sender_name="\u200b\u200d ",
        ),
    )
    async with runtime.sessionmaker() as session:
        ticket = await session.get_one(Ticket, invisible.ticket_id)
        identity = await session.get_one(ChannelIdentity, ticket.identity_id)
    assert identity.display_name is None


async def test_a_follow_ups_event_chains_after_a_concurrent_writer_of_its_ticket(
    runtime: Runtime, backend: str, unique: str
) -> None:
    """A follow-up takes its ticket chain's lock with its history read and writes its
    event in one statement: another transaction's event on the ticket waits for the
    follow-up's commit and chains after it, never beside it (a fork)."""
    if backend != "postgresql":
        pytest.skip("SQLite has one writer: nothing to interleave")
    sender = f"user-{unique}"
    first = await store(runtime, inbound(sender))

    async def other_writer() -> None:
        async with runtime.sessionmaker.begin() as session:
            audit.record(session, "test.other", ticket_id=first.ticket_id)

    async with runtime.sessionmaker.begin() as session:
        follow_up = await ingest(session, inbound(sender), limits=runtime.settings.ingest)
        assert follow_up.ticket_id == first.ticket_id and not follow_up.new_ticket
        other = asyncio.create_task(other_writer())
        for _ in range(100):
            if await someone_waits_for_a_lock(runtime):
                break
            await asyncio.sleep(0.05)
        assert not other.done(), "the other writer did not wait for the follow-up's commit"
    await other
    async with runtime.sessionmaker() as session:
        events = list(
            (
                await session.execute(
                    sa.select(AuditEvent)
                    .where(AuditEvent.ticket_id == first.ticket_id)
                    .order_by(AuditEvent.id)
                )
            ).scalars()
        )
    assert [e.action for e in events][-2:] == ["message.received", "test.other"]
    assert events[0].prev_hash == audit_chain.GENESIS
    for earlier, later in itertools.pairwise(events):
        assert later.prev_hash == earlier.hash
        assert later.hash == audit_chain.hash_of(later, earlier.hash or "")


async def test_a_follow_ups_wake_up_goes_at_its_commit_only(runtime: Runtime, unique: str) -> None:
    """The follow-up's signals ride on its audit statement: queued there, sent at commit,
    never for a rolled-back ingest."""
    sender = f"user-{unique}"
    async with runtime.sessionmaker.begin() as session:
        first = await runtime.ingest(session, inbound(sender))
    async with runtime.notifier.subscribe(notify.MESSAGES) as queue:
        await asyncio.sleep(0.2)
        while not queue.empty():  # the first ingest's, and any reconnect wake-up ("")
            queue.get_nowait()
        with pytest.raises(RuntimeError):
            async with runtime.sessionmaker.begin() as session:
                await runtime.ingest(session, inbound(sender))
                raise RuntimeError("abort")
        await asyncio.sleep(0.3)
        assert [p for p in _drain(queue) if p] == []
        async with runtime.sessionmaker.begin() as session:
            follow_up = await runtime.ingest(session, inbound(sender))
        assert follow_up.ticket_id == first.ticket_id and not follow_up.new_ticket
        payloads = [await asyncio.wait_for(queue.get(), 5)]
        await asyncio.sleep(0.2)
        payloads += _drain(queue)
        assert [p for p in payloads if p] == [str(first.ticket_id)]


def _drain(queue: asyncio.Queue[str]) -> list[str]:
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items
