"""The delivery worker's promises: in order, retried, dead-lettered, never lost.

The adapter here is a recording channel of our own port (ChannelAdapter), scripted to
fail on demand: it tests the worker's state machine. The channels' own tests drive
real SMTP and Bot API servers.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from gateway.outbox.models import DeliveryAttempt, Outbox
from gateway.outbox.worker import DeliveryWorker, backoff_seconds
from gateway.ports import Channel, DeliveryError, DeliveryReceipt, OutboundMessage
from gateway.runtime import Runtime
from gateway.tickets.models import Message, Ticket
from tests.desk import client, make_agent, new_ticket


class RecordingChannel:
    """Delivers by recording; `failures` maps a text to the errors its sends raise first."""

    channel = Channel.webchat

    def __init__(self) -> None:
        self.sent: list[OutboundMessage] = []
        self.failures: dict[str, list[DeliveryError]] = defaultdict(list)

    async def deliver(self, message: OutboundMessage) -> DeliveryReceipt:
        await asyncio.sleep(0.001)
        if self.failures[message.text]:
            raise self.failures[message.text].pop(0)
        self.sent.append(message)
        return DeliveryReceipt(provider_id=f"p-{message.outbox_id}")


@pytest.fixture
def channel(runtime: Runtime) -> Iterator[RecordingChannel]:
    recorder = RecordingChannel()
    runtime.adapters[Channel.webchat] = recorder
    yield recorder
    del runtime.adapters[Channel.webchat]


async def reply(app: FastAPI, token: str, ref: str, text: str) -> int:
    async with client(app, token) as http:
        response = await http.post(f"/api/v1/tickets/{ref}/replies", json={"text": text})
        assert response.status_code == 201, response.text
        return int(response.json()["id"])


async def drain(worker: DeliveryWorker, rounds: int = 50) -> None:
    for _ in range(rounds):
        if await worker.run_once() == 0:
            return


async def make_due_now(runtime: Runtime) -> None:
    async with runtime.sessionmaker.begin() as session:
        await session.execute(
            sa.update(Outbox)
            .where(Outbox.state == "pending")
            .values(next_attempt_at=Outbox.created_at)
        )


async def test_replies_arrive_in_order_once_with_provider_ids(
    app: FastAPI, runtime: Runtime, channel: RecordingChannel, unique: str
) -> None:
    queue = f"out-{unique}"
    token = await make_agent(runtime, [queue])
    ticket = await new_ticket(runtime, queue)
    ids = [await reply(app, token, ticket.ticket_ref, f"{unique} part {i}") for i in range(5)]
    await drain(DeliveryWorker(runtime))
    mine = [m for m in channel.sent if m.ticket_ref == ticket.ticket_ref]
    assert [m.text for m in mine] == [f"{unique} part {i}" for i in range(5)]
    assert mine[0].recipient.startswith("visitor-") and mine[0].thread_ids  # the customer's message
    async with runtime.sessionmaker() as session:
        rows = (
            (await session.execute(sa.select(Message).where(Message.id.in_(ids)))).scalars().all()
        )
        assert {m.delivery_state for m in rows} == {"sent"}
        assert all(m.provider_id for m in rows)


async def test_retryable_failure_is_retried_then_sent(
    app: FastAPI, runtime: Runtime, channel: RecordingChannel, unique: str
) -> None:
    queue = f"out-{unique}"
    token = await make_agent(runtime, [queue])
    ticket = await new_ticket(runtime, queue)
    text = f"{unique} retry me"
    channel.failures[text] = [DeliveryError("421 try later", retryable=True)] * 2
    message_id = await reply(app, token, ticket.ticket_ref, text)
    later = await reply(app, token, ticket.ticket_ref, f"{unique} after")
    worker = DeliveryWorker(runtime)
    for _ in range(3):
        await drain(worker)
        # The first reply waits in backoff; the later one must not overtake it.
        assert f"{unique} after" not in [m.text for m in channel.sent] or text in [
            m.text for m in channel.sent
        ]
        await make_due_now(runtime)
    await drain(worker)
    texts = [m.text for m in channel.sent if m.ticket_ref == ticket.ticket_ref]
    assert texts == [text, f"{unique} after"]
    async with runtime.sessionmaker() as session:
        outbox = (
            await session.execute(sa.select(Outbox).where(Outbox.message_id == message_id))
        ).scalar_one()
        attempts = (
            (
                await session.execute(
                    sa.select(DeliveryAttempt.result)
                    .where(DeliveryAttempt.outbox_id == outbox.id)
                    .order_by(DeliveryAttempt.id)
                )
            )
            .scalars()
            .all()
        )
        assert (outbox.state, outbox.attempts) == ("sent", 3)
        assert attempts == ["retry", "retry", "sent"]
        assert (await session.get_one(Message, later)).delivery_state == "sent"


async def test_permanent_failure_and_exhausted_retries_flag_the_ticket(
    app: FastAPI, runtime: Runtime, channel: RecordingChannel, unique: str
) -> None:
    queue = f"out-{unique}"
    token = await make_agent(runtime, [queue])
    refused_ticket = await new_ticket(runtime, queue)
    tired_ticket = await new_ticket(runtime, queue)
    channel.failures[f"{unique} refused"] = [DeliveryError("550 no such user", retryable=False)]
    channel.failures[f"{unique} tired"] = [DeliveryError("timeout", retryable=True)] * 100
    refused = await reply(app, token, refused_ticket.ticket_ref, f"{unique} refused")
    tired = await reply(app, token, tired_ticket.ticket_ref, f"{unique} tired")
    worker = DeliveryWorker(runtime)
    for _ in range(runtime.settings.outbox.max_attempts + 1):
        await drain(worker)
        await make_due_now(runtime)
    async with runtime.sessionmaker() as session:
        assert (await session.get_one(Message, refused)).delivery_state == "failed"
        assert (await session.get_one(Message, tired)).delivery_state == "dead"
        for ref in (refused_ticket, tired_ticket):
            ticket = await session.get_one(Ticket, ref.ticket_id)
            assert ticket.needs_attention and "not delivered" in (ticket.attention_reason or "")
        tired_row = (
            await session.execute(sa.select(Outbox).where(Outbox.message_id == tired))
        ).scalar_one()
        assert tired_row.attempts == runtime.settings.outbox.max_attempts


async def test_channel_without_adapter_keeps_replies_until_configured(
    app: FastAPI, runtime: Runtime, unique: str
) -> None:
    queue = f"out-{unique}"
    token = await make_agent(runtime, [queue])
    ticket = await new_ticket(runtime, queue)
    message_id = await reply(app, token, ticket.ticket_ref, f"{unique} waits")
    worker = DeliveryWorker(runtime)
    await drain(worker)
    async with runtime.sessionmaker() as session:
        assert (await session.get_one(Message, message_id)).delivery_state == "pending"
    recorder = RecordingChannel()
    runtime.adapters[Channel.webchat] = recorder
    try:
        await drain(worker)
    finally:
        del runtime.adapters[Channel.webchat]
    assert f"{unique} waits" in [m.text for m in recorder.sent]


async def test_several_workers_deliver_each_reply_exactly_once(
    app: FastAPI, runtime: Runtime, channel: RecordingChannel, unique: str
) -> None:
    queue = f"out-{unique}"
    token = await make_agent(runtime, [queue])
    tickets = [await new_ticket(runtime, queue) for _ in range(10)]
    for i in range(10):
        for ticket in tickets:
            await reply(app, token, ticket.ticket_ref, f"{unique} {ticket.ticket_ref} {i}")
    workers = [DeliveryWorker(runtime, worker_id=f"w{n}-{unique}") for n in range(4)]
    await asyncio.gather(*(drain(w, rounds=200) for w in workers))
    mine = [m for m in channel.sent if m.text.startswith(unique)]
    assert len(mine) == 100 and len({m.outbox_id for m in mine}) == 100
    for ticket in tickets:
        texts = [m.text for m in mine if m.ticket_ref == ticket.ticket_ref]
        assert texts == [f"{unique} {ticket.ticket_ref} {i}" for i in range(10)]


async def test_batches_side_by_side_deliver_each_reply_once_in_order(
    app: FastAPI, runtime: Runtime, channel: RecordingChannel, unique: str
) -> None:
    queue = f"out-{unique}"
    token = await make_agent(runtime, [queue])
    tickets = [await new_ticket(runtime, queue) for _ in range(8)]
    for i in range(4):
        for ticket in tickets:
            await reply(app, token, ticket.ticket_ref, f"{unique} {ticket.ticket_ref} {i}")
    worker = DeliveryWorker(runtime, worker_id=f"side-{unique}")
    worker.settings = runtime.settings.outbox.model_copy(
        update={"concurrent_batches": 4, "batch_size": 3}
    )
    await drain(worker, rounds=200)
    mine = [m for m in channel.sent if m.text.startswith(unique)]
    assert len(mine) == 32 and len({m.outbox_id for m in mine}) == 32
    for ticket in tickets:
        texts = [m.text for m in mine if m.ticket_ref == ticket.ticket_ref]
        assert texts == [f"{unique} {ticket.ticket_ref} {i}" for i in range(4)]


def test_backoff_is_capped_exponential_with_jitter() -> None:
    samples = [backoff_seconds(attempt, 2.0, 600.0) for attempt in range(1, 15)]
    assert 1.0 <= samples[0] <= 2.0
    assert 8.0 <= samples[3] <= 16.0
    assert all(300.0 <= s <= 600.0 for s in samples[9:])
