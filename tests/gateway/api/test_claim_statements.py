"""A claim's statements run straight on asyncpg on PostgreSQL and as SQLAlchemy Core
elsewhere (gateway/statements.py): both paths return the same rows, with the
same types, from the same database."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from gateway import audit_chain
from gateway.agents.context import load_context
from gateway.db import utcnow
from gateway.queues import repository as repo
from gateway.runtime import Runtime
from gateway.tickets import views
from gateway.tickets.models import ActorType
from tests.desk import make_agent, new_ticket


async def test_each_claim_statement_returns_the_same_rows_both_ways(
    runtime: Runtime, backend: str, unique: str
) -> None:
    queue = f"both-ways-{unique}"
    token = await make_agent(runtime, [queue], capacity=5)
    first = await new_ticket(runtime, queue)
    await new_ticket(runtime, queue)
    async with runtime.sessionmaker.begin() as session:
        ctx = await load_context(session, token)
        queue_id = await repo.queue_id_by_name(session, queue)
    postgres = backend == "postgresql"
    now = utcnow()
    carried: audit_chain.Carried | None = None
    results: list[tuple[Any, ...]] = []
    # Each way in a transaction rolled back after: both see the same database.
    for raw in (True, False) if postgres else (False,):
        async with runtime.sessionmaker() as session:
            await session.begin()
            lock = await repo._LOCK_AGENT.rows(session, {"agent_id": ctx.id}, raw=raw)
            held = await repo._HELD_COUNT.rows(session, {"agent_id": ctx.id}, raw=raw)
            claim = repo._claim_statement(False, True, postgres)
            params = {
                "agent_id": ctx.id,
                "queue_ids": [queue_id],
                "queue_id_0": queue_id,
                "languages": [],
                "now": now,
                "capacity": 5,
            }
            [row] = await claim.rows(session, params, raw=raw)
            read: list[Any] = []
            if postgres:
                # One event for both ways: its time is part of its hash.
                carried = carried or await audit_chain.carried(
                    session,
                    "ticket.claimed",
                    ticket_id=first.ticket_id,
                    actor_type=ActorType.agent,
                    actor_agent_id=ctx.id,
                )
                assert carried is not None
                statement = views._whole_ticket_carrying(carried.cte)
                customer_id = row[repo._TICKET_KEYS.index("customer_id")]
                read = list(
                    await statement.rows(
                        session,
                        carried.params | {"ticket_id": first.ticket_id, "customer_id": customer_id},
                        raw=raw,
                    )
                )
            await session.rollback()
        results.append((lock, held, row, read))
    for a, b in zip(results[0], results[-1], strict=True):
        assert a == b
    lock, held, row, read = results[0]
    assert lock == [(5, None)] and held == [(0,)]
    ticket = dict(zip(repo._TICKET_KEYS, row, strict=False))
    assert ticket["id"] == first.ticket_id and ticket["assignee_id"] == ctx.id
    assert ticket["status"] == "open" and ticket["assigned_at"] == now
    assert ticket["assigned_at"].utcoffset() is not None
    assert isinstance(ticket["routing_reasons"], list)
    assert ticket["amount"] is None or isinstance(ticket["amount"], Decimal)
    if postgres:
        customer, message, attachment, author = views._entities(read[0])
        assert customer.id == ticket["customer_id"]
        assert message is not None and message.ticket_id == first.ticket_id
        assert attachment is None and author is None
