"""Hostile input on the web chat: a clear 4xx or an error frame, never a 500 or a
dropped socket, and nothing stored that a later read cannot serve."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
import sqlalchemy as sa
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from gateway.tickets.models import ChannelIdentity
from tests.channels.webchat.conftest import ORIGIN, Gateway
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
    async with httpx.AsyncClient(base_url=gateway.http, headers=bearer(session)) as client:
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
