"""The SLA worker's and the cases domain's webhooks, over real HTTP: a warning, a breach
and the escalation it makes arrive exactly once each, signed; a decided case tells each
of its tickets' subscribers, in that ticket's order."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from gateway.agents.models import Role
from gateway.app import create_app
from gateway.clock import ManualClock
from gateway.db import utcnow
from gateway.runtime import Runtime
from gateway.sla.worker import SlaWorker
from gateway.tickets.models import Severity
from gateway.webhooks.worker import WebhookDeliverer
from tests.conftest import BACKENDS, drop_pg_database, make_database, make_settings
from tests.desk import client, make_agent, new_ticket
from tests.gateway.sla.conftest import Desk, minutes
from tests.gateway.webhooks.conftest import Receiver, Subscriptions, drain


@pytest.fixture(scope="module", params=BACKENDS)
async def sla_desk(request: pytest.FixtureRequest, tmp_root: Path) -> AsyncIterator[Desk]:
    """The SLA tests' desk (its own database, rules with a matrix, a hand-moved clock)
    whose webhooks may call a loopback receiver."""
    url = await make_database(request.param, tmp_root)
    settings = make_settings(
        url,
        tmp_root / uuid.uuid4().hex[:6],
        database={"url": url, "pool_size": 4},
        webhooks={"allow_private": True, "max_attempts": 3, "backoff_base_seconds": 10},
        http={"public_url": "https://desk.example"},
    )
    runtime = Runtime.from_settings(settings)
    runtime.clock = ManualClock()
    desk = Desk(runtime, runtime.clock, create_app(settings, runtime, plugins=[]))
    await desk.load()
    try:
        yield desk
    finally:
        await runtime.close()
        if request.param == "postgresql":
            await drop_pg_database(url)


@pytest.fixture
async def sla_hooks(sla_desk: Desk) -> AsyncIterator[tuple[Subscriptions, WebhookDeliverer]]:
    token = await make_agent(sla_desk.runtime, [], role=Role.admin)
    subs = Subscriptions(sla_desk.app, sla_desk.runtime, token)
    worker = WebhookDeliverer(sla_desk.runtime, "test-deliverer", clock=ManualClock(utcnow()))
    try:
        yield subs, worker
    finally:
        await worker.close()
        await subs.close()


def bodies(receiver: Receiver, ref: str) -> list[dict]:
    found = [json.loads(r.body) for r in receiver.delivered()]
    return [b for b in found if b["data"].get("ticket", {}).get("ref") == ref]


async def test_a_breach_arrives_once_with_its_escalation_after_the_warning(
    sla_desk: Desk, sla_hooks: tuple[Subscriptions, WebhookDeliverer], receiver: Receiver
) -> None:
    subs, deliverer = sla_hooks
    await subs.create(receiver, ["sla.warning", "sla.breached", "ticket.escalated"])
    sla_desk.clock.set(utcnow())
    ref = await sla_desk.ticket(Severity.critical)
    worker = SlaWorker(sla_desk.runtime)

    sla_desk.clock.advance(minutes(12))  # 75 % of the 15 minutes to a first response
    await worker.run_once()
    sla_desk.clock.advance(minutes(4))  # 16 minutes: breached, level 2
    await worker.run_once()
    await worker.run_once()
    # A second worker (or this one after a restart) finds every event recorded.
    await SlaWorker(sla_desk.runtime).run_once()
    await drain(deliverer)

    assert receiver.requests and all(receiver.verified), "every signature verifies"
    events = bodies(receiver, ref)
    assert [e["type"] for e in events] == ["sla.warning", "sla.breached", "ticket.escalated"]
    warning, breach, escalated = (e["data"] for e in events)
    assert (warning["target"], warning["cycle"], warning["policy"]) == (
        "first_response",
        0,
        "critical",
    )
    assert warning["due_at"] == breach["due_at"] and breach["due_at"].endswith("Z")
    assert breach["target"] == "first_response" and breach["level"] == 2
    assert breach["breached_at"] == breach["due_at"], "breached the moment it fell due"
    assert breach["ticket"]["ref"] == ref
    assert {k: escalated[k] for k in ("level", "from_queue", "to_queue", "by")} == {
        "level": 2,
        "from_queue": "desk",
        "to_queue": "desk",  # level 2 has no queue: the line manager watches it there
        "by": "matrix",
    }
    assert escalated["trigger"] == "breach:first_response#0"
    assert escalated["reason"] == "first_response breached"
    assert escalated["ticket"]["status"] == "escalated"
    assert len({e["id"] for e in events}) == 3

    # The level's own time passes (30 min at level 2 still overdue): level 3, once more.
    sla_desk.clock.advance(minutes(31))
    await worker.run_once()
    await worker.run_once()
    await drain(deliverer)
    later = bodies(receiver, ref)[3:]
    assert [(e["type"], e["data"].get("level")) for e in later] == [("ticket.escalated", 3)]
    assert later[0]["data"]["to_queue"] == "top" and later[0]["data"]["trigger"].startswith(
        "after:2:"
    )


async def test_a_decided_case_tells_each_ticket_before_its_resolve(
    hooks_app: FastAPI,
    hooks_runtime: Runtime,
    receiver: Receiver,
    subscriptions: Subscriptions,
    deliverer: WebhookDeliverer,
    unique: str,
) -> None:
    await subscriptions.create(receiver, ["case.decided", "ticket.updated"])
    queue = f"cases-{unique}"
    token = await make_agent(hooks_runtime, [queue], role=Role.supervisor, name=f"sup-{unique}")
    buyer = (await new_ticket(hooks_runtime, queue, text=f"paid {unique}")).ticket_ref
    seller = (await new_ticket(hooks_runtime, queue, text=f"not paid {unique}")).ticket_ref
    order_ref = str(uuid.uuid4().int)[:18]
    async with client(hooks_app, token) as http:
        made = await http.post(
            "/api/v1/cases", json={"order_ref": order_ref, "ticket": buyer, "party": "buyer"}
        )
        assert made.status_code == 201, made.text
        case_id = made.json()["id"]
        linked = await http.post(
            f"/api/v1/cases/{case_id}/tickets", json={"ticket": seller, "party": "seller"}
        )
        assert linked.status_code == 200, linked.text
        decided = await http.post(
            f"/api/v1/cases/{case_id}/decision",
            json={"outcome": "release_to_buyer", "reason": "bank statement checks out"},
        )
        assert decided.status_code == 201, decided.text
    await drain(deliverer)

    assert receiver.requests and all(receiver.verified), "every signature verifies"
    decided_events = []
    for ref, party in ((buyer, "buyer"), (seller, "seller")):
        events = bodies(receiver, ref)
        kinds = [e["type"] for e in events]
        assert kinds.count("case.decided") == 1, kinds
        decision = events[kinds.index("case.decided")]
        resolved = [
            i
            for i, e in enumerate(events)
            if e["type"] == "ticket.updated"
            and e["data"]["changes"].get("status", {}).get("new") == "resolved"
        ]
        assert resolved and kinds.index("case.decided") < resolved[0], kinds
        assert decision["data"]["party"] == party
        decided_events.append(decision["data"])
    for data in decided_events:
        assert {k: data[k] for k in ("case", "order_ref", "outcome", "decided_by")} == {
            "case": f"C-{case_id}",
            "order_ref": order_ref,
            "outcome": "release_to_buyer",
            "decided_by": f"sup-{unique}",
        }
        assert data["tickets"] == [buyer, seller]
        assert data["ticket"]["status"] != "resolved", "told before the resolve"
    assert decided_events[0]["decision_id"] == decided_events[1]["decision_id"]
