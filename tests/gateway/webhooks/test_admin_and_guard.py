"""The admin API for subscribers, and the server-side request forgery guard."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from gateway.agents.models import Role
from gateway.runtime import Runtime
from gateway.webhooks.sender import WebhookSender, parse_retry_after
from gateway.webhooks.ssrf import Resolver, UnsafeTarget, check_url, is_public
from tests.desk import client, make_agent
from tests.gateway.webhooks.conftest import Receiver

REFUSED_URLS = [
    "http://127.0.0.1/hook",
    "http://localhost:8080/hook",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://10.1.2.3/hook",
    "http://172.16.0.1/hook",
    "http://192.168.1.1/hook",
    "http://100.64.0.1/hook",
    "http://0.0.0.0/hook",
    "http://[fe80::1]/hook",
    "http://[fd00::1]/hook",
    "ftp://example.com/hook",
    "http://user:pass@example.com/hook",
    "not a url",
]


@pytest.mark.parametrize("url", REFUSED_URLS)
async def test_non_public_targets_are_refused_at_registration(
    app: FastAPI, runtime: Runtime, url: str
) -> None:
    assert runtime.settings.webhooks.allow_private is False
    token = await make_agent(runtime, [], role=Role.admin)
    async with client(app, token) as http:
        response = await http.post(
            "/api/v1/admin/webhooks", json={"url": url, "event_types": ["ticket.created"]}
        )
    assert response.status_code == 422, response.text
    assert "url" in response.json()["detail"]


def resolves_to(*addresses: str) -> Resolver:
    """A DNS double: the name resolves to these addresses."""

    async def resolver(_host: str, _port: int) -> list[str]:
        return list(addresses)

    return resolver


async def test_a_name_with_any_private_address_is_refused() -> None:
    mixed = resolves_to("93.184.216.34", "10.0.0.7")
    with pytest.raises(UnsafeTarget, match=r"10\.0\.0\.7"):
        await check_url("https://hooks.example/x", allow_private=False, resolver=mixed)
    public = resolves_to("93.184.216.34", "2606:2800:220:1::1")
    await check_url("https://hooks.example/x", allow_private=False, resolver=public)
    with pytest.raises(UnsafeTarget, match="does not resolve"):
        await check_url(
            "https://hooks.example/x",
            allow_private=False,
            resolver=resolves_to(),
        )
    await check_url("http://127.0.0.1/x", allow_private=True)


@pytest.mark.parametrize(
    ("address", "public"),
    [("8.8.8.8", True), ("127.0.0.2", False), ("::ffff:10.0.0.1", False), ("224.0.0.1", False)],
)
def test_is_public(address: str, public: bool) -> None:
    assert is_public(address) is public


async def test_the_sender_refuses_a_private_target_without_calling_it(receiver: Receiver) -> None:
    sender = WebhookSender(timeout_seconds=5, allow_private=False)
    from gateway.db import utcnow

    result = await sender.post(receiver.url, b"{}", {}, now=utcnow())
    await sender.close()
    assert result.outcome == "failed" and "refused" in (result.error or "")
    assert receiver.requests == [], "a refused target never sees a request"


def test_retry_after_in_seconds_or_as_a_date() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert parse_retry_after("30", now) == 30
    assert parse_retry_after("Tue, 01 Dec 2026 09:02:00 GMT", now) == 120
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


async def test_admins_manage_subscribers_and_see_the_secret_once(
    hooks_app: FastAPI, hooks_runtime: Runtime, admin_token: str, unique: str
) -> None:
    body = {"url": f"http://127.0.0.1:9/{unique}", "event_types": ["ticket.created"] * 2}
    async with client(hooks_app, admin_token) as http:
        created = await http.post("/api/v1/admin/webhooks", json=body)
        assert created.status_code == 201, created.text
        sub = created.json()
        assert sub["secret"].startswith("whsec_") and len(sub["secret"]) > 40
        assert sub["event_types"] == ["ticket.created"] and sub["active"] is True
        shown = await http.get(f"/api/v1/admin/webhooks/{sub['id']}")
        assert shown.status_code == 200 and "secret" not in shown.json()
        listed = await http.get("/api/v1/admin/webhooks")
        assert sub["id"] in [s["id"] for s in listed.json()["items"]]
        assert all("secret" not in s for s in listed.json()["items"])
        changed = await http.patch(
            f"/api/v1/admin/webhooks/{sub['id']}",
            json={"event_types": ["csat.received", "sla.breached"], "active": False},
        )
        assert changed.status_code == 200
        assert changed.json()["event_types"] == ["csat.received", "sla.breached"]
        bad = await http.post(
            "/api/v1/admin/webhooks", json={"url": body["url"], "event_types": ["ticket.exploded"]}
        )
        assert bad.status_code == 422
        empty = await http.post(
            "/api/v1/admin/webhooks", json={"url": body["url"], "event_types": []}
        )
        assert empty.status_code == 422
        missing = await http.get("/api/v1/admin/webhooks/999999999")
        assert missing.status_code == 404
        events = await http.get("/api/v1/admin/webhooks/abc")
        assert events.status_code == 422


async def test_only_admins_reach_the_webhook_routes(
    hooks_app: FastAPI, hooks_runtime: Runtime
) -> None:
    supervisor = await make_agent(hooks_runtime, [], role=Role.supervisor)
    async with client(hooks_app, supervisor) as http:
        assert (await http.get("/api/v1/admin/webhooks")).status_code == 403
    async with client(hooks_app) as http:
        assert (await http.get("/api/v1/admin/webhooks")).status_code == 401
