"""The supervisor's side: de-escalation, the overview, rules that escalate on their own,
severity changes, and a notice really leaving through the delivery worker."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from gateway.agents.models import Role
from gateway.audit import AuditEvent
from gateway.db import utcnow
from gateway.outbox.worker import DeliveryWorker
from gateway.ports import Channel, DeliveryReceipt, OutboundMessage
from gateway.sla import service as sla
from gateway.sla.worker import SlaWorker
from gateway.tickets.models import Severity, Ticket
from tests.desk import client
from tests.gateway.sla.conftest import RULES, Desk, minutes


class RecordingEmail:
    """Our own port (ChannelAdapter) recording what the worker hands it."""

    channel = Channel.email

    def __init__(self) -> None:
        self.sent: list[OutboundMessage] = []

    async def deliver(self, message: OutboundMessage) -> DeliveryReceipt:
        await asyncio.sleep(0)
        self.sent.append(message)
        return DeliveryReceipt(provider_id=f"p-{message.outbox_id}")


async def test_deescalation_is_for_supervisors(desk: Desk, unique: str) -> None:
    desk.clock.set(utcnow())
    queue = f"d-{unique}"
    agent = await desk.agent(f"a-{unique}", queues=[queue])
    boss = await desk.agent(f"b-{unique}", role=Role.supervisor)
    ref = await desk.ticket(Severity.critical, queue=queue)
    async with client(desk.app, agent) as http:
        up = await http.post(f"/api/v1/tickets/{ref}/escalate", json={"reason": "needs a refund"})
        assert up.status_code == 200, up.text
        assert up.json()["escalation_level"] == 2  # level 1 is the queue it was in
        down = await http.post(f"/api/v1/tickets/{ref}/de-escalate", json={"reason": "x"})
        assert down.status_code == 403
    async with client(desk.app, boss) as http:
        down = await http.post(f"/api/v1/tickets/{ref}/de-escalate", json={"reason": "handled"})
        assert down.status_code == 200, down.text
        assert down.json()["escalation_level"] == 0
        assert down.json()["status"] == "open"
        again = await http.post(f"/api/v1/tickets/{ref}/de-escalate", json={"reason": "x"})
        assert again.status_code == 409
        events = (await http.get(f"/api/v1/tickets/{ref}/events")).json()["items"]
    actions = [e["action"] for e in events]
    assert "ticket.escalated" in actions and "ticket.deescalated" in actions


async def test_overview_counts_states_next_breaches_and_last_24h(desk: Desk, unique: str) -> None:
    desk.clock.set(utcnow())
    queue = f"o-{unique}"
    boss = await desk.agent(f"boss-{unique}", role=Role.supervisor)
    agent = await desk.agent(f"ag-{unique}", queues=[queue])
    late = await desk.ticket(Severity.critical, queue=queue)
    soon = await desk.ticket(Severity.normal, queue=queue)
    desk.clock.advance(minutes(16))
    await SlaWorker(desk.runtime).run_once()
    async with client(desk.app, agent) as http:
        assert (await http.get("/api/v1/sla/overview")).status_code == 403
    async with client(desk.app, boss) as http:
        body = (await http.get("/api/v1/sla/overview")).json()
    mine = next(q for q in body["queues"] if q["queue"] == queue)
    assert mine["open"]["breached"] == 1
    assert mine["open"]["active"] + mine["open"]["warning"] == 1
    assert mine["breached_24h"] == 1
    assert [b["ref"] for b in mine["next_breaches"]] == [soon]
    assert late != soon
    await SlaWorker(desk.runtime).report()
    async with client(desk.app) as http:
        text = (await http.get("/metrics")).text
    assert f'parley_sla_breaches_last_24h{{queue="{queue}"}} 1.0' in text
    assert f'parley_sla_open_tickets{{queue="{queue}",state="breached"}} 1.0' in text


async def test_critical_unclaimed_goes_straight_to_level_2(desk: Desk, unique: str) -> None:
    desk.clock.set(utcnow())
    rules = RULES + (
        '\n[[escalation.rule]]\nname = "critical-unclaimed"\nseverity = ["critical"]\n'
        'unclaimed_for = "10m"\nlevel = 2\n'
    )
    await desk.load(rules)
    try:
        ref = await desk.ticket(Severity.critical, queue=f"u-{unique}")
        desk.clock.advance(minutes(9))
        await SlaWorker(desk.runtime).run_once()
        assert (await desk.ticket_row(ref)).escalation_level == 0
        desk.clock.advance(minutes(2))  # 11 minutes, nobody claimed it, not yet breached
        await SlaWorker(desk.runtime).run_once()
        ticket = await desk.ticket_row(ref)
        assert ticket.escalation_level == 2
        async with desk.runtime.sessionmaker() as session:
            step = (
                await session.execute(
                    sa.select(AuditEvent.data).where(
                        AuditEvent.ticket_id == ticket.id, AuditEvent.action == "ticket.escalated"
                    )
                )
            ).scalar_one()
        assert step["cause"] == "rule:critical-unclaimed"
    finally:
        await desk.load()


async def test_severity_change_recomputes_due_times_with_an_audit_event(
    desk: Desk, unique: str
) -> None:
    desk.clock.set(utcnow())
    ref = await desk.ticket(Severity.normal, queue=f"v-{unique}")
    before = await desk.ticket_row(ref)
    assert before.sla_policy == "normal"
    async with desk.runtime.sessionmaker.begin() as session:
        ticket = await session.get_one(Ticket, before.id)
        await sla.change_severity(session, ticket, Severity.critical, desk.clock.now())
    after = await desk.ticket_row(ref)
    assert after.first_response_due is not None and before.first_response_due is not None
    assert after.first_response_due - before.first_response_due == minutes(15) - minutes(240)
    assert after.sla_policy == "critical"
    async with desk.runtime.sessionmaker() as session:
        actions = list(
            (
                await session.execute(
                    sa.select(AuditEvent.action).where(AuditEvent.ticket_id == before.id)
                )
            ).scalars()
        )
    assert "ticket.severity_changed" in actions and "sla.recomputed" in actions


async def test_a_notice_leaves_through_the_delivery_worker_to_its_recipient(
    desk: Desk, unique: str
) -> None:
    desk.clock.set(utcnow())
    queue = f"n-{unique}"
    name = f"n-{unique}"
    token = await desk.agent(name, queues=[queue])
    async with client(desk.app, token) as http:
        assert (
            await http.put("/api/v1/me/contact", json={"email": "n@desk.test"})
        ).status_code == 200
    ref = await desk.ticket(Severity.critical, queue=queue)
    desk.clock.advance(minutes(12))
    await SlaWorker(desk.runtime).run_once()
    email = RecordingEmail()
    desk.runtime.adapters[Channel.email] = email
    try:
        worker = DeliveryWorker(desk.runtime)
        for _ in range(20):
            await worker.run_once()
            if any(m.ticket_ref == ref for m in email.sent):
                break
    finally:
        del desk.runtime.adapters[Channel.email]
    [notice] = [m for m in email.sent if m.ticket_ref == ref]
    assert notice.recipient == "n@desk.test"
    assert notice.thread_ids == ()  # not in the customer's thread
    assert "due in" in notice.text


async def test_patching_severity_recomputes_the_sla_from_the_start(desk: Desk, unique: str) -> None:
    desk.clock.set(utcnow())
    queue = f"p-{unique}"
    token = await desk.agent(f"p-{unique}", queues=[queue])
    ref = await desk.ticket(Severity.normal, queue=queue)
    before = await desk.ticket_row(ref)
    async with client(desk.app, token) as http:
        patched = await http.patch(f"/api/v1/tickets/{ref}", json={"severity": "critical"})
        assert patched.status_code == 200, patched.text
        body = patched.json()
    assert body["severity"] == "critical"
    after = await desk.ticket_row(ref)
    assert after.first_response_due == before.created_at + minutes(15)
    async with desk.runtime.sessionmaker() as session:
        recomputed = list(
            (
                await session.execute(
                    sa.select(AuditEvent.data).where(
                        AuditEvent.ticket_id == before.id, AuditEvent.action == "sla.recomputed"
                    )
                )
            ).scalars()
        )
    assert [(d["old_policy"], d["new_policy"]) for d in recomputed] == [("normal", "critical")]
