"""An agent works a ticket over HTTP: claim, read, answer, note, resolve, and the trail."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import FastAPI

from gateway.agents.models import Role
from gateway.outbox.models import Outbox
from gateway.runtime import Runtime
from gateway.tickets.models import Message
from tests.desk import client, make_agent, new_ticket


async def test_claim_read_answer_note_resolve(app: FastAPI, runtime: Runtime, unique: str) -> None:
    queue = f"q-{unique}"
    token = await make_agent(runtime, [queue], name=f"ana-{unique}")
    created = await new_ticket(runtime, queue, text="Paid 1200 USD, order 20240511 not released")
    async with client(app, token) as http:
        me = (await http.get("/api/v1/me")).json()
        assert me["name"] == f"ana-{unique}" and me["queues"] == [queue]

        claimed = await http.post(f"/api/v1/queues/{queue}/claim")
        assert claimed.status_code == 200, claimed.text
        ticket = claimed.json()
        assert ticket["ref"] == created.ticket_ref
        assert ticket["assignee"] == f"ana-{unique}" and ticket["status"] == "open"
        assert ticket["messages"][0]["text"] == "Paid 1200 USD, order 20240511 not released"
        assert ticket["messages"][0]["direction"] == "inbound"
        for key in (
            "category",
            "language",
            "channel",
            "customer",
            "routing_reasons",
            "first_response_due",
        ):
            assert key in ticket

        reply = await http.post(
            f"/api/v1/tickets/{created.ticket_ref}/replies", json={"text": "We are on it."}
        )
        assert reply.status_code == 201, reply.text
        assert reply.json()["delivery_state"] == "pending"
        note = await http.post(
            f"/api/v1/tickets/{created.ticket_ref}/notes", json={"text": "seller contacted"}
        )
        assert note.status_code == 201

        resolved = await http.post(
            f"/api/v1/tickets/{created.ticket_ref}/status", json={"status": "resolved"}
        )
        assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"

        full = (await http.get(f"/api/v1/tickets/{created.ticket_ref}")).json()
        # The last outbound message is the satisfaction survey the resolution sent.
        directions = [m["direction"] for m in full["messages"]]
        assert directions == ["inbound", "outbound", "note", "outbound"]
        assert full["messages"][2]["delivery_state"] == "internal"
        assert full["messages"][3]["author"] == "system"
        events = (await http.get(f"/api/v1/tickets/{created.ticket_ref}/events")).json()["items"]
        actions = [e["action"] for e in events]
        for action in (
            "ticket.created",
            "ticket.claimed",
            "message.replied",
            "note.added",
            "ticket.status_changed",
            "csat.asked",
        ):
            assert action in actions

    async with runtime.sessionmaker() as session:
        # The reply and its outbox row were written together; the note has no outbox row.
        outbox = (
            await session.execute(sa.select(Outbox).where(Outbox.message_id == reply.json()["id"]))
        ).scalar_one()
        assert outbox.state == "pending"
        notes_out = await session.execute(
            sa.select(sa.func.count())
            .select_from(Outbox)
            .where(Outbox.message_id == note.json()["id"])
        )
        assert notes_out.scalar_one() == 0


async def test_claim_takes_the_most_urgent_first(
    app: FastAPI, runtime: Runtime, unique: str
) -> None:
    from gateway.tickets.models import Severity

    queue = f"q-{unique}"
    token = await make_agent(runtime, [queue])
    low = await new_ticket(runtime, queue, severity=Severity.low)
    critical = await new_ticket(runtime, queue, severity=Severity.critical)
    normal = await new_ticket(runtime, queue, severity=Severity.normal)
    async with client(app, token) as http:
        order = [(await http.post(f"/api/v1/queues/{queue}/claim")).json()["ref"] for _ in range(3)]
        assert order == [critical.ticket_ref, normal.ticket_ref, low.ticket_ref]
        assert (await http.post(f"/api/v1/queues/{queue}/claim")).status_code == 204


async def test_capacity_is_409(app: FastAPI, runtime: Runtime, unique: str) -> None:
    queue = f"q-{unique}"
    token = await make_agent(runtime, [queue], capacity=1)
    await new_ticket(runtime, queue)
    await new_ticket(runtime, queue)
    async with client(app, token) as http:
        assert (await http.post(f"/api/v1/queues/{queue}/claim")).status_code == 200
        full = await http.post(f"/api/v1/queues/{queue}/claim")
        assert full.status_code == 409 and "capacity" in full.json()["detail"]


async def test_status_table_and_closed_tickets(app: FastAPI, runtime: Runtime, unique: str) -> None:
    queue = f"q-{unique}"
    agent = await make_agent(runtime, [queue])
    supervisor = await make_agent(runtime, [], role=Role.supervisor)
    created = await new_ticket(runtime, queue)
    ref = created.ticket_ref
    async with client(app, agent) as http:
        assert (
            await http.post(f"/api/v1/tickets/{ref}/status", json={"status": "closed"})
        ).status_code == 200
        refused = await http.post(f"/api/v1/tickets/{ref}/replies", json={"text": "hello?"})
        assert refused.status_code == 409 and "closed" in refused.json()["detail"]
        reopen = await http.post(f"/api/v1/tickets/{ref}/status", json={"status": "open"})
        assert reopen.status_code == 403
    async with client(app, supervisor) as http:
        assert (
            await http.post(f"/api/v1/tickets/{ref}/status", json={"status": "open"})
        ).status_code == 200
    async with runtime.sessionmaker() as session:
        count = await session.execute(
            sa.select(sa.func.count()).where(Message.ticket_id == created.ticket_id)
        )
        assert count.scalar_one() == 1  # the refused reply wrote nothing


async def test_bad_input_is_4xx_and_writes_nothing(
    app: FastAPI, runtime: Runtime, unique: str
) -> None:
    queue = f"q-{unique}"
    token = await make_agent(runtime, [queue])
    ref = (await new_ticket(runtime, queue)).ticket_ref
    limit = runtime.settings.ingest.max_text_chars
    async with client(app, token) as http:
        cases = [
            ("status", {"status": "deleted"}, 422),
            ("status", {}, 422),
            ("replies", {"text": ""}, 422),
            ("replies", {"text": "   \n "}, 422),
            ("replies", {"text": "x" * (limit + 1)}, 422),
            ("replies", {"text": "hi", "html": "<b>x</b>"}, 422),
            ("notes", {"text": ""}, 422),
            ("transfer", {"queue": f"nowhere-{unique}"}, 404),
            ("escalate", {"reason": ""}, 422),
        ]
        for route, body, status in cases:
            response = await http.post(f"/api/v1/tickets/{ref}/{route}", json=body)
            assert response.status_code == status, (route, body, response.text)
            assert response.json()["detail"]
        bad_json = await http.post(
            f"/api/v1/tickets/{ref}/replies",
            content=b"{not json",
            headers={"Content-Type": "application/json"},
        )
        assert bad_json.status_code == 422
        assert (await http.post(f"/api/v1/queues/{queue}/claim?wait=61")).status_code == 422
        ticket = (await http.get(f"/api/v1/tickets/{ref}")).json()
    assert len(ticket["messages"]) == 1 and ticket["queue"] == queue and ticket["status"] == "new"


async def test_transfer_escalate_release(app: FastAPI, runtime: Runtime, unique: str) -> None:
    first, second, top = f"l1-{unique}", f"l2-{unique}", f"other-{unique}"
    admin = await make_agent(runtime, [], role=Role.admin)
    async with client(app, admin) as http:
        assert (await http.post("/api/v1/admin/queues", json={"name": second})).status_code == 201
        made = await http.post("/api/v1/admin/queues", json={"name": first, "escalates_to": second})
        assert made.status_code == 201 and made.json()["escalates_to"] == second
        assert (await http.post("/api/v1/admin/queues", json={"name": first})).status_code == 409
    token = await make_agent(runtime, [first])
    ref = (await new_ticket(runtime, first)).ticket_ref
    async with client(app, token) as http:
        assert (await http.post(f"/api/v1/queues/{first}/claim")).status_code == 200
        released = await http.post(f"/api/v1/tickets/{ref}/release")
        assert released.status_code == 200 and released.json()["assignee"] is None
        assert (await http.post(f"/api/v1/tickets/{ref}/release")).status_code == 409
        escalated = (
            await http.post(f"/api/v1/tickets/{ref}/escalate", json={"reason": "large loss"})
        ).json()
        assert (escalated["queue"], escalated["status"], escalated["escalation_level"]) == (
            second,
            "escalated",
            2,
        )
        # The ticket left the agent's queues: it is no longer theirs to see.
        assert (await http.get(f"/api/v1/tickets/{ref}")).status_code == 404
    async with client(app, admin) as http:
        moved = await http.post(f"/api/v1/tickets/{ref}/transfer", json={"queue": top})
        assert moved.status_code == 404  # the target queue must exist
        await http.post("/api/v1/admin/queues", json={"name": top})
        moved = await http.post(f"/api/v1/tickets/{ref}/transfer", json={"queue": top})
        assert moved.status_code == 200 and moved.json()["queue"] == top
