"""Order facts: pushed by the exchange with a service token, or pulled from it (signed,
with a timeout, cached) from a loopback server that speaks the same JSON."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI, Request, Response

from gateway.app import create_app
from gateway.clock import ManualClock
from gateway.integrations.service import create_service_token
from gateway.orders.models import OrderFact
from gateway.runtime import Runtime
from tests.conftest import make_settings
from tests.desk import client, http_server, make_agent
from tests.gateway.cases.conftest import Desk, new_order_ref, order_facts

SECRET = "pull-secret"


async def test_push_creates_then_updates(desk: Desk) -> None:
    ref = new_order_ref()
    first = await desk.push_order(ref, order_facts("u-buyer", "u-seller"))
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "paid_marked"
    assert Decimal(first.json()["fiat_amount"]) == Decimal("460")
    released = order_facts(
        "u-buyer", "u-seller", status="released", released_at="2026-11-30T10:30:00Z"
    )
    second = await desk.push_order(ref, released)
    assert second.status_code == 200
    async with desk.api(desk.integration_token) as api:
        got = await api.get(f"/api/v1/orders/{ref}")
    assert got.status_code == 200
    assert got.json()["status"] == "released"
    assert got.json()["source"] == "push"
    count = await desk.scalar(
        sa.select(sa.func.count()).select_from(OrderFact).where(OrderFact.order_ref == ref)
    )
    assert count == 1


async def test_bad_tokens_are_401_and_agents_are_not_integrations(desk: Desk) -> None:
    ref = new_order_ref()
    agent_token = await make_agent(desk.runtime, ["general"])
    for headers in (
        {},
        {"Authorization": "Bearer prs_wrong"},
        {"Authorization": f"Bearer {agent_token}"},
    ):
        async with desk.api() as api:
            put = await api.put(
                f"/api/v1/orders/{ref}", json=order_facts("a", "b"), headers=headers
            )
            get = await api.get(f"/api/v1/orders/{ref}", headers=headers)
        assert put.status_code == 401 and get.status_code == 401
        assert isinstance(put.json()["detail"], str)
    # ...and a service token opens no agent route.
    async with desk.api(desk.integration_token) as api:
        assert (await api.get("/api/v1/cases")).status_code == 401
        assert (await api.get("/api/v1/me")).status_code == 401
    assert await desk.scalar(sa.select(OrderFact.id).where(OrderFact.order_ref == ref)) is None


async def test_unknown_order_is_404(desk: Desk) -> None:
    async with desk.api(desk.integration_token) as api:
        response = await api.get(f"/api/v1/orders/{new_order_ref()}")
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"buyer_user_id": "same", "seller_user_id": "same"}, "same user"),
        ({"fiat_amount": "999.00"}, "crypto_amount * price"),
        ({"crypto_amount": "-5"}, "greater than 0"),
        ({"status": "lost"}, "status"),
        ({"fiat_currency": "euro"}, "fiat_currency"),
        ({"created_at": "2026-11-30T10:00:00"}, "timezone"),
        ({"marked_paid_at": "2026-11-29T10:00:00Z"}, "before created_at"),
        ({"status": "released"}, "released_at"),
        ({"surprise": 1}, "surprise"),
        ({"transfer_remark": "a\x00b"}, "NUL"),
    ],
)
async def test_malformed_facts_are_422_and_write_nothing(
    desk: Desk, change: dict[str, Any], why: str
) -> None:
    ref = new_order_ref()
    response = await desk.push_order(ref, order_facts("b1", "s1") | change)
    assert response.status_code == 422, response.text
    assert why.lower() in response.json()["detail"].lower()
    assert await desk.scalar(sa.select(OrderFact.id).where(OrderFact.order_ref == ref)) is None


async def test_bad_order_ref_in_path_is_422(desk: Desk) -> None:
    response = await desk.push_order("../etc", order_facts("b1", "s1"))
    assert response.status_code in (404, 422)
    response = await desk.push_order("x" * 101, order_facts("b1", "s1"))
    assert response.status_code == 422


class Exchange:
    """The exchange's order endpoint on loopback: checks our signature, counts calls."""

    def __init__(self) -> None:
        self.orders: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []
        self.delay = 0.0
        self.app = FastAPI()
        self.app.add_api_route("/orders/{order_ref}", self.get, methods=["GET"])

    async def get(self, order_ref: str, request: Request) -> Response:
        self.calls.append(order_ref)
        timestamp = request.headers.get("x-parley-timestamp", "")
        path = request.url.path
        expected = (
            "sha256="
            + hmac.new(
                SECRET.encode(), f"{timestamp}\nGET\n{path}".encode(), hashlib.sha256
            ).hexdigest()
        )
        if not hmac.compare_digest(request.headers.get("x-parley-signature", ""), expected):
            return Response(status_code=401)
        if abs(int(timestamp) - time.time()) > 300:
            return Response(status_code=401)
        if self.delay:
            await asyncio.sleep(self.delay)
        if order_ref not in self.orders:
            return Response(status_code=404)
        if self.orders[order_ref] == {"huge": True}:
            return Response(b"[" + b"1," * 100_000 + b"1]", media_type="application/json")
        return Response(json.dumps(self.orders[order_ref]), media_type="application/json")


