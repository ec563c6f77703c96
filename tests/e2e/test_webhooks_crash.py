"""A `gateway worker` killed with SIGKILL while delivering webhooks loses none of them."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections import Counter
from pathlib import Path

import pytest
from fastapi import FastAPI, Request, Response

from gateway.runtime import Runtime
from gateway.webhooks.events import emit
from gateway.webhooks.models import WebhookSubscription
from gateway.webhooks.signing import new_secret
from tests.desk import http_server
from tests.e2e.test_email_desk import wait_until
from tests.gateway.webhooks.conftest import readme_verify
from tests.processes import gateway_env, gateway_process

EVENTS = 60


async def test_worker_killed_while_delivering_webhooks_loses_none(
    runtime: Runtime, database_url: str, tmp_path: Path, unique: str
) -> None:
    secret = new_secret()
    verify = readme_verify()
    received: list[str] = []
    signed: list[bool] = []
    receiver = FastAPI()

    @receiver.post("/hook")
    async def hook(request: Request) -> Response:
        body = await request.body()
        await asyncio.sleep(0.05)  # a busy receiver: the kill lands mid-delivery
        signed.append(verify(secret, request.headers["x-parley-signature"], body))
        received.append(json.loads(body)["id"])
        return Response(status_code=204)

    async with http_server(receiver) as base:
        async with runtime.sessionmaker.begin() as session:
            sub = WebhookSubscription(
                url=f"{base}/hook", event_types=["risk.report_created"], secret=secret
            )
            session.add(sub)
            await session.flush()
            ids = [
                await emit(session, "risk.report_created", data={"n": i, "run": unique})
                for i in range(EVENTS)
            ]
        env = gateway_env(
            database_url,
            tmp_path,
            GATEWAY_WEBHOOKS_ALLOW_PRIVATE="true",
            GATEWAY_WEBHOOKS_LEASE_SECONDS="3",
            GATEWAY_WEBHOOKS_BATCH_SIZE="5",
            GATEWAY_OUTBOX_POLL_SECONDS="0.2",
        )
        try:
            with gateway_process(env, tmp_path, command="worker") as worker:
                await wait_until(lambda: len(received) >= 10, 60, "the first deliveries")
                os.kill(worker.pid, signal.SIGKILL)
                worker.wait()
            at_kill = len(received)
            assert at_kill < EVENTS, "the worker finished before the kill; slow the receiver"
            with gateway_process(env, tmp_path, command="worker"):
                await wait_until(lambda: set(ids) <= set(received), 90, "every event")
        finally:
            async with runtime.sessionmaker.begin() as session:
                (await session.get_one(WebhookSubscription, sub.id)).active = False

    counts = Counter(received)
    assert set(counts) == set(ids), "every event arrived"
    duplicates = sum(c - 1 for c in counts.values())
    assert duplicates <= 5, "only the batch in flight at the kill may arrive twice"
    assert all(signed)
    print(f"kill after {at_kill} deliveries; {duplicates} resent after restart")


pytestmark = pytest.mark.slow
