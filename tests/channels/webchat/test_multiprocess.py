"""Two gateway processes on one PostgreSQL: what one stores, the other's sockets see."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from gateway import migrate
from gateway.agents.service import create_agent
from gateway.runtime import Runtime
from tests.channels.webchat.conftest import ORIGIN, free_socket
from tests.channels.webchat.processes import GatewayProcess, agent_reply, origins
from tests.conftest import _pg_available, create_pg_database, drop_pg_database, make_settings

pytestmark = pytest.mark.slow


def free_port() -> int:
    with free_socket() as sock:
        return int(sock.getsockname()[1])


@pytest.fixture
async def two_gateways(tmp_path: Path) -> AsyncIterator[tuple[GatewayProcess, GatewayProcess, str]]:
    reason = await _pg_available()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    url = await create_pg_database()
    await asyncio.to_thread(migrate.upgrade, url)
    env = {"GATEWAY_WEBCHAT_ALLOWED_ORIGINS": origins(ORIGIN)}
    one = GatewayProcess(url, free_port(), tmp_path, **env)
    two = GatewayProcess(url, free_port(), tmp_path, **env)
    try:
        await asyncio.gather(one.start(), two.start())
        yield one, two, url
    finally:
        await asyncio.gather(one.stop(), two.stop())
        await drop_pg_database(url)


async def recv(ws: object) -> dict[str, object]:
    frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=15))  # type: ignore[attr-defined]
    assert isinstance(frame, dict)
    return frame


async def test_reply_made_elsewhere_reaches_the_socket(
    two_gateways: tuple[GatewayProcess, GatewayProcess, str], tmp_path: Path
) -> None:
    one, two, url = two_gateways
    # The session comes from process two; process one verifies it (shared signing key).
    async with httpx.AsyncClient() as client:
        session = (
            await client.post(f"{two.url}/channels/webchat/sessions", json={"language": "en"})
        ).json()
    ws_url = f"ws://127.0.0.1:{one.port}/channels/webchat/ws?token={session['token']}"
    async with connect(ws_url, origin=ORIGIN) as ws:  # type: ignore[arg-type]
        assert (await recv(ws))["type"] == "ready"
        await ws.send(json.dumps({"type": "message", "client_id": "m1", "text": "stuck order"}))
        ack = await recv(ws)
        assert ack["type"] == "ack"

        # The visitor's other tab talks to process two over the HTTP fallback.
        async with httpx.AsyncClient() as client:
            response = await client.post(
                f"{two.url}/channels/webchat/messages",
                json={"client_id": "m2", "text": "from my phone"},
                headers={"Authorization": f"Bearer {session['token']}"},
            )
        assert response.status_code == 200
        frame = await recv(ws)
        assert frame["client_id"] == "m2" and frame["text"] == "from my phone"

        # The agent's reply is committed by yet another process.
        runtime = Runtime.from_settings(make_settings(url, tmp_path))
        try:
            reply_id = await agent_reply(runtime, str(ack["ticket"]), "Seller contacted.")
        finally:
            await runtime.close()
        frame = await recv(ws)
        assert frame == frame | {
            "message_id": reply_id,
            "author": "agent",
            "text": "Seller contacted.",
        }


async def test_agent_answers_over_the_api_of_the_other_process(
    two_gateways: tuple[GatewayProcess, GatewayProcess, str], tmp_path: Path
) -> None:
    """Customer writes on one, the agent replies over HTTP on the other, the outbox
    delivers, the customer receives it live and their answer lands on the same ticket."""
    one, two, url = two_gateways
    runtime = Runtime.from_settings(make_settings(url, tmp_path))
    try:
        async with runtime.sessionmaker.begin() as session:
            _, agent_token = await create_agent(session, name="e2e-agent", queues=["general"])
    finally:
        await runtime.close()
    async with httpx.AsyncClient() as client:
        session = (await client.post(f"{one.url}/channels/webchat/sessions", json={})).json()
        ws_url = f"ws://127.0.0.1:{one.port}/channels/webchat/ws?token={session['token']}"
        async with connect(ws_url, origin=ORIGIN) as ws:  # type: ignore[arg-type]
            assert (await recv(ws))["type"] == "ready"
            await ws.send(json.dumps({"type": "message", "client_id": "q1", "text": "help"}))
            ack = await recv(ws)
            reply = await client.post(
                f"{two.url}/api/v1/tickets/{ack['ticket']}/replies",
                json={"text": "Hello, I am on it."},
                headers={"Authorization": f"Bearer {agent_token}"},
            )
            assert reply.status_code == 201, reply.text
            frame = await recv(ws)
            assert frame["author"] == "agent" and frame["text"] == "Hello, I am on it."
            await ws.send(json.dumps({"type": "message", "client_id": "q2", "text": "thanks"}))
            answer = await recv(ws)
            assert answer["type"] == "ack" and answer["ticket"] == ack["ticket"]
