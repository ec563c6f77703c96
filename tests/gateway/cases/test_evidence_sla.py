"""An evidence request's deadline is an SLA target of the party's ticket (`evidence`):
active from the request, fulfilled by the party's file, breached once when the deadline
passes first; the case's deadlines agree with the ticket's SLA."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from gateway.clock import ManualClock
from gateway.sla.worker import SlaWorker
from tests.gateway.cases.conftest import Desk
from tests.gateway.cases.helpers import case_json, open_dispute, supervisor

PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(200)
# Short, so the clock moved past it leaves every other ticket's policy targets alone.
DEADLINE = timedelta(seconds=36)


async def _ask(desk: Desk, token: str, case_id: int, party: str) -> dict[str, Any]:
    async with desk.api(token) as api:
        asked = await api.post(
            f"/api/v1/cases/{case_id}/evidence-requests",
            json={"party": party, "what": "the payment receipt", "deadline_hours": 0.01},
        )
    assert asked.status_code == 201, asked.text
    return dict(asked.json())


async def _sla(desk: Desk, token: str, ref: str) -> dict[str, Any]:
    async with desk.api(token) as api:
        got = await api.get(f"/api/v1/tickets/{ref}/sla")
    assert got.status_code == 200, got.text
    return dict(got.json())


def _evidence_clocks(sla: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in sla["clocks"] if c["target"] == "evidence"]


def _evidence_events(sla: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in sla["events"] if e["target"] == "evidence" and e["kind"] == kind]


async def test_a_request_starts_an_active_evidence_target(desk: Desk) -> None:
    token = await supervisor(desk)
    dispute = await open_dispute(desk, token)
    request = await _ask(desk, token, dispute.case_id, "buyer")
    sla = await _sla(desk, token, dispute.buyer_ticket)
    [clock] = _evidence_clocks(sla)
    assert clock["cycle"] == request["request_id"]
    assert clock["state"] == "active"
    assert clock["due_at"] == request["due_at"]
    assert [e["cycle"] for e in _evidence_events(sla, "active")] == [request["request_id"]]
    # Only the asked party's ticket carries the target.
    assert _evidence_clocks(await _sla(desk, token, dispute.seller_ticket)) == []
    [deadline] = [
        d
        for d in (await case_json(desk, token, dispute.case_id))["deadlines"]
        if d["kind"] == "evidence_request"
    ]
    assert (deadline["state"], deadline["due_at"]) == ("open", clock["due_at"])


async def test_a_file_before_the_deadline_fulfils_the_target(desk: Desk) -> None:
    token = await supervisor(desk)
    dispute = await open_dispute(desk, token)
    request = await _ask(desk, token, dispute.case_id, "buyer")
    await desk.chat(
        dispute.buyer, "attached", attachments=[await desk.upload(dispute.buyer, "p.png", PNG)]
    )
    sla = await _sla(desk, token, dispute.buyer_ticket)
    [clock] = _evidence_clocks(sla)
    assert clock["state"] == "fulfilled" and clock["breached_at"] is None
    [fulfilled] = _evidence_events(sla, "fulfilled")
    assert fulfilled["cycle"] == request["request_id"]  # recorded at once, not by the worker

    later = ManualClock(desk.clock.now() + DEADLINE + timedelta(seconds=5))
    desk.runtime.clock = later
    try:
        worker = SlaWorker(desk.runtime, clock=later)
        await worker.run_once()
        sla = await _sla(desk, token, dispute.buyer_ticket)
        case = await case_json(desk, token, dispute.case_id)
    finally:
        desk.runtime.clock = desk.clock
    assert _evidence_clocks(sla)[0]["state"] == "fulfilled"
    assert _evidence_events(sla, "breached") == []
    assert case["evidence_requests"][0]["state"] == "met"


async def test_a_passed_deadline_is_breached_once_by_the_worker(desk: Desk) -> None:
    token = await supervisor(desk)
    dispute = await open_dispute(desk, token)
    await _ask(desk, token, dispute.case_id, "buyer")
    async with desk.api(token) as api:
        level_before = (await api.get(f"/api/v1/tickets/{dispute.buyer_ticket}")).json()
    later = ManualClock(desk.clock.now() + DEADLINE + timedelta(seconds=5))
    desk.runtime.clock = later
    try:
        worker = SlaWorker(desk.runtime, clock=later)
        await worker.run_once()
        later.advance(timedelta(seconds=1))
        await worker.run_once()
        sla = await _sla(desk, token, dispute.buyer_ticket)
        case = await case_json(desk, token, dispute.case_id)
        async with desk.api(token) as api:
            ticket = (await api.get(f"/api/v1/tickets/{dispute.buyer_ticket}")).json()
    finally:
        desk.runtime.clock = desk.clock
    [clock] = _evidence_clocks(sla)
    assert clock["state"] == "breached" and clock["breached_at"] == clock["due_at"]
    [breach] = _evidence_events(sla, "breached")
    assert breach["at"] == clock["due_at"]
    assert sla["sla_state"] == "breached"
    # The default rules name no escalation level for evidence: the breach is recorded
    # and shown, and nobody is escalated for it.
    assert [e for e in sla["events"] if e["target"] == "escalation"] == []
    assert ticket["status"] == level_before["status"] == "pending_customer"
    [deadline] = [d for d in case["deadlines"] if d["kind"] == "evidence_request"]
    assert deadline["state"] == "breached"
