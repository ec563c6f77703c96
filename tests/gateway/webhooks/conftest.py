"""A gateway runtime that may call loopback receivers, and a real HTTP receiver there.

The receiver is a real server on 127.0.0.1 (uvicorn in the test's loop) that records
every request and answers from a script, so the sender, retries and signatures are
tested over the wire. It verifies signatures with the README's own snippet.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi import FastAPI, Request, Response

from gateway.agents.models import Role
from gateway.app import create_app
from gateway.clock import ManualClock
from gateway.runtime import Runtime
from gateway.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from gateway.webhooks.worker import WebhookDeliverer
from tests.conftest import make_settings
from tests.desk import client, http_server, make_agent

README = Path(__file__).resolve().parents[3] / "README.md"


def readme_verify() -> Callable[[str, str, bytes], bool]:
    """The `verify` function of the README's verification snippet, as documented."""
    text = README.read_text()
    match = re.search(r"<!-- webhook-verify -->\s*```python\n(.*?)```", text, re.S)
    assert match, "the README lost its webhook verification snippet"
    namespace: dict[str, object] = {}
    exec(compile(match.group(1), "README.md", "exec"), namespace)
    verify = namespace["verify"]
    assert callable(verify)
    return verify  # type: ignore[return-value]


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class Receiver:
    """Records requests; `script` holds (status, headers) answers given first, then 200."""

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
    verified: list[bool] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()
        verify = readme_verify()

        @app.post("/hook")
        async def hook(request: Request) -> Response:
            body = await request.body()
            header = request.headers.get("x-parley-signature", "")
            self.verified.append(any(verify(s, header, body) for s in self.secrets))
            status, headers = self.script.pop(0) if self.script else (200, {})
            self.requests.append(Received(dict(request.headers), body, status))
            return Response(status_code=status, headers=headers)

        return app

    def delivered(self) -> list[Received]:
        return [r for r in self.requests if 200 <= r.status < 300]


@pytest.fixture(scope="session")
async def hooks_runtime(database_url: str, tmp_root: Path) -> AsyncIterator[Runtime]:
    settings = make_settings(
        database_url,
        tmp_root,
        webhooks={"allow_private": True, "max_attempts": 3, "backoff_base_seconds": 10},
        http={"public_url": "https://desk.example"},
    )
    runtime = Runtime.from_settings(settings)
    yield runtime
    await runtime.close()


@pytest.fixture(scope="session")
def hooks_app(hooks_runtime: Runtime) -> FastAPI:
    return create_app(hooks_runtime.settings, hooks_runtime, plugins=[])


@pytest.fixture(scope="session")
async def admin_token(hooks_runtime: Runtime) -> str:
    return await make_agent(hooks_runtime, [], role=Role.admin)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    recv = Receiver()
    async with http_server(recv.app()) as base:
        recv.url = f"{base}/hook"
        yield recv


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime.now().astimezone())


@pytest.fixture
async def deliverer(hooks_runtime: Runtime, clock: ManualClock) -> AsyncIterator[WebhookDeliverer]:
    worker = WebhookDeliverer(hooks_runtime, "test-deliverer", clock=clock)
    yield worker
    await worker.close()


async def drain(deliverer: WebhookDeliverer, rounds: int = 50) -> int:
    """Run the deliverer until nothing is due; how many rows it handled. Its manual
    clock first catches up with the system clock the events were written by (it never
    goes back: a test that moved it ahead stays ahead)."""
    if isinstance(deliverer.clock, ManualClock):
        deliverer.clock.set(max(deliverer.clock.now(), datetime.now(UTC)))
    handled = 0
    for _ in range(rounds):
        count = await deliverer.run_once()
        if count == 0:
            return handled
        handled += count
    raise AssertionError("deliveries kept coming")


@dataclass
class Subscriptions:
    """Makes subscribers through the admin API; deactivates them (and fails what they
    still have pending) afterwards, so no other test's events go to a dead receiver."""

    app: FastAPI
    runtime: Runtime
    token: str
    made: list[int] = field(default_factory=list)

    async def create(self, receiver: Receiver, events: list[str], **extra: object) -> dict:
        async with client(self.app, self.token) as http:
            response = await http.post(
                "/api/v1/admin/webhooks",
                json={"url": receiver.url, "event_types": events, **extra},
            )
        assert response.status_code == 201, response.text
        body = response.json()
        self.made.append(body["id"])
        receiver.secrets.append(body["secret"])
        return body

    async def close(self) -> None:
        if not self.made:
            return
        async with self.runtime.sessionmaker.begin() as session:
            await session.execute(
                sa.update(WebhookSubscription)
                .where(WebhookSubscription.id.in_(self.made))
                .values(active=False)
            )
            await session.execute(
                sa.update(WebhookDelivery)
                .where(
                    WebhookDelivery.subscription_id.in_(self.made),
                    WebhookDelivery.status == DeliveryStatus.pending,
                )
                .values(status=DeliveryStatus.failed, last_error="test finished")
            )


@pytest.fixture
async def subscriptions(
    hooks_app: FastAPI, hooks_runtime: Runtime, admin_token: str
) -> AsyncIterator[Subscriptions]:
    subs = Subscriptions(hooks_app, hooks_runtime, admin_token)
    try:
        yield subs
    finally:
        with contextlib.suppress(asyncio.CancelledError):
            await subs.close()
