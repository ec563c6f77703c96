"""Agents' languages: a claim over several queues prefers tickets the agent reads, and a
queue can require them (SQLite and PostgreSQL, over HTTP)."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import FastAPI

from gateway.agents.service import create_agent
from gateway.queues.models import Queue
from gateway.routing.rules import parse_toml, to_toml
from gateway.runtime import Runtime
from gateway.tickets.models import Ticket
from tests.desk import client, new_ticket


async def agent(runtime: Runtime, name: str, queues: list[str], languages: list[str]) -> str:
    async with runtime.sessionmaker.begin() as session:
        _agent, token = await create_agent(session, name=name, queues=queues, languages=languages)
    return token


async def set_language(runtime: Runtime, ticket_id: int, language: str) -> None:
    async with runtime.sessionmaker.begin() as session:
        await session.execute(
            sa.update(Ticket).where(Ticket.id == ticket_id).values(language=language)
        )


async def test_a_claim_over_several_queues_prefers_the_agents_languages(
    app: FastAPI, runtime: Runtime, unique: str
) -> None:
    first = await new_ticket(runtime, f"en-{unique}")
    second = await new_ticket(runtime, f"ru-{unique}")
    await set_language(runtime, first.ticket_id, "en")
    await set_language(runtime, second.ticket_id, "ru")
    token = await agent(runtime, f"olga-{unique}", [f"en-{unique}", f"ru-{unique}"], ["ru"])
    async with client(app, token) as http:
        claimed = await http.post("/api/v1/claim")
        assert claimed.status_code == 200, claimed.text
        assert claimed.json()["ref"] == second.ticket_ref
        # The older English ticket is still next: preference, not exclusion.
        assert (await http.post("/api/v1/claim")).json()["ref"] == first.ticket_ref


async def test_a_queue_can_require_the_agents_language(
    app: FastAPI, runtime: Runtime, unique: str
) -> None:
    queue = f"zh-{unique}"
    created = await new_ticket(runtime, queue)
    await set_language(runtime, created.ticket_id, "zh")
    async with runtime.sessionmaker.begin() as session:
        await session.execute(
            sa.update(Queue).where(Queue.name == queue).values(requires_agent_language=True)
        )
    english = await agent(runtime, f"en-{unique}", [queue], ["en"])
    chinese = await agent(runtime, f"mei-{unique}", [queue], ["zh", "en"])
    async with client(app, english) as http:
        assert (await http.post(f"/api/v1/queues/{queue}/claim")).status_code == 204
    async with client(app, chinese) as http:
        claimed = await http.post(f"/api/v1/queues/{queue}/claim")
        assert claimed.status_code == 200 and claimed.json()["ref"] == created.ticket_ref


def test_rules_files_carry_the_queue_requirement() -> None:
    source = '[[queues]]\nname = "zh"\nrequires_agent_language = true\n'
    rule_set = parse_toml(source)
    assert rule_set.queues[0].requires_agent_language is True
    assert parse_toml(to_toml(rule_set)) == rule_set
