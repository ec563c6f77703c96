"""The websocket as a visitor's browser uses it: a real client against a real server."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import uuid
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import websockets
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from channels.webchat import tokens
from channels.webchat.sessions import SECRET_STATE_KEY
from gateway.system.models import SystemState
from gateway.tickets.models import ChannelIdentity, Customer, Message, Ticket
from tests.channels.webchat.conftest import IDENTITY_SECRET, ORIGIN, Gateway


async def new_session(gateway: Gateway, **body: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=gateway.http) as client:
        response = await client.post(
            "/channels/webchat/sessions", json=body, headers={"Origin": ORIGIN}
        )
    assert response.status_code == 200, response.text
    return dict(response.json())


def open_socket(gateway: Gateway, token: str, after: int = 0, origin: str = ORIGIN) -> connect:
    url = f"{gateway.ws}/channels/webchat/ws?token={token}&after={after}"
    return connect(url, origin=origin)  # type: ignore[arg-type]


async def recv(ws: ClientConnection) -> dict[str, Any]:
    frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
    assert isinstance(frame, dict)
    return frame


async def ready(ws: ClientConnection) -> None:
    assert (await recv(ws))["type"] == "ready"


async def send_message(ws: ClientConnection, text: str, client_id: str | None = None) -> dict:
    await ws.send(
        json.dumps({"type": "message", "client_id": client_id or uuid.uuid4().hex, "text": text})
    )
    return await recv(ws)


async def test_message_is_acked_once_stored_and_a_repeat_gets_the_same_ack(
    gateway: Gateway,
) -> None:
    # The exchange vouches for the address: only then is it the customer's contact.
    vouched = tokens.email_hash(IDENTITY_SECRET.encode(), "ana@example.com")
    session = await new_session(
        gateway, name="Ana", email="ana@example.com", email_hash=vouched, language="pt-BR"
    )
    async with open_socket(gateway, session["token"]) as ws:
        await ready(ws)
        ack = await send_message(ws, "Paid 500 USDT order 7781, seller not releasing", "c-1")
        assert ack["type"] == "ack" and ack["client_id"] == "c-1"
        assert ack["ticket"].startswith("D-")
        again = await send_message(ws, "Paid 500 USDT order 7781, seller not releasing", "c-1")
        assert again == ack
        second = await send_message(ws, "still waiting", "c-2")
        assert second["ticket"] == ack["ticket"] and second["message_id"] > ack["message_id"]
    external = f"{session['visitor_id']}:c-1"
    assert (
        await gateway.count(
            sa.select(sa.func.count()).select_from(Message).where(Message.external_id == external)
        )
        == 1
    )
    async with gateway.runtime.sessionmaker() as db:
        customer = await db.scalar(
            sa.select(Customer)
            .join(ChannelIdentity, ChannelIdentity.customer_id == Customer.id)
            .where(ChannelIdentity.address == session["visitor_id"])
        )
    assert customer is not None and customer.email == "ana@example.com"


async def test_agent_reply_is_pushed_and_notes_never_are(gateway: Gateway) -> None:
    session = await new_session(gateway)
    async with open_socket(gateway, session["token"]) as ws:
        await ready(ws)
        ack = await send_message(ws, "bank transfer done, where is my BTC?")
        await gateway.agent_reply(ack["ticket"], "internal: check with seller", note=True)
        reply_id = await gateway.agent_reply(ack["ticket"], "We are checking with the seller.")
        frame = await recv(ws)
        assert frame["type"] == "message" and frame["author"] == "agent"
        assert frame["message_id"] == reply_id
        assert frame["text"] == "We are checking with the seller."
        await ws.send(json.dumps({"type": "resume", "after": 0}))
        history = [await recv(ws), await recv(ws)]
        assert [f["message_id"] for f in history] == [ack["message_id"], reply_id]
        assert "internal" not in json.dumps(history)


async def test_resume_after_disconnect_misses_nothing_and_doubles_nothing(
    gateway: Gateway,
) -> None:
    session = await new_session(gateway)
    async with open_socket(gateway, session["token"]) as ws:
        await ready(ws)
        first = await send_message(ws, "order 9912 is stuck")
        seen = first["message_id"]
    # Offline: replies arrive while no socket is open.
    replies = [await gateway.agent_reply(first["ticket"], f"reply {i}") for i in range(3)]
    async with open_socket(gateway, session["token"], after=seen) as ws:
        await ready(ws)
        got = [await recv(ws) for _ in replies]
        assert [f["message_id"] for f in got] == replies
        assert [f["text"] for f in got] == ["reply 0", "reply 1", "reply 2"]
        # A message the client never got an ack for is re-sent with its client_id:
        again = await send_message(ws, "order 9912 is stuck", first["client_id"])
        assert again == first
        live = await gateway.agent_reply(first["ticket"], "reply 3")
        pushed = await recv(ws)
        assert pushed["message_id"] == live
        await ws.send(json.dumps({"type": "ping"}))
        assert (await recv(ws)) == {"type": "pong"}  # nothing else was pending
    async with httpx.AsyncClient(base_url=gateway.http) as client:
        response = await client.get(
            "/channels/webchat/messages",
            params={"after": 0},
            headers={"Authorization": f"Bearer {session['token']}"},
        )
    ids = [item["message_id"] for item in response.json()["items"]]
    assert ids == [seen, *replies, live]


async def test_a_seen_frame_records_the_reply_and_a_push_alone_records_nothing(
    gateway: Gateway,
) -> None:
    session = await new_session(gateway)
    async with open_socket(gateway, session["token"]) as ws:
        await ready(ws)
        first = await send_message(ws, "where is my USDT")
        reply_id = await gateway.agent_reply(first["ticket"], "Checking with the seller")
        assert (await recv(ws))["message_id"] == reply_id
        identity = await gateway.count(
            sa.select(ChannelIdentity.id).where(
                ChannelIdentity.channel == "webchat",
                ChannelIdentity.address == session["visitor_id"],
            )
        )
        marker = sa.select(SystemState.value).where(SystemState.key == f"webchat.seen.{identity}")
        await ws.send(json.dumps({"type": "ping"}))
        assert (await recv(ws)) == {"type": "pong"}
        assert await gateway.count(marker) == 0  # pushed, but the widget has not said so
        await ws.send(json.dumps({"type": "seen", "message_id": "latest"}))
        assert "seen needs" in (await recv(ws))["detail"]
        await ws.send(json.dumps({"type": "seen", "message_id": reply_id}))
        await ws.send(json.dumps({"type": "ping"}))
        assert (await recv(ws)) == {"type": "pong"}  # the seen frame got no error
    assert await gateway.count(marker) == reply_id


@pytest.mark.parametrize(
    ("frame", "detail"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "JSON object"),
        ('{"type": "shout"}', "unknown frame type"),
        ('{"type": "message", "text": "no id"}', "client_id"),
        ('{"type": "message", "client_id": "a b", "text": "x"}', "client_id"),
        ('{"type": "message", "client_id": "e1", "text": 5}', "text must be a string"),
        ('{"type": "message", "client_id": "e2", "text": "   "}', "neither text"),
        (
            '{"type": "message", "client_id": "e3", "text": "x", "attachments": "nope"}',
            "attachments",
        ),
        (
            '{"type": "message", "client_id": "e4", "text": "x", "attachments": ["forged.id"]}',
            "attachment id rejected",
        ),
        ('{"type": "resume", "after": "yesterday"}', "resume needs"),
        (json.dumps({"type": "message", "client_id": "e5", "text": "x" * 1001}), "limit is 1000"),
        ("x" * 200_000, "frame larger"),
    ],
)
async def test_bad_frame_gets_an_error_and_the_socket_stays_open(
    gateway: Gateway, frame: str, detail: str
) -> None:
    session = await new_session(gateway)
    async with open_socket(gateway, session["token"]) as ws:
        await ready(ws)
        await ws.send(frame)
        error = await recv(ws)
        assert error["type"] == "error" and detail in error["detail"]
        await ws.send(b"\x00binary")
        assert (await recv(ws))["type"] == "error"
        ack = await send_message(ws, "still here")
        assert ack["type"] == "ack"
    assert (
        await gateway.count(
            sa.select(sa.func.count())
            .select_from(Message)
            .where(Message.external_id.like(f"{session['visitor_id']}:%"))
        )
        == 1
    )


async def test_wrong_origin_is_refused_before_accepting(gateway: Gateway) -> None:
    session = await new_session(gateway)
    with pytest.raises(InvalidStatus) as refused:
        async with open_socket(gateway, session["token"], origin="https://evil.example"):
            pass
    assert refused.value.response.status_code == 403


def _forge(token: str, **changes: Any) -> str:
    body, mac = token.split(".")
    payload = json.loads(tokens._b64decode(body))
    return tokens._b64encode(json.dumps(payload | changes).encode()) + "." + mac


async def test_expired_forged_and_missing_tokens_are_refused(gateway: Gateway) -> None:
    session = await new_session(gateway)
    async with gateway.runtime.sessionmaker() as db:
        key = await db.scalar(
            sa.select(SystemState.value).where(SystemState.key == SECRET_STATE_KEY)
        )
    assert key, "the signing key was generated and stored on first use"
    expired = tokens.sign(
        key.encode(), tokens.SESSION, {"v": session["visitor_id"]}, ttl_seconds=-10
    )
    other_key = tokens.sign(
        b"not-the-key", tokens.SESSION, {"v": session["visitor_id"]}, ttl_seconds=600
    )
    for bad in (expired, other_key, _forge(session["token"], v=uuid.uuid4().hex), "", "a.b"):
        with pytest.raises(InvalidStatus) as refused:
            async with open_socket(gateway, bad):
                pass
        assert refused.value.response.status_code == 401
    async with httpx.AsyncClient(base_url=gateway.http) as client:
        response = await client.post(
            "/channels/webchat/messages",
            json={"client_id": "x", "text": "hi"},
            headers={"Authorization": f"Bearer {expired}", "Origin": ORIGIN},
        )
    assert response.status_code == 401 and "expired" in response.json()["detail"]
    assert response.headers["access-control-allow-origin"] == ORIGIN


async def test_user_hash_must_be_the_hmac_of_the_user_id(gateway: Gateway, unique: str) -> None:
    user_id = f"u-{unique}"
    good = hmac.new(IDENTITY_SECRET.encode(), user_id.encode(), hashlib.sha256).hexdigest()
    async with httpx.AsyncClient(base_url=gateway.http) as client:
        for forged in ("0" * 64, good[:-1] + ("1" if good[-1] == "0" else "0"), "", "ünïcode"):
            response = await client.post(
                "/channels/webchat/sessions", json={"user_id": user_id, "user_hash": forged}
            )
            assert response.status_code == 401, forged
        response = await client.post(
            "/channels/webchat/sessions", json={"user_id": user_id, "user_hash": good.upper()}
        )
    assert response.status_code == 200 and response.json()["verified"] is True
    token = response.json()["token"]
    async with open_socket(gateway, token) as ws:
        await ready(ws)
        ack = await send_message(ws, "hello from a verified user")
    async with gateway.runtime.sessionmaker() as db:
        customer_user = await db.scalar(
            sa.select(Customer.exchange_user_id)
            .join(Ticket, Ticket.customer_id == Customer.id)
            .where(Ticket.id == int(ack["ticket"][2:]))
        )
    assert customer_user == user_id


async def test_visitors_never_see_each_other(gateway: Gateway) -> None:
    alice, bob = await new_session(gateway), await new_session(gateway)
    async with open_socket(gateway, alice["token"]) as a, open_socket(gateway, bob["token"]) as b:
        await ready(a)
        await ready(b)
        a_ack = await send_message(a, "alice's secret order 1", "same-id")
        b_ack = await send_message(b, "bob's message", "same-id")
        assert a_ack["message_id"] != b_ack["message_id"]
        assert a_ack["ticket"] != b_ack["ticket"]
        await gateway.agent_reply(b_ack["ticket"], "for bob only")
        assert (await recv(b))["text"] == "for bob only"
        await a.send(json.dumps({"type": "resume", "after": 0}))
        await a.send(json.dumps({"type": "ping"}))
        frames = [await recv(a), await recv(a)]
        assert frames[0]["message_id"] == a_ack["message_id"]
        assert frames[1] == {"type": "pong"}


async def test_second_tab_of_a_visitor_sees_the_first_tabs_message(gateway: Gateway) -> None:
    session = await new_session(gateway)
    async with (
        open_socket(gateway, session["token"]) as one,
        open_socket(gateway, session["token"]) as two,
    ):
        await ready(one)
        await ready(two)
        ack = await send_message(one, "typed in tab one", "tab-1")
        frame = await recv(two)
        assert frame["message_id"] == ack["message_id"] and frame["client_id"] == "tab-1"
        assert frame["author"] == "customer"


def test_websockets_client_is_real() -> None:
    assert websockets.__version__
