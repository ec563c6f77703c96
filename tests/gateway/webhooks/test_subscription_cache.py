"""The subscriber list is read once per process, not per event, and every subscription
change reaches every process's next event: at once in the committing one, on the signal
in others (PostgreSQL), at the latest when an entry runs out (a change no hook saw, or on
SQLite another OS process). A deactivated subscriber never gets a request, even from a
stale list."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from gateway.agents.dependencies import cache_trusted
from gateway.runtime import Runtime
from gateway.webhooks.events import emit
from gateway.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from gateway.webhooks.signing import new_secret
from gateway.webhooks.worker import WebhookDeliverer
from tests.desk import client, statements_reading
from tests.gateway.webhooks.conftest import Receiver, Subscriptions, drain

EVENT = "risk.report_created"


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.value = 0.0

    def __call__(self) -> float:
        return self.value


async def listening(runtime: Runtime) -> Runtime:
    """Start the runtime's LISTEN connection as its first HTTP request would, and wait
    until it is up: only then may its caches answer."""
    cache_trusted(runtime)
    for _ in range(100):
        if runtime.notifier.listening:
            return runtime
        await asyncio.sleep(0.05)
    raise AssertionError("the notifier never started listening")


@pytest.fixture
async def other(hooks_runtime: Runtime) -> AsyncIterator[Runtime]:
    """Another gateway process on the same database: its own engine, pool, LISTEN
    connection and caches."""
    runtime = Runtime.from_settings(hooks_runtime.settings)
    try:
        yield await listening(runtime)
    finally:
        await runtime.close()


async def emit_in(runtime: Runtime, n: int) -> str | None:
    async with runtime.sessionmaker.begin() as session:
        return await emit(session, EVENT, data={"report": n})


async def deliveries(runtime: Runtime, sub_id: int, event_id: str | None) -> list[WebhookDelivery]:
    async with runtime.sessionmaker() as session:
        rows = await session.execute(
            sa.select(WebhookDelivery).where(
                WebhookDelivery.subscription_id == sub_id, WebhookDelivery.event_id == event_id
            )
        )
        return list(rows.scalars())


async def until_cleared(runtime: Runtime, generation: int) -> None:
    for _ in range(200):  # the signal arrives once the commit is visible
        if runtime.webhook_cache.generation != generation:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the subscription change never cleared the other process's cache")


async def test_the_subscriber_list_is_read_once_while_nothing_changes(
    hooks_runtime: Runtime,
) -> None:
    await listening(hooks_runtime)
    await emit_in(hooks_runtime, 1)  # fills the cache (or finds it filled)
    with statements_reading(hooks_runtime, "webhook_subscription") as reads:
        await emit_in(hooks_runtime, 2)
        await emit_in(hooks_runtime, 3)
    assert reads == []


async def test_a_subscription_made_in_one_process_gets_the_next_event_of_another(
    hooks_app: FastAPI,
    hooks_runtime: Runtime,
    other: Runtime,
    backend: str,
    subscriptions: Subscriptions,
    receiver: Receiver,
    deliverer: WebhookDeliverer,
) -> None:
    await emit_in(other, 0)  # the other process now holds the list without this one
    assert other.webhook_cache.get() is not None
    generation = other.webhook_cache.generation
    sub = await subscriptions.create(receiver, [EVENT])
    if backend == "sqlite":
        # No signals on SQLite: the commit clears every cache of its process at once.
        assert other.webhook_cache.generation != generation
    else:
        await until_cleared(other, generation)
    event_id = await emit_in(other, 1)
    assert len(await deliveries(other, sub["id"], event_id)) == 1
    await drain(deliverer)
    assert [r.headers["x-parley-event"] for r in receiver.delivered()] == [EVENT]


async def test_a_deactivated_subscription_gets_nothing_from_another_process(
    hooks_app: FastAPI,
    admin_token: str,
    other: Runtime,
    backend: str,
    subscriptions: Subscriptions,
    receiver: Receiver,
    deliverer: WebhookDeliverer,
) -> None:
    generation = other.webhook_cache.generation
    sub = await subscriptions.create(receiver, [EVENT])
    if backend != "sqlite":
        await until_cleared(other, generation)
    await emit_in(other, 0)
    await drain(deliverer)
    assert len(receiver.delivered()) == 1
    generation = other.webhook_cache.generation
    async with client(hooks_app, admin_token) as http:
        off = await http.patch(f"/api/v1/admin/webhooks/{sub['id']}", json={"active": False})
    assert off.status_code == 200
    if backend != "sqlite":
        await until_cleared(other, generation)
    event_id = await emit_in(other, 1)
    assert await deliveries(other, sub["id"], event_id) == []
    await drain(deliverer)
    assert len(receiver.requests) == 1


async def test_a_change_no_hook_saw_fails_at_delivery_and_ends_with_the_entry(
    hooks_runtime: Runtime,
    other: Runtime,
    backend: str,
    subscriptions: Subscriptions,
    receiver: Receiver,
    deliverer: WebhookDeliverer,
) -> None:
    """Hand-written SQL sends no signal and clears nothing (as a change made by another
    OS process on SQLite): the stale list still queues a delivery, which the worker fails
    instead of sending; once the entry runs out the list is read again."""
    ticks = Ticks()
    other.webhook_cache.clock = ticks
    generation = other.webhook_cache.generation
    sub = await subscriptions.create(receiver, [EVENT])
    if backend != "sqlite":
        await until_cleared(other, generation)  # the creation's own signal is in
    await emit_in(other, 0)  # cached with the subscription active
    async with hooks_runtime.sessionmaker.begin() as session:
        await session.execute(
            sa.text("UPDATE webhook_subscription SET active = false WHERE id = :id"),
            {"id": sub["id"]},
        )
    stale = await emit_in(other, 1)
    [row] = await deliveries(other, sub["id"], stale)
    await drain(deliverer)
    assert receiver.requests == []
    async with other.sessionmaker() as session:
        failed = await session.get_one(WebhookDelivery, row.id)
    assert failed.status == DeliveryStatus.failed
    assert failed.last_error == "the subscriber was deactivated"
    ticks.value += other.webhook_cache.max_age_seconds + 1
    fresh = await emit_in(other, 2)
    assert await deliveries(other, sub["id"], fresh) == []


async def test_a_rolled_back_subscription_never_reaches_the_cache(
    hooks_runtime: Runtime, receiver: Receiver
) -> None:
    await listening(hooks_runtime)
    async with hooks_runtime.sessionmaker() as session:
        await session.begin()
        sub = WebhookSubscription(url=receiver.url, event_types=[EVENT], secret=new_secret())
        session.add(sub)
        await session.flush()
        # Its own transaction sees it (and reads the database, not the cache).
        assert await emit(session, EVENT, data={"report": 0}) is not None
        await session.rollback()
    # Were it cached, this event's delivery row would name a subscription that does not
    # exist (a foreign key error, failing the emitting transaction).
    await emit_in(hooks_runtime, 1)
    assert all(s.id != sub.id for s in hooks_runtime.webhook_cache.get() or ())


async def test_while_the_listener_is_down_every_event_reads_and_its_return_clears(
    other: Runtime, backend: str
) -> None:
    if backend == "sqlite":
        pytest.skip("SQLite has no LISTEN connection to lose")
    await emit_in(other, 0)
    assert other.webhook_cache.get() is not None
    generation = other.webhook_cache.generation
    await other.notifier.close()  # the LISTEN connection is gone
    assert not other.notifier.listening
    with statements_reading(other, "webhook_subscription") as reads:
        await emit_in(other, 1)
        await emit_in(other, 2)
    assert len(reads) == 2
    # Back up: signals may have been missed meanwhile, so what was held is dropped.
    other.notifier.on_signal("parley_agents", lambda _payload: None)
    await listening(other)
    assert other.webhook_cache.generation != generation
    assert other.webhook_cache.get() is None
