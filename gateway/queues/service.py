"""Claiming work: the most urgent ticket to the caller, waiting for one if asked."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection

import structlog

from gateway import metrics, notify
from gateway.agents.dependencies import AgentContext
from gateway.db import utcnow
from gateway.errors import AtCapacity
from gateway.queues import repository as repo
from gateway.runtime import Runtime
from gateway.tickets import repository as tickets_repo
from gateway.tickets.models import ActorType, Ticket

log = structlog.get_logger()

# A long poll re-checks this often even without a signal, so a lost NOTIFY (a dropped
# listener connection) costs at most this much latency.
RECHECK_SECONDS = 5.0


async def claim(
    runtime: Runtime, ctx: AgentContext, queue_ids: Collection[int], wait: float
) -> Ticket | None:
    """Assign the most urgent claimable ticket of `queue_ids` to the agent; wait up to
    `wait` seconds for one to arrive. Raises AtCapacity when the agent holds enough."""
    started = time.monotonic()
    deadline = started + wait
    try:
        if wait <= 0:
            return await _try_claim(runtime, ctx, queue_ids)
        wanted = {str(q) for q in queue_ids}
        # Subscribe before the first attempt: a ticket committed in between still wakes us.
        async with runtime.notifier.subscribe(notify.TICKETS) as signals:
            while True:
                ticket = await _try_claim(runtime, ctx, queue_ids)
                remaining = deadline - time.monotonic()
                if ticket is not None or remaining <= 0:
                    return ticket
                await _wait_for_signal(signals, wanted, min(remaining, RECHECK_SECONDS))
    finally:
        metrics.claim_wait_seconds.observe(time.monotonic() - started)


async def _wait_for_signal(signals: asyncio.Queue[str], wanted: set[str], seconds: float) -> None:
    try:
        async with asyncio.timeout(seconds):
            while True:
                payload = await signals.get()
                if payload == "" or payload in wanted:  # "" = look again, signals may be lost
                    return
    except TimeoutError:
        return


async def _try_claim(
    runtime: Runtime, ctx: AgentContext, queue_ids: Collection[int]
) -> Ticket | None:
    if not queue_ids:
        return None
    async with runtime.sessionmaker.begin() as session:
        agent = await repo.lock_agent(session, ctx.id)
        if await repo.held_count(session, ctx.id) >= agent.capacity:
            raise AtCapacity(
                f"you hold {agent.capacity} tickets, your capacity; resolve or release one first"
            )
        ticket_id = await repo.claim_next(session, ctx.id, queue_ids, utcnow())
        if ticket_id is None:
            return None
        ticket = await tickets_repo.get_ticket(session, ticket_id)
        assert ticket is not None
        tickets_repo.audit(
            session,
            "ticket.claimed",
            ticket_id=ticket_id,
            actor_type=ActorType.agent,
            actor_agent_id=ctx.id,
        )
    metrics.claims.labels(str(ticket.queue_id)).inc()
    log.info("queue.claimed", ticket=ticket.ref, agent=ctx.agent.name)
    return ticket
