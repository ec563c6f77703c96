"""A gateway on a loopback HTTP port with an injected clock, and an SMTP relay sink."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvicorn
from aiosmtpd.smtp import SMTP
from fastapi import FastAPI

from channels.email.outbound import EmailAdapter
from gateway.app import create_app
from gateway.clock import ManualClock
from gateway.outbox.worker import DeliveryWorker
from gateway.ports import Channel
from gateway.runtime import Runtime
from gateway.settings import SmtpSettings
from tests.channels.email.conftest import Sink
from tests.conftest import make_settings
from tests.processes import free_port


@pytest.fixture(scope="session")
async def csat_runtime(database_url: str, tmp_root: Path) -> AsyncIterator[Runtime]:
    """Its clock stands still until a test moves it (never backwards: tests share it)."""
    port = free_port()
    settings = make_settings(
        database_url,
        tmp_root,
        http={"host": "127.0.0.1", "port": port},
        csat={"quiet_seconds": 3600, "link_ttl_seconds": 86400},
    )
    runtime = Runtime.from_settings(settings)
    runtime.clock = ManualClock(datetime.now(UTC))
    yield runtime
    await runtime.close()


@pytest.fixture(scope="session")
async def csat_app(csat_runtime: Runtime) -> AsyncIterator[FastAPI]:
    """The app, served on the port the settings name (the links in mails point there)."""
    app = create_app(csat_runtime.settings, csat_runtime, plugins=[])
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=csat_runtime.settings.http.port,
            log_config=None,
            access_log=False,
            lifespan="off",
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    yield app
    server.should_exit = True
    await task


@pytest.fixture
def clock(csat_runtime: Runtime) -> ManualClock:
    assert isinstance(csat_runtime.clock, ManualClock)
    csat_runtime.clock.set(max(csat_runtime.clock.now(), datetime.now(UTC)))
    return csat_runtime.clock


@pytest.fixture
async def mail_sink(csat_runtime: Runtime) -> AsyncIterator[Sink]:
    loop = asyncio.get_running_loop()
    handler = Sink()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="relay.test", loop=loop), "127.0.0.1", 0
    )
    handler.port = server.sockets[0].getsockname()[1]
    smtp = SmtpSettings(relay_host="127.0.0.1", relay_port=handler.port, relay_timeout=5)
    csat_runtime.adapters[Channel.email] = EmailAdapter(
        smtp, csat_runtime.settings.mail, csat_runtime.blobs
    )
    yield handler
    del csat_runtime.adapters[Channel.email]
    server.close()
    await server.wait_closed()


async def deliver_all(runtime: Runtime) -> None:
    worker = DeliveryWorker(runtime, "csat-test-worker")
    try:
        for _ in range(20):
            if await worker.run_once() == 0:
                return
    finally:
        with contextlib.suppress(Exception):
            await worker.webhooks.close()
