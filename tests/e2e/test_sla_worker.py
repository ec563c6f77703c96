"""The SLA worker as a real process: killed with SIGKILL in the middle of a run, then
started again, it escalates every breached ticket exactly once, with one notice each."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from gateway.agents.models import Agent, Role
from gateway.audit import AuditEvent
from gateway.outbox.models import Outbox
from gateway.routing import rules as routing_rules
from gateway.routing.service import load_rules
from gateway.runtime import Runtime
from gateway.sla import service as sla
from gateway.sla.models import AgentShift, SlaEvent
from gateway.tickets.models import Message, Severity, Ticket
from tests.conftest import make_settings
from tests.desk import make_agent, new_ticket
from tests.processes import gateway_env, gateway_process

TICKETS = 60
RULES = """
[[queues]]
name = "general"

[[queues]]
name = "desk"

[[sla.policy]]
name = "critical"
severity = ["critical"]
first_response = "1s"

[escalation]
line_managers = { desk = "lead" }
"""


def escalations_logged(workdir: Path) -> int:
    return sum(
        log.read_text(errors="replace").count("sla.escalated")
        for log in workdir.glob("gateway-worker-*.log")
    )


async def counts(runtime: Runtime) -> tuple[int, int, int]:
    """(escalation events, escalation audit events, notices to the line manager)."""
    async with runtime.sessionmaker() as session:
        events = await session.scalar(
            sa.select(sa.func.count()).select_from(SlaEvent).where(SlaEvent.kind == "escalated")
        )
        audits = await session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "ticket.escalated")
        )
        # Escalation notices only: a ticket caught before its due time also warns.
        notices = await session.scalar(
            sa.select(sa.func.count())
            .select_from(Outbox)
            .join(Message, Message.id == Outbox.message_id)
            .where(Outbox.recipient == "lead@desk.test", Message.text.contains("escalated to"))
        )
    return int(events or 0), int(audits or 0), int(notices or 0)


async def test_sla_worker_killed_mid_run_acts_once_after_restart(
    fresh_database_url: str, tmp_path: Path
) -> None:
    runtime = Runtime.from_settings(make_settings(fresh_database_url, tmp_path))
    try:
        async with runtime.sessionmaker.begin() as session:
            await load_rules(session, routing_rules.parse_toml(RULES))
        await make_agent(runtime, ["desk"], role=Role.supervisor, name="lead")
        async with runtime.sessionmaker.begin() as session:
            lead = (
                await session.execute(sa.select(Agent).where(Agent.name == "lead"))
            ).scalar_one()
            session.add(AgentShift(agent_id=lead.id, email="lead@desk.test"))  # type: ignore[arg-type]
        for _ in range(TICKETS):
            result = await new_ticket(runtime, "desk")
            async with runtime.sessionmaker.begin() as session:
                ticket = await session.get_one(Ticket, result.ticket_id)
                await sla.change_severity(session, ticket, Severity.critical, runtime.clock.now())
        await asyncio.sleep(1.5)  # every first response is now overdue

        env = gateway_env(fresh_database_url, tmp_path, GATEWAY_SLA_POLL_SECONDS="0.1")
        with gateway_process(env, tmp_path, command="worker") as worker:
            # Watch the worker's log, not the database: on SQLite every transaction of
            # ours would queue behind the worker's writes and see it only when done.
            deadline = time.monotonic() + 60
            while escalations_logged(tmp_path) < 10:
                assert time.monotonic() < deadline, "the worker never escalated"
                await asyncio.sleep(0.01)
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait()
        at_kill = await counts(runtime)
        assert at_kill[0] < TICKETS, "the worker finished before the kill; add tickets"

        with gateway_process(env, tmp_path, command="worker"):
            deadline = time.monotonic() + 90
            while (await counts(runtime))[0] < TICKETS:
                assert time.monotonic() < deadline, f"stuck at {await counts(runtime)}"
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)  # a second pass would act again now, if it could
        assert await counts(runtime) == (TICKETS, TICKETS, TICKETS)
        async with runtime.sessionmaker() as session:
            levels = set(
                (
                    await session.execute(
                        sa.select(Ticket.escalation_level).where(Ticket.severity == "critical")
                    )
                ).scalars()
            )
        assert levels == {2}
        print(f"killed after {at_kill[0]} of {TICKETS} escalations")
    finally:
        await runtime.close()


pytestmark = pytest.mark.slow
