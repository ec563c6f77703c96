"""The HTTP fallback, uploads and the pure helpers: the same guarantees as the socket."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from channels.webchat import tokens
from channels.webchat.service import WebchatService
from channels.webchat.sessions import origin_allowed
from channels.webchat.uploads import sniff
from gateway.tickets.models import Attachment, Message
from tests.channels.webchat.conftest import ORIGIN, Gateway
from tests.channels.webchat.test_websocket import new_session

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def bearer(session: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {session['token']}", "Origin": ORIGIN}


async def test_post_acks_once_and_long_poll_returns_the_reply(gateway: Gateway) -> None:
    session = await new_session(gateway)
    async with httpx.AsyncClient(base_url=gateway.http, headers=bearer(session)) as client:
        body = {"client_id": "h1", "text": "my fiat is gone"}
        first = await client.post("/channels/webchat/messages", json=body)
        again = await client.post("/channels/webchat/messages", json=body)
        assert first.status_code == again.status_code == 200
        assert first.json() == again.json()
        ack = first.json()
        assert first.headers["access-control-allow-origin"] == ORIGIN

        poll = asyncio.create_task(
            client.get(
                "/channels/webchat/messages",
                params={"after": ack["message_id"], "wait": 10},
            )
        )
        await asyncio.sleep(0.3)  # let the poll start waiting; correctness does not need it
        reply_id = await gateway.agent_reply(ack["ticket"], "Refund on its way")
        page = (await poll).json()
        assert [item["message_id"] for item in page["items"]] == [reply_id]
        assert page["last_message_id"] == reply_id
        assert page["items"][0]["author"] == "agent"

        empty = await client.get("/channels/webchat/messages", params={"after": reply_id})
        assert empty.json() == {"items": [], "last_message_id": reply_id}
    external = f"{session['visitor_id']}:h1"
    assert (
        await gateway.count(
            sa.select(sa.func.count()).select_from(Message).where(Message.external_id == external)
        )
        == 1
    )


async def test_http_refusals(gateway: Gateway) -> None:
    session = await new_session(gateway)
    async with httpx.AsyncClient(base_url=gateway.http) as client:
        no_token = await client.get("/channels/webchat/messages")
        assert no_token.status_code == 401
        evil = await client.post(
            "/channels/webchat/sessions", json={}, headers={"Origin": "https://evil.example"}
        )
        assert evil.status_code == 403 and "access-control-allow-origin" not in evil.headers
        preflight = await client.options(
            "/channels/webchat/messages",
            headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
        )
        assert preflight.status_code == 204
        assert "Authorization" in preflight.headers["access-control-allow-headers"]
        bad = await client.post(
            "/channels/webchat/messages", json={"text": "no client id"}, headers=bearer(session)
        )
        assert bad.status_code == 422 and isinstance(bad.json()["detail"], str)
        too_long = await client.post(
            "/channels/webchat/messages",
            json={"client_id": "long", "text": "x" * 1001},
            headers=bearer(session),
        )
        assert too_long.status_code == 413
        bad_email = await client.post("/channels/webchat/sessions", json={"email": "not-mail"})
        assert bad_email.status_code == 422


async def test_rate_limit_per_visitor(gateway: Gateway) -> None:
    session, other = await new_session(gateway), await new_session(gateway)
    async with httpx.AsyncClient(base_url=gateway.http, headers=bearer(session)) as client:
        statuses = [
            (
                await client.post(
                    "/channels/webchat/messages", json={"client_id": f"r{i}", "text": f"n{i}"}
                )
            ).status_code
            for i in range(26)
        ]
        other_ok = await client.post(
            "/channels/webchat/messages",
            json={"client_id": "r0", "text": "me too"},
            headers=bearer(other),
        )
    assert statuses[:20] == [200] * 20 and 429 in statuses[20:]
    assert other_ok.status_code == 200


async def test_screenshot_upload_and_send(gateway: Gateway) -> None:
    session, thief = await new_session(gateway), await new_session(gateway)
    async with httpx.AsyncClient(base_url=gateway.http, headers=bearer(session)) as client:
        upload = await client.post(
            "/channels/webchat/attachments",
            params={"filename": "../../etc/receipt.txt"},
            content=PNG,
        )
        assert upload.status_code == 201, upload.text
        meta = upload.json()
        assert meta["content_type"] == "image/png" and meta["filename"] == "receipt.png"
        not_image = await client.post("/channels/webchat/attachments", content=b"<html>")
        assert not_image.status_code == 415
        huge = await client.post("/channels/webchat/attachments", content=PNG * 4000)
        assert huge.status_code == 413
        stolen = await client.post(
            "/channels/webchat/messages",
            json={"client_id": "s1", "text": "", "attachments": [meta["attachment_id"]]},
            headers=bearer(thief),
        )
        assert stolen.status_code == 422
        sent = await client.post(
            "/channels/webchat/messages",
            json={"client_id": "s1", "text": "", "attachments": [meta["attachment_id"]]},
        )
        assert sent.status_code == 200
        history = await client.get("/channels/webchat/messages")
    assert history.json()["items"][0]["attachments"] == [
        {"filename": "receipt.png", "content_type": "image/png", "size": len(PNG)}
    ]
    async with gateway.runtime.sessionmaker() as db:
        stored = await db.scalar(
            sa.select(Attachment).where(Attachment.message_id == sent.json()["message_id"])
        )
    assert stored is not None and stored.blob_key is not None
    assert await gateway.runtime.blobs.get(stored.blob_key) == PNG


async def test_widget_script_is_served(gateway: Gateway) -> None:
    async with httpx.AsyncClient(base_url=gateway.http) as client:
        response = await client.get("/widget.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert "attachShadow" in response.text and "innerHTML" not in response.text


async def test_generated_key_is_shared_by_every_service(gateway: Gateway) -> None:
    services = [WebchatService(gateway.runtime) for _ in range(4)]
    keys = await asyncio.gather(*(s.sessions.key() for s in services))
    assert len(set(keys)) == 1 and len(keys[0]) >= 32


def test_token_round_trip_and_kinds() -> None:
    token = tokens.sign(b"k", tokens.SESSION, {"v": "abc"}, ttl_seconds=60)
    assert tokens.verify(b"k", tokens.SESSION, token)["v"] == "abc"
    for kind, key, text in [
        (tokens.ATTACHMENT, b"k", token),
        (tokens.SESSION, b"other", token),
        (tokens.SESSION, b"k", token + "x"),
        (tokens.SESSION, b"k", "ä.ö"),
        (tokens.SESSION, b"k", "a.b.c"),
    ]:
        with pytest.raises(tokens.InvalidToken):
            tokens.verify(key, kind, text)


@pytest.mark.parametrize(
    ("origin", "host", "allowed", "ok"),
    [
        (None, "gw:8000", [], True),
        ("http://gw:8000", "gw:8000", [], True),
        ("https://exchange.example", "gw:8000", [], False),
        ("https://exchange.example", "gw:8000", ["https://exchange.example/"], True),
        ("https://EXCHANGE.example", "gw:8000", ["https://exchange.example"], True),
        ("https://evil.example", "gw:8000", ["https://exchange.example"], False),
        ("https://evil.example", "gw:8000", ["*"], True),
        ("null", "gw:8000", [], False),
    ],
)
def test_origin_rules(origin: str | None, host: str, allowed: list[str], ok: bool) -> None:
    assert origin_allowed(origin, host, allowed) is ok


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (PNG, "image/png"),
        (b"\xff\xd8\xff\xe0rest", "image/jpeg"),
        (b"GIF89a...", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"%PDF-1.7", "application/pdf"),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00", "video/mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", "video/quicktime"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81", "video/webm"),
        (b"PK\x03\x04zip", None),
        (b"MZ\x90\x00", None),
        (b"<svg onload=alert(1)>", None),
    ],
)
def test_sniff(data: bytes, kind: str | None) -> None:
    found = sniff(data)
    assert (found[0] if found else None) == kind
