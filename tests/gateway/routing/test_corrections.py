"""Agents correct triage over HTTP: re-queued by the rules, audited, kept as an example."""

from __future__ import annotations

from fastapi import FastAPI

from gateway.agents.models import Role
from gateway.routing.corrections import export_examples
from gateway.routing.dataset import held_out
from gateway.runtime import Runtime
from gateway.tickets.models import Ticket
from tests.desk import client, make_agent, new_ticket
from tests.gateway.routing.test_service import sample_rules

__all__ = ["sample_rules"]


async def test_correction_requeues_audits_and_becomes_an_example(
    app: FastAPI, runtime: Runtime, sample_rules: None, unique: str
) -> None:
    text = f"hi i need help with my account {unique}"
    created = await new_ticket(runtime, "en", text=text)
    token = await make_agent(runtime, ["en"], role=Role.supervisor, name=f"sup-{unique}")
    ref = created.ticket_ref
    async with client(app, token) as http:
        patched = await http.patch(
            f"/api/v1/tickets/{ref}", json={"category": "account_takeover", "severity": "critical"}
        )
        assert patched.status_code == 200, patched.text
        body = patched.json()
        assert (body["category"], body["severity"], body["queue"]) == (
            "account_takeover",
            "critical",
            "critical",
        )
        events = (await http.get(f"/api/v1/tickets/{ref}/events")).json()["items"]
        [event] = [e for e in events if e["action"] == "ticket.triage_corrected"]
        assert event["actor"] == f"sup-{unique}"
        assert event["data"]["old_severity"] == "normal"
        assert event["data"]["new_severity"] == "critical"
        assert event["data"]["new_category"] == "account_takeover"
        assert event["data"]["rule"] == "critical"
        # The same values again change nothing and add no second event.
        again = await http.patch(f"/api/v1/tickets/{ref}", json={"severity": "critical"})
        assert again.status_code == 200
        events = (await http.get(f"/api/v1/tickets/{ref}/events")).json()["items"]
        assert [e["action"] for e in events].count("ticket.triage_corrected") == 1
    async with runtime.sessionmaker() as session:
        ticket = await session.get_one(Ticket, created.ticket_id)
        assert ticket.routing_confidence == 1.0 and ticket.severity_rank == 0
        examples = [e for e in await export_examples(session) if e.text == text]
    assert [(e.category, e.severity) for e in examples] == [("account_takeover", "critical")]
    assert examples[0].source.startswith(f"correction: ticket {ref}")
    assert isinstance(held_out(examples[0].text), bool)


async def test_bad_corrections_are_refused(app: FastAPI, runtime: Runtime, unique: str) -> None:
    created = await new_ticket(runtime, f"q-{unique}")
    token = await make_agent(runtime, [f"q-{unique}"])
    outsider = await make_agent(runtime, [f"other-{unique}"])
    ref = created.ticket_ref
    async with client(app, token) as http:
        assert (await http.patch(f"/api/v1/tickets/{ref}", json={})).status_code == 422
        bad = await http.patch(f"/api/v1/tickets/{ref}", json={"category": "nope"})
        assert bad.status_code == 422
        extra = await http.patch(f"/api/v1/tickets/{ref}", json={"severity": "low", "queue": "x"})
        assert extra.status_code == 422
        assert (
            await http.patch("/api/v1/tickets/D-999999999", json={"severity": "low"})
        ).status_code == 404
        closed = await http.post(f"/api/v1/tickets/{ref}/status", json={"status": "closed"})
        assert closed.status_code == 200, closed.text
        assert (
            await http.patch(f"/api/v1/tickets/{ref}", json={"severity": "low"})
        ).status_code == 409
    async with client(app, outsider) as http:
        assert (
            await http.patch(f"/api/v1/tickets/{ref}", json={"severity": "low"})
        ).status_code == 404
