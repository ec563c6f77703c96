"""All SQL of queues and claims. Functions flush; the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.agents.models import Agent
from gateway.queues.models import Queue
from gateway.tickets.models import CLAIMABLE_STATUSES, OPEN_STATUSES, Ticket, TicketStatus

# A ticket counts against its holder's capacity for as long as it is open.
HELD = OPEN_STATUSES


async def lock_agent_load(session: AsyncSession, agent_id: int) -> tuple[int, int]:
    """The agent's capacity and how many tickets it holds; the agent row stays locked
    until commit, so one agent's concurrent claims count capacity one at a time.

    Two statements on purpose: the count must be read after the lock is granted. In one
    statement a claim that waited for the lock would still count with the snapshot it
    took before waiting, and see none of the claims committed meanwhile (PostgreSQL's
    READ COMMITTED re-checks only the locked row)."""
    capacity = await session.scalar(
        sa.select(Agent.capacity).where(Agent.id == agent_id).with_for_update()
    )
    held = await session.scalar(
        sa.select(sa.func.count())
        .select_from(Ticket)
        .where(Ticket.assignee_id == agent_id, Ticket.status.in_(HELD))
    )
    return int(capacity or 0), int(held or 0)


async def claim_next(
    session: AsyncSession, agent_id: int, queue_ids: Iterable[int], now: datetime
) -> Ticket | None:
    """Assign the most urgent unassigned ticket of the queues to the agent; the ticket
    as it now is, or None.

    One statement: on PostgreSQL the candidate row is locked with SKIP LOCKED, so two
    concurrent claims never get the same ticket and never wait on each other; on SQLite
    the transaction already holds the single write lock (BEGIN IMMEDIATE).
    """
    candidate = (
        sa.select(Ticket.id)
        .where(
            Ticket.queue_id.in_(list(queue_ids)),
            Ticket.assignee_id.is_(None),
            Ticket.status.in_(CLAIMABLE_STATUSES),
        )
        .order_by(Ticket.severity_rank, Ticket.first_response_due, Ticket.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    result = await session.execute(
        sa.update(Ticket)
        .where(Ticket.id == candidate)
        .values(
            assignee_id=agent_id,
            assigned_at=now,
            agent_touched_at=now,
            updated_at=now,
            status=sa.case(
                (Ticket.status == TicketStatus.new, TicketStatus.open), else_=Ticket.status
            ),
        )
        # The whole row back: no second read of the ticket just claimed.
        .returning(Ticket)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return result.scalar_one_or_none()


async def claim_ticket(
    session: AsyncSession, agent_id: int, ticket_id: int, now: datetime
) -> Ticket | None:
    """Assign this ticket to the agent if nobody holds it and it is claimable; the ticket
    as it now is, or None. One conditional UPDATE, so two agents never both win."""
    result = await session.execute(
        sa.update(Ticket)
        .where(
            Ticket.id == ticket_id,
            Ticket.assignee_id.is_(None),
            Ticket.status.in_(CLAIMABLE_STATUSES),
        )
        .values(
            assignee_id=agent_id,
            assigned_at=now,
            agent_touched_at=now,
            updated_at=now,
            status=sa.case(
                (Ticket.status == TicketStatus.new, TicketStatus.open), else_=Ticket.status
            ),
        )
        .returning(Ticket)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return result.scalar_one_or_none()


async def queues_by_ids(session: AsyncSession, queue_ids: Iterable[int] | None) -> list[Queue]:
    stmt = sa.select(Queue).order_by(Queue.name)
    if queue_ids is not None:
        stmt = stmt.where(Queue.id.in_(list(queue_ids)))
    return list((await session.execute(stmt)).scalars())


async def queue_stats(
    session: AsyncSession, queue_ids: list[int]
) -> dict[int, tuple[int, int, datetime | None]]:
    """Per queue: open tickets, unassigned claimable ones, earliest first-response due."""
    if not queue_ids:
        return {}
    unassigned = sa.and_(Ticket.assignee_id.is_(None), Ticket.status.in_(CLAIMABLE_STATUSES))
    rows = await session.execute(
        sa.select(
            Ticket.queue_id,
            sa.func.count(),
            sa.func.count().filter(unassigned),
            sa.func.min(Ticket.first_response_due).filter(unassigned),
        )
        .where(Ticket.queue_id.in_(queue_ids), Ticket.status.in_(HELD))
        .group_by(Ticket.queue_id)
    )
    return {row[0]: (row[1], row[2], row[3]) for row in rows}


async def list_tickets(
    session: AsyncSession,
    queue_id: int,
    *,
    statuses: list[str] | None,
    severities: list[str] | None,
    after_id: int | None,
    limit: int,
    order_ref: str | None = None,
) -> list[Ticket]:
    """A page of a queue's tickets, oldest first (stable under inserts)."""
    stmt = sa.select(Ticket).where(Ticket.queue_id == queue_id)
    if statuses:
        stmt = stmt.where(Ticket.status.in_(statuses))
    if severities:
        stmt = stmt.where(Ticket.severity.in_(severities))
    if order_ref:
        stmt = stmt.where(Ticket.order_ref == order_ref)
    if after_id is not None:
        stmt = stmt.where(Ticket.id > after_id)
    stmt = stmt.order_by(Ticket.id).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def stale_assignments(
    session: AsyncSession, touched_before: datetime, limit: int = 500
) -> list[Ticket]:
    """Assigned tickets whose customer still waits for a first answer and whose assignee
    has not acted since `touched_before`; locked, skipping rows another sweeper holds."""
    result = await session.execute(
        sa.select(Ticket)
        .where(
            Ticket.assignee_id.is_not(None),
            Ticket.first_responded_at.is_(None),
            Ticket.status.in_(CLAIMABLE_STATUSES),
            Ticket.agent_touched_at < touched_before,
        )
        .order_by(Ticket.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(result.scalars())
