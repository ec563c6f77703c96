"""Breaches escalate through the matrix once per event, with audit events and notices
through the outbox; the API shows the clocks; shifts decide who hears and claims."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from gateway.agents.models import Role
from gateway.audit import AuditEvent
from gateway.db import utcnow
from gateway.outbox.models import Outbox
from gateway.runtime import Runtime
from gateway.sla.models import SlaEvent
from gateway.sla.worker import SlaWorker
from gateway.tickets.models import Message, Severity
from tests.desk import client
from tests.gateway.sla.conftest import Desk, minutes


async def notices(desk: Desk, ref: str, about: str = "escalated") -> list[tuple[str, str]]:
    """(channel, recipient) of every desk notice queued for the ticket whose text has
    `about` ("escalated", or "due in" for warnings)."""
    async with desk.runtime.sessionmaker() as session:
        rows = await session.execute(
            sa.select(Outbox.channel, Outbox.recipient, Message.text)
            .join(Message, Message.id == Outbox.message_id)
            .where(Outbox.ticket_id == int(ref[2:]), Outbox.recipient.is_not(None))
            .order_by(Outbox.id)
        )
        return [(c, r) for c, r, text in rows if about in text]


async def escalations(desk: Desk, ref: str) -> list[dict]:
    async with desk.runtime.sessionmaker() as session:
        rows = await session.execute(
            sa.select(AuditEvent.data)
            .where(AuditEvent.ticket_id == int(ref[2:]), AuditEvent.action == "ticket.escalated")
            .order_by(AuditEvent.id)
        )
        return list(rows.scalars())


async def set_contact(desk: Desk, name: str, **body: str) -> None:
    async with client(desk.app, desk.tokens[name]) as http:
        response = await http.put("/api/v1/me/contact", json=body)
        assert response.status_code == 200, response.text


async def setup_people(desk: Desk) -> None:
    if "lead" not in desk.tokens:
        await desk.agent("lead", role=Role.supervisor)
        await desk.agent("head", role=Role.supervisor, queues=["top"])
        await set_contact(desk, "lead", email="lead@desk.test")
        await set_contact(desk, "head", telegram_chat_id="4242", notify_via="telegram")
    for name in ("lead", "head"):
        async with client(desk.app, desk.tokens[name]) as http:
            assert (await http.put("/api/v1/me/shift", json={"on_shift": True})).status_code == 200


async def test_breach_notifies_level_2_once_then_level_3_after_its_time(desk: Desk) -> None:
    desk.clock.set(utcnow())
    await setup_people(desk)
    ref = await desk.ticket(Severity.critical)
    worker = SlaWorker(desk.runtime)

    desk.clock.advance(minutes(14))
    await worker.run_once()
    assert (await desk.ticket_row(ref)).escalation_level == 0
    # Past 75 %: the queue's agents on shift with a contact hear it first (level 1).
    assert await notices(desk, ref, "due in") == [("email", "lead@desk.test")]

    desk.clock.advance(minutes(2))  # 16 minutes: first response breached
    await worker.run_once()
    await worker.run_once()
    ticket = await desk.ticket_row(ref)
    assert (ticket.escalation_level, ticket.status, ticket.sla_state) == (
        2,
        "escalated",
        "breached",
    )
    assert await notices(desk, ref) == [("email", "lead@desk.test")]
    [step] = await escalations(desk, ref)
    assert step["level"] == 2 and step["cause"] == "breach:first_response#0"
    assert step["notified"] == ["lead:email"]

    desk.clock.advance(minutes(29))
    await worker.run_once()
    assert (await desk.ticket_row(ref)).escalation_level == 2

    desk.clock.advance(minutes(2))  # 31 minutes at level 2, still unanswered
    await worker.run_once()
    await worker.run_once()
    ticket = await desk.ticket_row(ref)
    assert ticket.escalation_level == 3
    assert ticket.assignee_id is None
    assert await notices(desk, ref) == [
        ("email", "lead@desk.test"),
        ("telegram", "4242"),
        ("telegram", "-100777"),
    ]
    assert [s["level"] for s in await escalations(desk, ref)] == [2, 3]
    # The notices are notes on the ticket: never a message to the customer.
    async with desk.runtime.sessionmaker() as session:
        directions = set(
            (
                await session.execute(
                    sa.select(Message.direction).where(
                        Message.ticket_id == int(ref[2:]), Message.author_type == "system"
                    )
                )
            ).scalars()
        )
    assert directions == {"note"}

    async with client(desk.app, desk.tokens["head"]) as http:
        shown = (await http.get(f"/api/v1/tickets/{ref}/sla")).json()
        full = (await http.get(f"/api/v1/tickets/{ref}")).json()
    first = next(c for c in shown["clocks"] if c["target"] == "first_response")
    assert first["state"] == "breached"
    kinds = [(e["target"], e["kind"]) for e in shown["events"]]
    assert ("first_response", "breached") in kinds
    assert kinds.count(("escalation", "escalated")) == 2
    assert full["sla_state"] == "breached" and full["escalation_level"] == 3
    assert {"first_response_due", "next_response_due", "resolution_due"} <= full.keys()


async def test_two_workers_act_once_per_event(desk: Desk) -> None:
    desk.clock.set(utcnow())
    await setup_people(desk)
    refs = [await desk.ticket(Severity.critical) for _ in range(12)]
    desk.clock.advance(minutes(16))
    # A second runtime: its own engine and connections, as a second process would have.
    other = Runtime.from_settings(desk.runtime.settings)
    other.clock = desk.clock
    try:
        workers = [SlaWorker(desk.runtime), SlaWorker(other)]
        await asyncio.gather(*(w.run_once() for w in workers for _ in range(3)))
    finally:
        await other.close()
    for ref in refs:
        assert await notices(desk, ref) == [("email", "lead@desk.test")], ref
        assert [s["level"] for s in await escalations(desk, ref)] == [2], ref
    async with desk.runtime.sessionmaker() as session:
        breaches = (
            await session.execute(
                sa.select(sa.func.count())
                .select_from(SlaEvent)
                .where(
                    SlaEvent.ticket_id.in_([int(r[2:]) for r in refs]),
                    SlaEvent.kind == "breached",
                )
            )
        ).scalar_one()
    assert breaches == len(refs)


async def test_answer_in_time_means_no_breach_and_no_escalation(desk: Desk) -> None:
    desk.clock.set(utcnow())
    await setup_people(desk)
    ref = await desk.ticket(Severity.critical)
    async with client(desk.app, desk.tokens["lead"]) as http:
        response = await http.post(f"/api/v1/tickets/{ref}/replies", json={"text": "On it."})
        assert response.status_code == 201
    desk.clock.advance(minutes(20))
    await SlaWorker(desk.runtime).run_once()
    ticket = await desk.ticket_row(ref)
    assert ticket.escalation_level == 0
    assert ticket.sla_state == "active"  # the resolution clock still runs
    assert await notices(desk, ref) == []
    assert await notices(desk, ref, "due in") == []


async def test_warning_goes_to_the_assignee_once(desk: Desk, unique: str) -> None:
    desk.clock.set(utcnow())
    queue, name = f"w-{unique}", f"ana-{unique}"
    ref = await desk.ticket(Severity.critical, queue=queue)
    await desk.agent(name, queues=[queue])
    await set_contact(desk, name, email=f"{name}@desk.test")
    async with client(desk.app, desk.tokens[name]) as http:
        claimed = await http.post(f"/api/v1/queues/{queue}/claim")
        assert claimed.status_code == 200, claimed.text
        assert claimed.json()["ref"] == ref
    worker = SlaWorker(desk.runtime)
    desk.clock.advance(minutes(10))  # 67 %: not yet
    await worker.run_once()
    assert await notices(desk, ref, "due in") == []
    desk.clock.advance(minutes(2))  # 80 % of 15 minutes
    await worker.run_once()
    await worker.run_once()
    assert await notices(desk, ref, "due in") == [("email", f"{name}@desk.test")]
    assert (await desk.ticket_row(ref)).sla_state == "warning"
