"""The audit chain written in one statement by a hot path (`audit_chain.append`) is the
chain `audit.record` writes: same hashes, still ordered under concurrent writers."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from gateway import audit, audit_chain
from gateway.agents.models import Agent
from gateway.audit import AuditEvent
from gateway.queues import repository as queues_repo
from gateway.queues.models import Queue, QueueMembership
from gateway.runtime import Runtime
from gateway.tickets.models import ActorType
from tests.desk import http_server, make_agent, new_ticket, someone_waits_for_a_lock


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"chosen": True},
        {"prev": "0" * 64, "ticket": 7, "text": 'say "prev":"x" \u00e9\u4e2d'},
        {"nested": {"prev": {"ticket": None}}, "n": 1.5},
    ],
)
@pytest.mark.parametrize("ticket_id", [1, 123456789])
def test_an_event_hash_is_sha256_of_its_canonical_json(
    data: dict[str, object], ticket_id: int
) -> None:
    """The documented format (`gateway audit verify` and outside verifiers rely on it),
    built here independently: `event_hash` is `hash_parts` around the previous hash, so
    this pins the split the database hashes with too."""
    created_at = datetime(2026, 12, 1, 15, 4, 5, 123456, tzinfo=UTC)
    fields: dict[str, object] = {
        "ticket_id": ticket_id,
        "case_id": None,
        "actor_type": "agent",
        "actor_agent_id": 3,
        "action": "ticket.claimed",
        "data": data,
        "created_at": created_at,
    }
    prev = "ab" * 32
    canonical = json.dumps(
        {
            "prev": prev,
            "ticket": ticket_id,
            "case": None,
            "actor_type": "agent",
            "actor_agent": 3,
            "action": "ticket.claimed",
            "data": data,
            "at": "2026-12-01T15:04:05.123456+00:00",
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    expected = hashlib.sha256(canonical.encode()).hexdigest()
    assert audit_chain.event_hash(prev, **fields) == expected  # type: ignore[arg-type]
    prefix, suffix = audit_chain.hash_parts(**fields)  # type: ignore[arg-type]
    assert hashlib.sha256((prefix + prev + suffix).encode()).hexdigest() == expected


async def test_appended_events_chain_with_recorded_ones(runtime: Runtime, unique: str) -> None:
    ticket = await new_ticket(runtime, f"chain-{unique}")
    async with runtime.sessionmaker.begin() as session:
        # Recorded (at flush) before, appended now, recorded after: one chain, in order.
        audit.record(session, "test.before", ticket_id=ticket.ticket_id, n=1)
        first = await audit_chain.append(
            session, "test.appended", ticket_id=ticket.ticket_id, actor_type=ActorType.system
        )
        second = await audit_chain.append(
            session, "test.appended", ticket_id=ticket.ticket_id, actor_type=ActorType.system
        )
        audit.record(session, "test.after", ticket_id=ticket.ticket_id)
    async with runtime.sessionmaker.begin() as session:
        # A fresh transaction: the head comes from the database.
        third = await audit_chain.append(
            session, "test.appended", ticket_id=ticket.ticket_id, actor_type=ActorType.system
        )
    async with runtime.sessionmaker() as session:
        events = list(
            (
                await session.execute(
                    sa.select(AuditEvent)
                    .where(AuditEvent.ticket_id == ticket.ticket_id)
                    .order_by(AuditEvent.id)
                )
            ).scalars()
        )
        report = await audit_chain.verify(session)
    actions = [e.action for e in events]
    assert actions[-5:] == [
        "test.before",
        "test.appended",
        "test.appended",
        "test.after",
        "test.appended",
    ]
    assert [e.id for e in events[-4:-2]] == [first.id, second.id]
    assert events[-1].id == third.id and events[-1].hash == third.hash
    for earlier, later in itertools.pairwise(events):
        assert later.prev_hash == earlier.hash
    assert report.ok, report.problems


async def test_concurrent_claims_and_notes_keep_every_chain_intact(
    app: FastAPI, runtime: Runtime, backend: str, unique: str
) -> None:
    agents, tickets = (10, 60) if backend == "postgresql" else (3, 15)
    queue = f"chain-{unique}"
    # Room for one more than every ticket: an agent who won them all is told "no ticket"
    # (204) by its next claim, not "at capacity" (409).
    tokens = [await make_agent(runtime, [queue], capacity=tickets + 1) for _ in range(agents)]
    refs = [(await new_ticket(runtime, queue)).ticket_ref for _ in range(tickets)]
    claiming = True

    async def agent_loop(base_url: str, token: str) -> None:
        async with httpx.AsyncClient(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as http:
            while True:
                claimed = await http.post(f"/api/v1/queues/{queue}/claim")
                if claimed.status_code == 204:
                    return
                assert claimed.status_code == 200, claimed.text

    async def noter(base_url: str, token: str, start: int) -> int:
        # Other writers of the same chains while they are being claimed.
        written = 0
        async with httpx.AsyncClient(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as http:
            k = start
            while claiming:
                ref = refs[k % len(refs)]
                k += 1
                note = await http.post(f"/api/v1/tickets/{ref}/notes", json={"text": "seen"})
                assert note.status_code == 201, note.text
                written += 1
        return written

    async with http_server(app) as base_url:
        notes = [asyncio.create_task(noter(base_url, tokens[k], k * 7)) for k in range(len(tokens))]
        await asyncio.gather(*(agent_loop(base_url, t) for t in tokens))
        claiming = False
        assert sum(await asyncio.gather(*notes)) > 0
    async with runtime.sessionmaker() as session:
        report = await audit_chain.verify(session)
    assert report.ok, report.problems


async def test_a_claims_chain_lock_holds_back_other_writers_until_commit(
    runtime: Runtime, backend: str, unique: str
) -> None:
    """The claim statement takes the ticket chain's lock, so the claim's one-statement
    event and another transaction's event of the same ticket never fork the chain: the
    other writer waits until the claim commits, then chains after it."""
    if backend != "postgresql":
        pytest.skip("SQLite has one writer: nothing to interleave")
    queue = f"fork-{unique}"
    await make_agent(runtime, [queue], capacity=5)
    ticket = await new_ticket(runtime, queue)
    async with runtime.sessionmaker() as session:
        agent_id = await session.scalar(
            sa.select(Agent.id).join(QueueMembership).join(Queue).where(Queue.name == queue)
        )
        queue_id = await session.scalar(sa.select(Queue.id).where(Queue.name == queue))
    assert agent_id is not None and queue_id is not None

    async def other_writer() -> None:
        async with runtime.sessionmaker.begin() as session:
            audit.record(session, "test.other", ticket_id=ticket.ticket_id)

    async with runtime.sessionmaker.begin() as session:
        claimed = await queues_repo.claim_next(session, agent_id, [queue_id], datetime.now(UTC))
        assert claimed is not None and claimed.id == ticket.ticket_id
        await audit_chain.append(
            session,
            "ticket.claimed",
            ticket_id=ticket.ticket_id,
            actor_type=ActorType.agent,
            actor_agent_id=agent_id,
            chain_locked=True,
        )
        other = asyncio.create_task(other_writer())
        while not other.done() and not await someone_waits_for_a_lock(runtime):  # noqa: ASYNC110
            await asyncio.sleep(0.01)  # a state of another server process: polled
        assert not other.done()
    await other
    async with runtime.sessionmaker() as session:
        actions = list(
            (
                await session.execute(
                    sa.select(AuditEvent.action)
                    .where(AuditEvent.ticket_id == ticket.ticket_id)
                    .order_by(AuditEvent.id)
                )
            ).scalars()
        )
        report = await audit_chain.verify(session)
    assert actions[-2:] == ["ticket.claimed", "test.other"]
    assert report.ok, report.problems
