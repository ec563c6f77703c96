"""Hostile input on the web chat: a clear 4xx or an error frame, never a 500 or a
dropped socket, and nothing stored that a later read cannot serve."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest
import sqlalchemy as sa
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from channels.webchat import tokens
from gateway.tickets.models import ChannelIdentity, Customer
from tests.channels.webchat.conftest import IDENTITY_SECRET, ORIGIN, Gateway
from tests.channels.webchat.test_http_fallback import bearer
from tests.channels.webchat.test_websocket import new_session, open_socket, ready, recv


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/channels/webchat/sessions"),
        ("GET", "/channels/webchat/messages"),
        ("POST", "/channels/webchat/messages"),
        ("OPTIONS", "/channels/webchat/messages"),
    ],
)
async def test_a_malformed_origin_is_refused_not_a_500(
    gateway: Gateway, method: str, path: str
) -> None:
    async with httpx.AsyncClient(base_url=gateway.http) as client:
        response = await client.request(method, path, headers={"Origin": "http://["}, json={})
    assert response.status_code == 403, response.text


async def test_a_malformed_origin_on_the_websocket_is_refused(gateway: Gateway) -> None:
    session = await new_session(gateway)
    with pytest.raises(InvalidStatus) as refused:
        async with open_socket(gateway, session["token"], origin="http://["):
            pass
    assert refused.value.response.status_code == 403


@pytest.mark.parametrize("bad", ["a\ud800b", "nul\x00here"])
async def test_session_fields_that_cannot_be_stored_are_422(gateway: Gateway, bad: str) -> None:
    for field in ("name", "email", "language", "user_id"):
        body = json.dumps({field: bad}).encode()  # json.dumps escapes the surrogate as \ud800
        async with httpx.AsyncClient(base_url=gateway.http) as client:
            response = await client.post(
                "/channels/webchat/sessions",
                content=body,
                headers={"Origin": ORIGIN, "Content-Type": "application/json"},
            )
        assert response.status_code in (401, 422), (field, response.text)


async def test_names_are_scrubbed_to_display_text_at_intake(gateway: Gateway) -> None:
    session = await new_session(gateway, name="Bob\r\nAdmin\u202e\u200b")
    # A run's first message may wait for routing's models to load: a generous timeout.
    async with httpx.AsyncClient(
        base_url=gateway.http, headers=bearer(session), timeout=120
    ) as client:
        ack = await client.post(
            "/channels/webchat/messages", json={"client_id": "n1", "text": "hello"}
        )
        assert ack.status_code == 200, ack.text
    async with httpx.AsyncClient(base_url=gateway.http) as client:
        zero = await client.post(
            "/channels/webchat/sessions",
            json={"name": "\u200b\u200b"},
            headers={"Origin": ORIGIN},
        )
    assert zero.status_code == 200  # an invisible name is no name, not an error
    stored = await gateway.count(
        sa.select(sa.func.count())
        .select_from(ChannelIdentity)
        .where(
            ChannelIdentity.address == session["visitor_id"],
            ChannelIdentity.display_name == "Bob Admin",
        )
    )
    assert stored == 1


@pytest.mark.parametrize("text", ["a\ud800b", "nul\x00here"])
async def test_message_text_that_cannot_be_stored_is_422_over_http(
    gateway: Gateway, text: str
) -> None:
    session = await new_session(gateway)
    body = json.dumps({"client_id": uuid.uuid4().hex, "text": text}).encode()
    async with httpx.AsyncClient(base_url=gateway.http, headers=bearer(session)) as client:
        response = await client.post(
            "/channels/webchat/messages",
            content=body,
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 422, response.text
        ok = await client.post("/channels/webchat/messages", json={"client_id": "k", "text": "ok"})
        assert ok.status_code == 200
        history = await client.get("/channels/webchat/messages")
        assert history.status_code == 200 and len(history.json()["items"]) == 1


@pytest.mark.parametrize("after", ["2147483648", "99999999999999999999", "²", "-1", "1e3", "٣"])
async def test_history_cursor_out_of_range_is_422(gateway: Gateway, after: str) -> None:
    session = await new_session(gateway)
    async with httpx.AsyncClient(base_url=gateway.http, headers=bearer(session)) as client:
        response = await client.get("/channels/webchat/messages", params={"after": after})
    assert response.status_code == 422, response.text


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "resume", "after": 99999999999999999999},
        {"type": "resume", "after": 2147483648},
        {"type": "resume", "after": -5},
        {"type": "resume", "after": "12"},
        {"type": "message", "client_id": "x1", "text": "a\ud800b"},
        {"type": "message", "client_id": "x2", "text": "nul\x00"},
        {"type": "message", "client_id": "x\x00", "text": "hi"},
    ],
)
async def test_bad_frames_get_an_error_frame_and_the_socket_stays_open(
    gateway: Gateway, frame: dict[str, object]
) -> None:
    session = await new_session(gateway)
    async with open_socket(gateway, session["token"]) as ws:
        await ready(ws)
        await ws.send(json.dumps(frame))
        answer = await recv(ws)
        assert answer["type"] == "error", answer
        await ws.send(json.dumps({"type": "message", "client_id": "ok1", "text": "still here"}))
        assert (await recv(ws))["type"] == "ack"


@pytest.mark.parametrize("after", [str(2**31), "99999999999999999999", "²", "-1"])
async def test_websocket_query_after_out_of_range_is_refused_with_422(
    gateway: Gateway, after: str
) -> None:
    session = await new_session(gateway)
    url = f"{gateway.ws}/channels/webchat/ws?token={session['token']}&after={after}"
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url, origin=ORIGIN):  # type: ignore[arg-type]
            pass
    assert refused.value.response.status_code == 422


async def test_an_upgrade_with_a_long_request_line_is_answered(gateway: Gateway) -> None:
    session = await new_session(gateway)
    host, port = gateway.http.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    path = f"/channels/webchat/ws?token={session['token']}&pad={'a' * 12000}"
    writer.write(
        (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nOrigin: {ORIGIN}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    try:
        status_line = await asyncio.wait_for(reader.readline(), timeout=10)
    finally:
        writer.close()
    assert status_line.startswith(b"HTTP/1.1 "), status_line


async def test_a_frame_past_the_library_limit_is_refused_before_it_is_read(
    gateway: Gateway,
) -> None:
    session = await new_session(gateway)
    async with open_socket(gateway, session["token"]) as ws:
        await ready(ws)
        limit_chars = gateway.runtime.settings.webchat.max_message_chars * 4 + 64 * 1024
        # Just over the chat's own limit: an error frame, the socket stays open.
        await ws.send(json.dumps({"type": "message", "text": "x" * (limit_chars + 10)}))
        assert (await recv(ws))["type"] == "error"
        # Far past it (over 4 bytes a character): the library closes with 1009.
        await ws.send("x" * (limit_chars * 4 + 1024))
        with pytest.raises(ConnectionClosed) as closed:
            await recv(ws)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


@pytest.mark.parametrize("email", ["@", "a@", "x@y@z", "a b@example.com", "ana@localhost"])
async def test_a_visitor_email_that_is_no_address_is_422(gateway: Gateway, email: str) -> None:
    async with httpx.AsyncClient(base_url=gateway.http) as client:
        response = await client.post(
            "/channels/webchat/sessions", json={"email": email}, headers={"Origin": ORIGIN}
        )
    assert response.status_code == 422, response.text


async def _customer_email(gateway: Gateway, visitor_id: str) -> str | None:
    async with gateway.runtime.sessionmaker() as db:
        return await db.scalar(
            sa.select(Customer.email)
            .join(ChannelIdentity, ChannelIdentity.customer_id == Customer.id)
            .where(ChannelIdentity.address == visitor_id)
        )


async def test_only_a_vouched_email_becomes_the_customers_contact(gateway: Gateway) -> None:
    typed = await new_session(gateway, email="victim@example.com")
    vouched = await new_session(
        gateway,
        email="Ana@Example.com",
        email_hash=tokens.email_hash(IDENTITY_SECRET.encode(), "ana@example.com"),
    )
    for session in (typed, vouched):
        async with httpx.AsyncClient(
            base_url=gateway.http, headers=bearer(session), timeout=60
        ) as client:
            ack = await client.post(
                "/channels/webchat/messages", json={"client_id": "e1", "text": "where is it"}
            )
            assert ack.status_code == 200, ack.text
    # Reply copies go to Customer.email: never to an address anyone could type in.
    assert await _customer_email(gateway, typed["visitor_id"]) is None
    assert (await _customer_email(gateway, vouched["visitor_id"])) == "Ana@example.com"
    async with httpx.AsyncClient(base_url=gateway.http) as client:
        forged = await client.post(
            "/channels/webchat/sessions",
            json={"email": "ana@example.com", "email_hash": "00" * 32},
            headers={"Origin": ORIGIN},
        )
    assert forged.status_code == 401
