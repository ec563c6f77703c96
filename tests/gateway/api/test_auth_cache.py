"""The token cache: a token seen lately costs no query, and any agent change ends that
at once, in this process and (PostgreSQL) in every other one."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from fastapi import FastAPI

from gateway.agents.models import Role
from gateway.app import create_app
from gateway.clock import ManualClock
from gateway.runtime import Runtime
from tests.desk import client, make_agent, statements_reading


async def until_trusted(runtime: Runtime, app: FastAPI, token: str) -> None:
    """Make one request, then wait until this process hears agent changes (PostgreSQL:
    its LISTEN connection is up); only then does the cache answer."""
    async with client(app, token) as http:
        assert (await http.get("/api/v1/me")).status_code == 200
    for _ in range(100):
        if runtime.notifier.listening:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the notifier never started listening")


async def test_a_seen_token_costs_no_query_until_its_agent_changes(
    app: FastAPI, runtime: Runtime, unique: str
) -> None:
    admin = await make_agent(runtime, [], role=Role.admin)
    token = await make_agent(runtime, [f"one-{unique}"], name=f"cached-{unique}")
    await until_trusted(runtime, app, token)
    async with client(app, token) as http:
        assert (await http.get("/api/v1/me")).status_code == 200  # fills the cache
        with statements_reading(runtime, "agent") as reads:
            me = await http.get(f"/api/v1/queues/one-{unique}/tickets")
        assert me.status_code == 200
        assert reads == []
    # A queue change is seen by the very next request: the old queue is refused.
    async with client(app, admin) as http:
        changed = await http.patch(
            f"/api/v1/admin/agents/cached-{unique}", json={"queues": [f"two-{unique}"]}
        )
        assert changed.status_code == 200
    async with client(app, token) as http:
        assert (await http.get(f"/api/v1/queues/one-{unique}/tickets")).status_code == 403
        assert (await http.get(f"/api/v1/queues/two-{unique}/tickets")).status_code == 200
    # And a deactivation by the next one.
    async with client(app, admin) as http:
        assert (await http.delete(f"/api/v1/admin/agents/cached-{unique}")).status_code == 204
    async with client(app, token) as http:
        assert (await http.get("/api/v1/me")).status_code == 401


async def test_an_entry_lives_as_long_as_the_injected_clock_says(
    runtime: Runtime, unique: str
) -> None:
    clock = ManualClock()
    own = Runtime.from_settings(runtime.settings)
    own.clock = clock
    app = create_app(own.settings, own, plugins=[])
    try:
        token = await make_agent(own, [f"ttl-{unique}"])
        await until_trusted(own, app, token)
        async with client(app, token) as http:
            await http.get("/api/v1/me")
            with statements_reading(own, "agent") as reads:
                await http.get("/api/v1/me")
            assert reads == []
            clock.advance(seconds=own.settings.http.auth_cache_seconds + 1)
            with statements_reading(own, "agent") as reads:
                assert (await http.get("/api/v1/me")).status_code == 200
            assert len(reads) == 1
            clock.advance(timedelta(seconds=1))
            with statements_reading(own, "agent") as reads:
                await http.get("/api/v1/me")
            assert reads == []
    finally:
        await own.close()


async def test_another_process_drops_a_revoked_token_on_the_signal(
    app: FastAPI, runtime: Runtime, backend: str, unique: str
) -> None:
    """A second Runtime (its own pool and LISTEN connection) stands in for another
    gateway process: its cached token stops working when this one deactivates it."""
    if backend == "sqlite":
        pytest.skip("SQLite serves one process: its cache is cleared in-process")
    other = Runtime.from_settings(runtime.settings)
    other.clock = ManualClock()  # stopped: the entry never runs out by itself here
    other_app = create_app(other.settings, other, plugins=[])
    try:
        admin = await make_agent(runtime, [], role=Role.admin)
        token = await make_agent(runtime, ["general"], name=f"far-{unique}")
        await until_trusted(other, other_app, token)
        async with client(other_app, token) as http:
            await http.get("/api/v1/me")
            with statements_reading(other, "agent") as reads:
                assert (await http.get("/api/v1/me")).status_code == 200
            assert reads == []  # answered from the other process's cache
        generation = other.agent_cache.generation
        async with client(app, admin) as http:
            assert (await http.delete(f"/api/v1/admin/agents/far-{unique}")).status_code == 204
        for _ in range(200):  # the signal arrives once the commit is visible
            if other.agent_cache.generation != generation:
                break
            await asyncio.sleep(0.05)
        assert other.agent_cache.generation != generation, "the signal never came"
        async with client(other_app, token) as http:
            assert (await http.get("/api/v1/me")).status_code == 401
    finally:
        await other.close()


async def test_without_its_listen_connection_a_process_reads_the_database(
    runtime: Runtime, backend: str
) -> None:
    if backend == "sqlite":
        pytest.skip("SQLite has no LISTEN connection to lose")
    own = Runtime.from_settings(runtime.settings)
    app = create_app(own.settings, own, plugins=[])
    try:
        token = await make_agent(own, ["general"])
        await until_trusted(own, app, token)
        await own.notifier.close()  # the LISTEN connection is gone
        assert not own.notifier.listening
        async with client(app, token) as http:
            with statements_reading(own, "agent") as reads:
                await http.get("/api/v1/me")
                await http.get("/api/v1/me")
        assert len(reads) == 2
    finally:
        await own.close()


async def test_taking_every_queue_away_is_seen_by_the_next_request(
    app: FastAPI, runtime: Runtime, unique: str
) -> None:
    """Only a bulk DELETE of memberships (nothing else of the agent changes)."""
    admin = await make_agent(runtime, [], role=Role.admin)
    token = await make_agent(runtime, [f"gone-{unique}"], name=f"emptied-{unique}")
    await until_trusted(runtime, app, token)
    async with client(app, token) as http:
        assert (await http.get(f"/api/v1/queues/gone-{unique}/tickets")).status_code == 200
    async with client(app, admin) as http:
        changed = await http.patch(f"/api/v1/admin/agents/emptied-{unique}", json={"queues": []})
        assert changed.status_code == 200
    async with client(app, token) as http:
        assert (await http.get(f"/api/v1/queues/gone-{unique}/tickets")).status_code == 403
