"""An SLA desk of its own: a fresh database per backend, a hand-moved clock, and a rules
file with a matrix, so the worker's actions never touch other tests' tickets."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from gateway.agents.models import Agent, Role
from gateway.app import create_app
from gateway.clock import ManualClock
from gateway.routing import rules as routing_rules
from gateway.routing.service import load_rules
from gateway.runtime import Runtime
from gateway.sla import service as sla
from gateway.tickets.models import Severity, Ticket
from tests.conftest import BACKENDS, drop_pg_database, make_database, make_settings
from tests.desk import make_agent, new_ticket

RULES = """
default_queue = "general"

[[queues]]
name = "general"

[[queues]]
name = "desk"

[[queues]]
name = "top"

[sla]
warn_at = 0.75

[[sla.policy]]
name = "critical"
severity = ["critical"]
first_response = "15m"
next_response = "15m"
resolution = "4h"

[[sla.policy]]
name = "normal"
severity = ["normal", "high", "low"]
first_response = "4h"
resolution = "72h"

[escalation]
line_managers = { desk = "lead" }
on_breach = { first_response = 2, next_response = 2, resolution = 3 }

[[escalation.level]]
level = 2
after = "30m"

[[escalation.level]]
level = 3
agents = ["head"]
queue = "top"
telegram_chat = "-100777"
"""


class Desk:
    """The SLA desk of one backend: runtime on a ManualClock, app, and named agents."""

    def __init__(self, runtime: Runtime, clock: ManualClock, app: FastAPI) -> None:
        self.runtime, self.clock, self.app = runtime, clock, app
        self.tokens: dict[str, str] = {}

    async def agent(
        self, name: str, *, role: Role = Role.agent, queues: list[str] | None = None
    ) -> str:
        token = await make_agent(self.runtime, queues or ["desk"], role=role, name=name)
        self.tokens[name] = token
        return token

    async def ticket(self, severity: Severity = Severity.critical, queue: str = "desk") -> str:
        """A new ticket in `queue` raised to `severity` the way an agent would (recomputing
        its SLA), at the clock's now."""
        result = await new_ticket(self.runtime, queue)
        async with self.runtime.sessionmaker.begin() as session:
            ticket = await session.get_one(Ticket, result.ticket_id)
            await sla.change_severity(session, ticket, severity, self.clock.now())
            await sla.refresh(session, ticket, self.clock.now())
        return result.ticket_ref

    async def load(self, text: str = RULES) -> None:
        async with self.runtime.sessionmaker.begin() as session:
            await load_rules(session, routing_rules.parse_toml(text))

    async def ticket_row(self, ref: str) -> Ticket:
        async with self.runtime.sessionmaker() as session:
            return await session.get_one(Ticket, int(ref.split("-")[1]))

    async def agent_id(self, name: str) -> int:
        async with self.runtime.sessionmaker() as session:
            return int(
                (await session.execute(sa.select(Agent.id).where(Agent.name == name))).scalar_one()
            )


@pytest.fixture(scope="module", params=BACKENDS)
async def desk(request: pytest.FixtureRequest, tmp_root: Path) -> AsyncIterator[Desk]:
    url = await make_database(request.param, tmp_root)
    settings = make_settings(
        url, tmp_root / uuid.uuid4().hex[:6], database={"url": url, "pool_size": 4}
    )
    clock = ManualClock()
    runtime = Runtime.from_settings(settings)
    runtime.clock = clock
    desk = Desk(runtime, clock, create_app(settings, runtime, plugins=[]))
    await desk.load()
    try:
        yield desk
    finally:
        await runtime.close()
        if request.param == "postgresql":
            await drop_pg_database(url)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)
