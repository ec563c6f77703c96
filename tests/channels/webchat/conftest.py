"""A real gateway HTTP server on loopback (uvicorn, in this test loop) with webchat on."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
import uvicorn

from channels.webchat import WebchatAdapter
from gateway.app import create_app
from gateway.ports import Channel
from gateway.runtime import Runtime
from gateway.server import http_config
from tests.channels.webchat.processes import agent_reply
from tests.conftest import make_settings

ORIGIN = "https://exchange.example"
IDENTITY_SECRET = "exchange-backend-shared-secret"


@dataclass
class Gateway:
    runtime: Runtime
    http: str
    ws: str
    adapter: WebchatAdapter

    async def agent_reply(self, ticket: str, text: str, *, note: bool = False) -> int:
        return await agent_reply(self.runtime, ticket, text, note=note)

    async def count(self, stmt: sa.Select[tuple[int]]) -> int:
        async with self.runtime.sessionmaker() as session:
            return int(await session.scalar(stmt) or 0)


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture(scope="session")
async def gateway(database_url: str, tmp_root: Path) -> AsyncIterator[Gateway]:
    settings = make_settings(
        database_url,
        tmp_root,
        webchat={
            "allowed_origins": [ORIGIN],
            "identity_secret": IDENTITY_SECRET,
            "messages_per_minute": 20,
            "max_message_chars": 1000,
            "max_attachment_bytes": 200_000,
        },
    )
    runtime = Runtime.from_settings(settings)
    app = create_app(settings, runtime)
    sock = free_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(http_config(app, settings, ws_ping_interval=None))
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no "listening" event)
        await asyncio.sleep(0.02)
    adapter = runtime.adapters[Channel.webchat]
    assert isinstance(adapter, WebchatAdapter)
    yield Gateway(runtime, f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", adapter)
    server.should_exit = True
    await task
    await runtime.close()