@pytest.fixture
async def exchange() -> AsyncIterator[tuple[Exchange, str]]:
    fake = Exchange()
    async with http_server(fake.app) as url:
        yield fake, url


async def _pulling_runtime(
    database_url: str, tmp_root: Path, url: str, *, secret: str = SECRET, wait: float = 2.0
) -> tuple[Runtime, ManualClock, str]:
    settings = make_settings(
        database_url,
        tmp_root,
        exchange={
            "order_url": f"{url}/orders/{{order_ref}}",
            "order_secret": secret,
            "order_timeout_seconds": wait,
            "order_cache_seconds": 60,
        },
    )
    runtime = Runtime.from_settings(settings)
    clock = ManualClock()
    runtime.clock = clock
    async with runtime.sessionmaker.begin() as session:
        _row, token = await create_service_token(session, name=f"pull-{uuid.uuid4().hex[:8]}")
    return runtime, clock, token


async def test_pull_signed_cached_and_refreshed(
    exchange: tuple[Exchange, str], database_url: str, tmp_root: Path
) -> None:
    fake, url = exchange
    runtime, clock, token = await _pulling_runtime(database_url, tmp_root, url)
    ref = new_order_ref()
    fake.orders[ref] = order_facts("pb", "ps")
    try:
        async with client(create_app(runtime.settings, runtime, plugins=[]), token) as api:
            first = await api.get(f"/api/v1/orders/{ref}")
            assert first.status_code == 200, first.text
            assert first.json()["source"] == "pull"
            assert first.json()["buyer_user_id"] == "pb"
            again = await api.get(f"/api/v1/orders/{ref}")
            assert again.status_code == 200
            assert fake.calls == [ref]  # served from the cache
            fake.orders[ref] = order_facts(
                "pb", "ps", status="cancelled", cancelled_at="2026-11-30T11:00:00Z"
            )
            clock.advance(timedelta(seconds=61))
            later = await api.get(f"/api/v1/orders/{ref}")
            assert later.json()["status"] == "cancelled"
            assert fake.calls == [ref, ref]
            missing = await api.get(f"/api/v1/orders/{new_order_ref()}")
            assert missing.status_code == 404
    finally:
        await runtime.close()


async def test_pull_with_a_wrong_secret_or_a_slow_exchange_is_502(
    exchange: tuple[Exchange, str], database_url: str, tmp_root: Path
) -> None:
    fake, url = exchange
    ref = new_order_ref()
    fake.orders[ref] = order_facts("pb", "ps")
    wrong, _clock, token = await _pulling_runtime(database_url, tmp_root, url, secret="nope")
    try:
        async with client(create_app(wrong.settings, wrong, plugins=[]), token) as api:
            response = await api.get(f"/api/v1/orders/{ref}")
        assert response.status_code == 502
        assert "401" in response.json()["detail"]
    finally:
        await wrong.close()
    slow, _clock, token = await _pulling_runtime(database_url, tmp_root, url, wait=0.2)
    fake.delay = 2.0
    try:
        async with client(create_app(slow.settings, slow, plugins=[]), token) as api:
            response = await api.get(f"/api/v1/orders/{ref}")
        assert response.status_code == 502
        assert await _stored(slow, ref) is None
    finally:
        await slow.close()


async def _stored(runtime: Runtime, ref: str) -> int | None:
    async with runtime.sessionmaker() as session:
        return await session.scalar(sa.select(OrderFact.id).where(OrderFact.order_ref == ref))


async def test_pulled_answers_that_are_not_order_facts_are_502(
    exchange: tuple[Exchange, str], database_url: str, tmp_root: Path
) -> None:
    fake, url = exchange
    runtime, _clock, token = await _pulling_runtime(database_url, tmp_root, url)
    huge, bad = new_order_ref(), new_order_ref()
    fake.orders[huge] = {"huge": True}
    fake.orders[bad] = order_facts("same", "same")
    try:
        async with client(create_app(runtime.settings, runtime, plugins=[]), token) as api:
            too_big = await api.get(f"/api/v1/orders/{huge}")
            invalid = await api.get(f"/api/v1/orders/{bad}")
        assert too_big.status_code == 502 and "bytes" in too_big.json()["detail"]
        assert invalid.status_code == 502 and "do not validate" in invalid.json()["detail"]
        assert await _stored(runtime, bad) is None
    finally:
        await runtime.close()
