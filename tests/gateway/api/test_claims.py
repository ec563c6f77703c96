"""Claims under contention, long polls, and leases that run out."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from gateway.audit import AuditEvent
from gateway.queues.sweeper import LeaseSweeper
from gateway.runtime import Runtime
from gateway.tickets.models import Ticket
from tests.desk import client, http_server, make_agent, new_ticket
from tests.processes import REPO_ROOT


async def test_concurrent_agents_claim_every_ticket_exactly_once(
    app: FastAPI, runtime: Runtime, backend: str, unique: str
) -> None:
    agents, tickets = (20, 500) if backend == "postgresql" else (5, 100)
    queue = f"rush-{unique}"
    tokens = [await make_agent(runtime, [queue], capacity=tickets) for _ in range(agents)]
    created = {(await new_ticket(runtime, queue)).ticket_ref for _ in range(tickets)}

    async def agent_loop(base_url: str, token: str) -> list[str]:
        got: list[str] = []
        async with httpx.AsyncClient(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as http:
            while True:
                response = await http.post(f"/api/v1/queues/{queue}/claim")
                if response.status_code == 204:
                    return got
                assert response.status_code == 200, response.text
                got.append(response.json()["ref"])

    async with http_server(app) as base_url:
        claimed = await asyncio.gather(*(agent_loop(base_url, t) for t in tokens))
    flat = [ref for refs in claimed for ref in refs]
    assert len(flat) == len(set(flat)) == tickets
    assert set(flat) == created
    async with runtime.sessionmaker() as session:
        claim_events = await session.execute(
            sa.select(sa.func.count())
            .select_from(AuditEvent)
            .join(Ticket, Ticket.id == AuditEvent.ticket_id)
            .where(
                AuditEvent.action == "ticket.claimed",
                Ticket.queue_id
                == (
                    sa.select(Ticket.queue_id)
                    .where(Ticket.id == int(next(iter(created))[2:]))
                    .scalar_subquery()
                ),
            )
        )
        assert claim_events.scalar_one() == tickets


async def test_long_poll_wakes_when_a_ticket_arrives(
    app: FastAPI, runtime: Runtime, unique: str
) -> None:
    queue = f"wait-{unique}"
    token = await make_agent(runtime, [queue])
    async with client(app, token) as http:
        waiting = asyncio.create_task(http.post(f"/api/v1/queues/{queue}/claim?wait=30"))
        await asyncio.sleep(0.3)
        assert not waiting.done()
        created = await new_ticket(runtime, queue)
        response = await asyncio.wait_for(waiting, 10)
    assert response.status_code == 200 and response.json()["ref"] == created.ticket_ref


async def test_long_poll_times_out_with_204(app: FastAPI, runtime: Runtime, unique: str) -> None:
    queue = f"quiet-{unique}"
    token = await make_agent(runtime, [queue])
    async with client(app, token) as http:
        response = await http.post(f"/api/v1/queues/{queue}/claim?wait=0.5")
    assert response.status_code == 204


INGEST_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys, uuid
    from gateway.notify import Notifier
    from gateway.ports import Channel, InboundMessage
    from gateway.runtime import Runtime
    from gateway.settings import Settings
    from gateway.queues import repository
    from gateway.tickets.intake import ingest
    from gateway.tickets.models import Ticket

    async def main(url, queue):
        settings = Settings.model_validate({"database": {"url": url}})
        runtime = Runtime.from_settings(settings)
        async with runtime.sessionmaker.begin() as session:
            target = await repository.ensure_queue(session, queue)
            result = await ingest(session, InboundMessage(channel=Channel.telegram,
                external_id=uuid.uuid4().hex, sender="other-process", text="released? no!",
                thread_key=uuid.uuid4().hex), limits=settings.ingest, notifier=runtime.notifier)
            ticket = await session.get(Ticket, result.ticket_id)
            ticket.queue_id = target.id
            await runtime.notifier.publish(session, "parley_tickets", str(target.id))
        print(result.ticket_ref)
        await runtime.close()

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


async def test_long_poll_wakes_for_a_ticket_from_another_process(
    app: FastAPI, runtime: Runtime, backend: str, unique: str, tmp_path: Path
) -> None:
    if backend == "sqlite":
        pytest.skip("several gateway processes share PostgreSQL; SQLite is one process")
    queue = f"xproc-{unique}"
    token = await make_agent(runtime, [queue])
    async with client(app, token) as http:
        waiting = asyncio.create_task(http.post(f"/api/v1/queues/{queue}/claim?wait=60"))
        await asyncio.sleep(0.3)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            INGEST_SCRIPT,
            runtime.settings.database.url,
            queue,
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
        )
        stdout, _ = await process.communicate()
        committed_at = time.monotonic()
        response = await asyncio.wait_for(waiting, 30)
        woke_after = time.monotonic() - committed_at
    assert response.status_code == 200
    assert response.json()["ref"] == stdout.decode().strip().splitlines()[-1]
    # Recorded, not asserted against a clock: the wake-up must not be the 5 s re-check.
    print(f"long poll woke {woke_after * 1000:.0f} ms after the other process committed")
    assert woke_after < 4.5


async def test_untouched_claim_returns_to_queue_with_audit(
    app: FastAPI, runtime: Runtime, unique: str
) -> None:
    queue = f"lease-{unique}"
    token = await make_agent(runtime, [queue])
    ref = (await new_ticket(runtime, queue)).ticket_ref
    async with client(app, token) as http:
        assert (await http.post(f"/api/v1/queues/{queue}/claim")).status_code == 200
    async with runtime.sessionmaker.begin() as session:
        ticket = await session.get_one(Ticket, int(ref[2:]))
        ticket.agent_touched_at = ticket.agent_touched_at.replace(year=2000)  # type: ignore[union-attr]
    assert await LeaseSweeper(runtime).sweep() >= 1
    async with client(app, token) as http:
        ticket_json = (await http.get(f"/api/v1/tickets/{ref}")).json()
        assert ticket_json["assignee"] is None
        events = [
            e["action"] for e in (await http.get(f"/api/v1/tickets/{ref}/events")).json()["items"]
        ]
        assert "ticket.claim_expired" in events
        # An agent who answered keeps the ticket however long they take afterwards.
        assert (await http.post(f"/api/v1/queues/{queue}/claim")).status_code == 200
        await http.post(f"/api/v1/tickets/{ref}/replies", json={"text": "checking with the seller"})
    async with runtime.sessionmaker.begin() as session:
        ticket = await session.get_one(Ticket, int(ref[2:]))
        ticket.agent_touched_at = ticket.agent_touched_at.replace(year=2000)  # type: ignore[union-attr]
    await LeaseSweeper(runtime).sweep()
    async with runtime.sessionmaker() as session:
        assert (await session.get_one(Ticket, int(ref[2:]))).assignee_id is not None


@pytest.mark.parametrize(("capacity", "parallel"), [(2, 40), (1, 20)])
async def test_capacity_holds_exactly_under_parallel_claims(
    app: FastAPI, runtime: Runtime, unique: str, capacity: int, parallel: int
) -> None:
    queue = f"cap-{unique}"
    token = await make_agent(runtime, [queue], capacity=capacity)
    ids = [(await new_ticket(runtime, queue)).ticket_id for _ in range(parallel)]

    async with http_server(app) as base_url:
        async with httpx.AsyncClient(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as http:
            responses = await asyncio.gather(*(http.post("/api/v1/claim") for _ in range(parallel)))
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * capacity + [409] * (parallel - capacity)
    async with runtime.sessionmaker() as session:
        held = await session.scalar(
            sa.select(sa.func.count())
            .select_from(Ticket)
            .where(Ticket.id.in_(ids), Ticket.assignee_id.is_not(None))
        )
    assert held == capacity
