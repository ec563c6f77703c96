"""Shifts: off shift means no claims and no notices; going off hands tickets on."""

from __future__ import annotations

import sqlalchemy as sa

from gateway.agents.models import Role
from gateway.audit import AuditEvent
from gateway.db import utcnow
from gateway.outbox.models import Outbox
from gateway.routing import rules as routing_rules
from gateway.sla import shifts
from gateway.sla.worker import SlaWorker
from gateway.tickets.models import Severity
from tests.desk import client
from tests.gateway.sla.conftest import RULES, Desk, minutes


async def put_shift(desk: Desk, token: str, path: str = "/api/v1/me/shift", **body: object):
    async with client(desk.app, token) as http:
        return await http.put(path, json=body)


async def test_off_shift_agent_gets_nothing_from_claim_and_no_notices(
    desk: Desk, unique: str
) -> None:
    desk.clock.set(utcnow())
    queue = f"s-{unique}"
    manager = f"lead-{unique}"
    rules = RULES.replace(
        'line_managers = { desk = "lead" }', f'line_managers = {{ "*" = "{manager}" }}'
    )
    await desk.load(rules)
    try:
        token = await desk.agent(manager, role=Role.agent, queues=[queue])
        async with client(desk.app, token) as http:
            assert (
                await http.put("/api/v1/me/contact", json={"email": "m@desk.test"})
            ).status_code == 200
        off = await put_shift(desk, token, on_shift=False)
        assert off.status_code == 200 and off.json()["on_shift"] is False
        ref = await desk.ticket(Severity.critical, queue=queue)

        async with client(desk.app, token) as http:
            refused = await http.post(f"/api/v1/queues/{queue}/claim")
            assert refused.status_code == 409
            assert "off shift" in refused.json()["detail"]
        desk.clock.advance(minutes(16))
        await SlaWorker(desk.runtime).run_once()
        ticket = await desk.ticket_row(ref)
        assert ticket.escalation_level == 2  # escalated all the same, on record
        async with desk.runtime.sessionmaker() as session:
            queued = (
                await session.execute(
                    sa.select(sa.func.count())
                    .select_from(Outbox)
                    .where(Outbox.ticket_id == ticket.id, Outbox.recipient == "m@desk.test")
                )
            ).scalar_one()
            step = (
                await session.execute(
                    sa.select(AuditEvent.data).where(
                        AuditEvent.ticket_id == ticket.id, AuditEvent.action == "ticket.escalated"
                    )
                )
            ).scalar_one()
        assert queued == 0  # neither the warning nor the escalation reached them
        assert step["notified"] == []

        back = await put_shift(desk, token, on_shift=True)
        assert back.json()["on_shift"] is True
        async with client(desk.app, token) as http:
            assert (await http.post(f"/api/v1/queues/{queue}/claim")).status_code == 200
    finally:
        await desk.load()


async def test_shift_end_returns_untouched_tickets_or_hands_all_to_a_colleague(
    desk: Desk, unique: str
) -> None:
    desk.clock.set(utcnow())
    queue = f"h-{unique}"
    ana = await desk.agent(f"ana-{unique}", queues=[queue])
    bob = await desk.agent(f"bob-{unique}", queues=[queue])
    first = await desk.ticket(Severity.normal, queue=queue)
    second = await desk.ticket(Severity.normal, queue=queue)
    async with client(desk.app, ana) as http:
        for _ in range(2):
            assert (await http.post(f"/api/v1/queues/{queue}/claim")).status_code == 200
        answered = await http.post(f"/api/v1/tickets/{first}/replies", json={"text": "Checking."})
        assert answered.status_code == 201

    off = (await put_shift(desk, ana, on_shift=False)).json()
    assert off["returned"] == [second]  # untouched: back to the queue
    assert (await desk.ticket_row(second)).assignee_id is None
    assert (await desk.ticket_row(first)).assignee_id == await desk.agent_id(f"ana-{unique}")

    assert (await put_shift(desk, ana, on_shift=True)).status_code == 200
    handed = (await put_shift(desk, ana, on_shift=False, hand_to=f"bob-{unique}")).json()
    assert handed["handed_over"] == [first]
    assert (await desk.ticket_row(first)).assignee_id == await desk.agent_id(f"bob-{unique}")

    # Nobody hands work to a colleague who is off shift.
    assert (await put_shift(desk, bob, on_shift=False)).status_code == 200
    assert (await put_shift(desk, ana, on_shift=True)).status_code == 200
    refused = await put_shift(desk, ana, on_shift=False, hand_to=f"bob-{unique}")
    assert refused.status_code == 409


async def test_supervisor_sets_shifts_and_agents_cannot(desk: Desk, unique: str) -> None:
    ana = await desk.agent(f"ana-{unique}")
    boss = await desk.agent(f"boss-{unique}", role=Role.supervisor)
    path = f"/api/v1/agents/ana-{unique}/shift"
    assert (await put_shift(desk, ana, path, on_shift=False)).status_code == 403
    done = await put_shift(desk, boss, path, on_shift=False)
    assert done.status_code == 200 and done.json()["set_by"] == "supervisor"
    assert (
        await put_shift(desk, boss, "/api/v1/agents/nobody-x/shift", on_shift=False)
    ).status_code == 404


async def test_weekly_rota_moves_agents_on_and_off_at_its_boundaries(
    desk: Desk, unique: str
) -> None:
    name = f"rota-{unique}"
    await desk.agent(name)
    rules = RULES + f'\n[[rota]]\nagent = "{name}"\ntimezone = "UTC"\nhours = "08:00-16:00"\n'
    config = routing_rules.parse_toml(rules).sla
    day = utcnow().replace(hour=12, minute=0, second=0, microsecond=0)
    agent_id = await desk.agent_id(name)
    async with desk.runtime.sessionmaker.begin() as session:
        await shifts.apply_rota(session, config, day)
        assert await shifts.is_on_shift(session, agent_id)
    async with desk.runtime.sessionmaker.begin() as session:
        changes = await shifts.apply_rota(session, config, day.replace(hour=17))
        assert [c.on_shift for c in changes] == [False]
        assert not await shifts.is_on_shift(session, agent_id)
    # A supervisor's change between boundaries holds until the next boundary.
    async with desk.runtime.sessionmaker.begin() as session:
        agent = (await shifts.repo.agents_named(session, [name]))[0]
        await shifts.set_shift(session, agent, True, day.replace(hour=18), by="supervisor")
        await shifts.apply_rota(session, config, day.replace(hour=19))
        assert await shifts.is_on_shift(session, agent_id)
