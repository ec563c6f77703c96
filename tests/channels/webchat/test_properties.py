"""Property: whatever a visitor sends over HTTP or the socket, the gateway answers with
a status below 500 (or a frame), keeps the socket open, and can still read back what it
stored."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import given
from hypothesis import strategies as st

from tests.channels.webchat.conftest import ORIGIN, Gateway
from tests.channels.webchat.test_websocket import new_session, open_socket, ready
from tests.hostile import bounded, hostile_text, id_strings, json_values, text_values

session_bodies = st.dictionaries(
    st.sampled_from(["name", "email", "language", "user_id", "user_hash", "email_hash"]),
    st.one_of(text_values, json_values),
    max_size=6,
)


def _raw(body: object) -> bytes:
    # json.dumps writes lone surrogates as \ud800 escapes, as a hostile client would.
    return json.dumps(body).encode()


@bounded
@given(body=session_bodies, text=st.one_of(text_values, json_values), after=id_strings)
async def test_webchat_http_never_fails_and_what_is_stored_reads_back(
    gateway: Gateway, body: dict[str, Any], text: Any, after: str
) -> None:
    headers = {"Origin": ORIGIN, "Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=gateway.http, timeout=120) as client:
        created = await client.post(
            "/channels/webchat/sessions", content=_raw(body), headers=headers
        )
        assert created.status_code < 500, created.text
        if created.status_code != 200:
            return
        auth = headers | {"Authorization": f"Bearer {created.json()['token']}"}
        posted = await client.post(
            "/channels/webchat/messages",
            content=_raw({"client_id": uuid.uuid4().hex, "text": text}),
            headers=auth,
        )
        assert posted.status_code < 500, posted.text
        history = await client.get("/channels/webchat/messages", headers=auth)
        assert history.status_code == 200, history.text
        if posted.status_code == 200:
            ids = [item["message_id"] for item in history.json()["items"]]
            assert posted.json()["message_id"] in ids
        # Encoded by hand, as a hostile client would: httpx cannot encode a lone
        # surrogate, so its bytes go out percent-encoded (invalid UTF-8 on the wire).
        raw_after = quote(after.encode("utf-8", "surrogatepass"), safe="")
        paged = await client.get(f"/channels/webchat/messages?after={raw_after}", headers=auth)
        assert paged.status_code < 500, paged.text


frames = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"type": st.sampled_from(["message", "resume", "ping", "x"])},
        optional={
            "client_id": st.one_of(hostile_text, json_values),
            "text": st.one_of(text_values, json_values),
            "after": st.one_of(st.integers(min_value=-(2**80), max_value=2**80), json_values),
            "attachments": json_values,
        },
    ),
)


@bounded
@given(sent=st.lists(frames, min_size=1, max_size=4))
async def test_webchat_socket_answers_every_frame_and_stays_open(
    gateway: Gateway, sent: list[Any]
) -> None:
    session = await new_session(gateway)
    async with open_socket(gateway, session["token"]) as ws:
        await ready(ws)
        for frame in sent:
            await ws.send(json.dumps(frame))
            # A ping after each frame: the pong proves the socket is still served.
            await ws.send(json.dumps({"type": "ping"}))
            while True:
                answer = json.loads(await asyncio.wait_for(ws.recv(), timeout=60))
                if answer.get("type") == "pong":
                    break
