"""The CSAT report: count, average and response rate by agent, queue, language, channel."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from fastapi import FastAPI

from gateway.agents.models import Role
from gateway.clock import ManualClock
from gateway.csat import service
from gateway.csat.models import CsatSurvey
from gateway.ports import Channel
from gateway.runtime import Runtime
from gateway.tickets.models import Customer, Ticket
from tests.desk import client, make_agent, new_ticket


async def rate(runtime: Runtime, ticket_id: int, rating: int) -> None:
    async with runtime.sessionmaker.begin() as session:
        survey = (
            await session.execute(sa.select(CsatSurvey).where(CsatSurvey.ticket_id == ticket_id))
        ).scalar_one()
        await service.answer(session, survey, rating, via="test", now=runtime.clock.now())


async def test_the_report_counts_answers_for_the_resolution_they_were_asked_about(
    csat_app: FastAPI, csat_runtime: Runtime, unique: str, clock: ManualClock
) -> None:
    clock.advance(seconds=7200)  # no quiet time left over from other tests' customers
    start = clock.now()
    queue_a, queue_b = f"rep-a-{unique}", f"rep-b-{unique}"
    ana = await make_agent(csat_runtime, [queue_a], name=f"ana-{unique}")
    bo = await make_agent(csat_runtime, [queue_b], name=f"bo-{unique}")
    boss = await make_agent(csat_runtime, [], role=Role.supervisor)
    made = []
    for token, queue, language, channel, rating in [
        (ana, queue_a, "ru", Channel.webchat, 5),
        (ana, queue_a, "ru", Channel.telegram, 3),
        (ana, queue_a, "en", Channel.webchat, None),
        (bo, queue_b, "en", Channel.webchat, 2),
    ]:
        ticket = await new_ticket(csat_runtime, queue, channel=channel)
        async with csat_runtime.sessionmaker.begin() as session:
            t = await session.get_one(Ticket, ticket.ticket_id)
            t.language = language
            (await session.get_one(Customer, t.customer_id)).language = language
        async with client(csat_app, token) as http:
            assert (await http.post(f"/api/v1/queues/{queue}/claim")).status_code == 200
            resolved = await http.post(
                f"/api/v1/tickets/{ticket.ticket_ref}/status", json={"status": "resolved"}
            )
            assert resolved.status_code == 200
            if rating == 3:  # reopened before the customer answered
                reopened = await http.post(
                    f"/api/v1/tickets/{ticket.ticket_ref}/status", json={"status": "open"}
                )
                assert reopened.status_code == 200
        made.append((ticket, rating))
    for ticket, rating in made:
        if rating is not None:
            await rate(csat_runtime, ticket.ticket_id, rating)
    end = clock.now() + timedelta(seconds=1)
    window = {"from": start.isoformat(), "to": end.isoformat()}

    async with client(csat_app, boss) as http:
        by_agent = await http.get("/api/v1/reports/csat", params=window | {"group_by": "agent"})
        by_language = await http.get(
            "/api/v1/reports/csat", params=window | {"group_by": "language"}
        )
        by_channel = await http.get("/api/v1/reports/csat", params=window | {"group_by": "channel"})
        by_queue = await http.get("/api/v1/reports/csat", params=window | {"group_by": "queue"})
        backwards = await http.get(
            "/api/v1/reports/csat", params={"from": end.isoformat(), "to": start.isoformat()}
        )
        bad_group = await http.get("/api/v1/reports/csat", params={"group_by": "mood"})
    async with client(csat_app, ana) as http:
        forbidden = await http.get("/api/v1/reports/csat")

    assert by_agent.status_code == 200, by_agent.text
    rows = {r["key"]: r for r in by_agent.json()["items"]}
    assert rows[f"ana-{unique}"] | {"key": None} == {
        "key": None,
        "surveys": 3,
        "count": 2,
        "average": 4.0,
        "response_rate": 0.6667,
    }
    assert (rows[f"bo-{unique}"]["count"], rows[f"bo-{unique}"]["average"]) == (1, 2.0)
    total = by_agent.json()["total"]
    assert (total["surveys"], total["count"], total["average"]) == (4, 3, 3.33)
    assert set(by_agent.json()) >= {"from", "to", "group_by", "total", "items"}
    languages = {r["key"]: (r["surveys"], r["count"]) for r in by_language.json()["items"]}
    assert languages == {"en": (2, 1), "ru": (2, 2)}
    channels = {r["key"]: r["average"] for r in by_channel.json()["items"]}
    assert channels == {"telegram": 3.0, "webchat": 3.5}
    queues = {r["key"]: r["surveys"] for r in by_queue.json()["items"]}
    assert queues == {queue_a: 3, queue_b: 1}
    assert backwards.status_code == 422
    assert bad_group.status_code == 422
    assert forbidden.status_code == 403
