"""Hostile input on the agent API: ids past the columns' range, non-ASCII digits, NUL and
lone surrogates, nesting and oversized bodies each get a clear 4xx, never a 500."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from gateway.agents.models import Role
from gateway.app import create_app
from gateway.runtime import Runtime
from tests.conftest import make_settings
from tests.desk import client, http_server, make_agent, new_ticket


@pytest.fixture
async def desk(app: FastAPI, runtime: Runtime, unique: str) -> tuple[str, str, str]:
    """(admin token, queue, ticket ref the admin may see)."""
    queue = f"hostile-{unique}"
    token = await make_agent(runtime, [queue], role=Role.admin)
    ticket = await new_ticket(runtime, queue)
    return token, queue, ticket.ticket_ref


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/tickets/D-2147483648",
        "/api/v1/tickets/D-99999999999999999999",
        "/api/v1/tickets/D-²",
        "/api/v1/tickets/D-①",
        "/api/v1/tickets/D-٣",
        "/api/v1/tickets/D-2147483648/events",
    ],
)
async def test_ticket_refs_out_of_range_or_not_ascii_are_404(
    app: FastAPI, desk: tuple[str, str, str], path: str
) -> None:
    token, _queue, _ref = desk
    async with client(app, token) as http:
        response = await http.get(path)
    assert response.status_code == 404, response.text


@pytest.mark.parametrize("attachment", ["2147483648", "99999999999999999999", "0", "²"])
async def test_attachment_ids_out_of_range_are_422(
    app: FastAPI, desk: tuple[str, str, str], attachment: str
) -> None:
    token, _queue, ref = desk
    async with client(app, token) as http:
        response = await http.get(f"/api/v1/tickets/{ref}/attachments/{attachment}")
    assert response.status_code == 422, response.text


@pytest.mark.parametrize("cursor", ["2147483648", "²", "①", "-1", "1e3"])
async def test_list_cursor_out_of_range_is_422(
    app: FastAPI, desk: tuple[str, str, str], cursor: str
) -> None:
    token, queue, _ref = desk
    async with client(app, token) as http:
        response = await http.get(f"/api/v1/queues/{queue}/tickets", params={"cursor": cursor})
        assert response.status_code == 422, response.text
        first = await http.get(f"/api/v1/queues/{queue}/tickets", params={"cursor": ""})
        assert first.status_code == 200


@pytest.mark.parametrize("bad", ["nul\x00", "a\ud800b"])
async def test_body_text_that_cannot_be_stored_is_422(
    app: FastAPI, desk: tuple[str, str, str], bad: str, unique: str
) -> None:
    token, _queue, ref = desk
    cases = [
        ("POST", f"/api/v1/tickets/{ref}/escalate", {"reason": bad}),
        ("POST", f"/api/v1/tickets/{ref}/transfer", {"queue": bad}),
        ("POST", f"/api/v1/tickets/{ref}/notes", {"text": bad}),
        ("POST", "/api/v1/admin/agents", {"name": bad}),
        ("POST", "/api/v1/admin/queues", {"name": f"q-{unique}", "description": bad}),
    ]
    async with client(app, token) as http:
        for method, path, body in cases:
            response = await http.request(
                method,
                path,
                content=json.dumps(body).encode(),
                headers={"Content-Type": "application/json"},
            )
            assert response.status_code == 422, (path, response.text)
        # Nothing half-done: the ticket still reads.
        assert (await http.get(f"/api/v1/tickets/{ref}")).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/admin/agents/%00",
        "/api/v1/queues/%00/tickets",
        "/api/v1/tickets/D-1%00",
        "/api/v1/tickets/%ED%A0%80",  # a lone surrogate as UTF-8 bytes
    ],
)
async def test_nul_in_a_path_is_400(app: FastAPI, desk: tuple[str, str, str], path: str) -> None:
    token, _queue, _ref = desk
    async with client(app, token) as http:
        method = "PATCH" if "admin/agents" in path else "GET"
        response = await http.request(method, path, json={"capacity": 2})
    assert response.status_code in (400, 404), response.text


async def test_nul_in_a_query_is_400(app: FastAPI, desk: tuple[str, str, str]) -> None:
    token, queue, _ref = desk
    async with client(app, token) as http:
        response = await http.get(f"/api/v1/queues/{queue}/tickets?cursor=%00")
    assert response.status_code == 400, response.text


async def test_deeply_nested_rules_toml_is_422(app: FastAPI, desk: tuple[str, str, str]) -> None:
    token, _queue, _ref = desk
    nested = "x = " + "[" * 5000 + "]" * 5000 + "\n"
    with_nul = '[[queues]]\nname = "q"\ndescription = "a\\u0000b"\n'
    async with client(app, token) as http:
        for source in (nested, with_nul):
            response = await http.put(
                "/api/v1/admin/rules",
                content=source.encode(),
                headers={"Content-Type": "application/toml"},
            )
            assert response.status_code == 422, response.text


async def test_a_chunked_body_over_the_cap_is_413(
    runtime: Runtime, desk: tuple[str, str, str], tmp_root: Path
) -> None:
    token, _queue, ref = desk
    cap = 64 * 1024
    settings = make_settings(runtime.settings.database.url, tmp_root, http={"max_body_bytes": cap})
    app = create_app(settings, runtime, plugins=[])

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"text": "'
        sent = 0
        while sent <= cap:
            yield b"x" * 8192
            sent += 8192
        yield b'"}'

    async with http_server(app) as base_url:
        async with httpx.AsyncClient(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as http:
            response = await http.post(
                f"/api/v1/tickets/{ref}/notes",
                content=chunks(),
                headers={"Content-Type": "application/json"},
            )
    assert response.status_code == 413, response.text


async def test_customer_language_follows_the_reply_access_rule(
    app: FastAPI, runtime: Runtime, unique: str
) -> None:
    queue = f"lang-{unique}"
    holder = await make_agent(runtime, [queue])
    other = await make_agent(runtime, [queue])
    ref = (await new_ticket(runtime, queue)).ticket_ref
    async with client(app, holder) as http:
        assert (await http.post(f"/api/v1/queues/{queue}/claim")).status_code == 200
    async with client(app, other) as http:
        refused = await http.post(
            f"/api/v1/tickets/{ref}/customer-language", json={"language": "ru"}
        )
        reply = await http.post(f"/api/v1/tickets/{ref}/replies", json={"text": "hi"})
    assert refused.status_code == reply.status_code == 409, refused.text
    async with client(app, holder) as http:
        ok = await http.post(f"/api/v1/tickets/{ref}/customer-language", json={"language": "ru"})
        assert ok.status_code == 200 and ok.json()["language"] == "ru"
        closed = await http.post(f"/api/v1/tickets/{ref}/status", json={"status": "closed"})
        assert closed.status_code == 200, closed.text
        late = await http.post(f"/api/v1/tickets/{ref}/customer-language", json={"language": "en"})
    assert late.status_code == 409, late.text


@pytest.mark.parametrize("bad", ["nul\x00", "a\ud800b"])
async def test_second_wave_bodies_that_cannot_be_stored_are_422(
    app: FastAPI, desk: tuple[str, str, str], bad: str, unique: str
) -> None:
    """Canned replies, webhooks, SLA and case bodies follow the same edge rules as the
    first wave's: a NUL or lone surrogate is refused before anything is written."""
    token, _queue, ref = desk
    cases = [
        ("POST", "/api/v1/admin/canned", {"name": f"c-{unique}", "bodies": {"en": bad}}),
        ("POST", "/api/v1/admin/canned", {"name": bad, "bodies": {"en": "ok"}}),
        (
            "POST",
            "/api/v1/admin/webhooks",
            {"url": "https://example.com/h", "event_types": ["ticket.created"], "description": bad},
        ),
        ("POST", f"/api/v1/tickets/{ref}/de-escalate", {"reason": bad}),
        ("PUT", "/api/v1/me/shift", {"on_shift": False, "hand_to": bad}),
    ]
    async with client(app, token) as http:
        for method, path, body in cases:
            response = await http.request(
                method,
                path,
                content=json.dumps(body).encode(),
                headers={"Content-Type": "application/json"},
            )
            assert response.status_code == 422, (path, response.text)
        canned = await http.get("/api/v1/admin/canned")
        assert canned.status_code == 200
        assert all("\x00" not in json.dumps(item) for item in canned.json()["items"])
