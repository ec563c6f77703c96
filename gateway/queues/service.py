"""Claiming work: the most urgent ticket to the caller, waiting for one if asked."""

from __future__ import annotations

import time
from collections.abc import Collection
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from gateway import audit, audit_chain, metrics, notify
from gateway.agents.context import AgentContext
from gateway.db import utcnow
from gateway.errors import AtCapacity, Conflict, Forbidden
from gateway.queues import repository as repo
from gateway.runtime import Runtime
from gateway.sla import shifts
from gateway.tickets import views as tickets_views
from gateway.tickets.models import ActorType, Ticket
from gateway.tickets.schemas import TicketPublic
from gateway.webhooks import events as webhook_events

log = structlog.get_logger()

# A long poll re-checks this often even without a signal, so a lost NOTIFY (a dropped
# listener connection) costs at most this much latency.
RECHECK_SECONDS = 5.0


async def claim(
    runtime: Runtime, ctx: AgentContext, queue_ids: Collection[int], wait: float
) -> TicketPublic | None:
    """Assign the most urgent claimable ticket of `queue_ids` to the agent, waiting up to
    `wait` seconds for one to arrive; the ticket as the agent sees it, or None. Each
    attempt is its own transaction. Raises AtCapacity when the agent holds enough."""
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
                await notify.wait_for(signals, wanted, min(remaining, RECHECK_SECONDS))
    finally:
        metrics.claim_wait_seconds.observe(time.monotonic() - started)


async def claim_now(
    session: AsyncSession, ctx: AgentContext, queue_ids: Collection[int]
) -> TicketPublic | None:
    """One claim attempt in the caller's transaction (no waiting); the ticket as the agent
    sees it, or None. Flushes; the caller commits. Raises AtCapacity."""
    if not queue_ids:
        return None
    # Two statements where there were four: the agent row locked with its capacity and
    # shift, then the claim with the capacity count inside it (see repo.claim_next).
    capacity, on_shift = await repo.lock_agent(session, ctx.id) or (0, True)
    if not on_shift:
        raise shifts.OffShift("you are off shift; go on shift (PUT /api/v1/me/shift) to claim")
    ticket = await repo.claim_next(
        session, ctx.id, queue_ids, utcnow(), ctx.agent.languages, capacity=capacity
    )
    if ticket is None:
        if await repo.held_count(session, ctx.id) >= capacity:
            raise AtCapacity(
                f"you hold {capacity} tickets, your capacity; resolve or release one first"
            )
        return None
    # A claim only ever takes an unassigned ticket.
    before = webhook_events.snapshot(ticket) | {"assignee_id": None}
    await webhook_events.emit_ticket_updated(session, ticket, before, by="claim")
    # claim_next took the chain's lock: on PostgreSQL the ticket read below writes the
    # event too, elsewhere it is one statement of its own.
    event: dict[str, Any] = {
        "ticket_id": ticket.id,
        "actor_type": ActorType.agent,
        "actor_agent_id": ctx.id,
    }
    carried = await audit_chain.carried(session, "ticket.claimed", **event)
    if carried is None:
        await audit_chain.append(session, "ticket.claimed", chain_locked=True, **event)
    # Read in the same transaction: one connection checkout per claim, not two. The
    # queue's name and the assignee's (the caller) are known: one statement for the rest.
    names = await repo.queue_names(session, [ticket.queue_id])
    public = await tickets_views.public(
        session,
        ticket,
        queue_name=names.get(ticket.queue_id),
        assignee_name=ctx.agent.name,
        carrying=carried,
    )
    metrics.claims.labels(str(ticket.queue_id)).inc()
    log.info("queue.claimed", ticket=ticket.ref, agent=ctx.agent.name)
    return public


async def claim_chosen(session: AsyncSession, ctx: AgentContext, ticket: Ticket) -> Ticket:
    """Assign one chosen ticket to the caller (an agent picking from the list rather than
    taking the next). Conflict when someone holds it or it is not claimable; AtCapacity
    when the agent holds enough; Forbidden outside the agent's queues. Flushes."""
    if not ctx.can_work_queue(ticket.queue_id):
        raise Forbidden(f"ticket {ticket.ref} is not in one of your queues")
    capacity, held = await repo.lock_agent_load(session, ctx.id)
    if held >= capacity:
        raise AtCapacity(
            f"you hold {capacity} tickets, your capacity; resolve or release one first"
        )
    claimed = await repo.claim_ticket(
        session,
        ctx.id,
        ticket.id,  # type: ignore[arg-type]
        utcnow(),
        ctx.agent.languages,
    )
    if claimed is None:
        raise Conflict(f"ticket {ticket.ref} is held by someone or not open for claiming")
    audit.record(
        session,
        "ticket.claimed",
        ticket_id=claimed.id,
        actor_type=ActorType.agent,
        actor_agent_id=ctx.id,
        chosen=True,
    )
    metrics.claims.labels(str(claimed.queue_id)).inc()
    log.info("queue.claimed", ticket=claimed.ref, agent=ctx.agent.name, chosen=True)
    return claimed


async def _try_claim(
    runtime: Runtime, ctx: AgentContext, queue_ids: Collection[int]
) -> TicketPublic | None:
    if not queue_ids:
        return None
    async with runtime.sessionmaker.begin() as session:
        return await claim_now(session, ctx, queue_ids)
