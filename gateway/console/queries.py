"""What console pages read beyond the agent API's own shapes (filters, load, channels)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.agents.models import Agent
from gateway.db import pk
from gateway.queues import repository as queues_repo
from gateway.queues.models import Queue, QueueMembership
from gateway.tickets.models import Message, Ticket, TicketStatus

ORDERS = ("due", "severity", "oldest", "newest")
ACTIVE = tuple(str(s) for s in queues_repo.HELD)


@dataclass(frozen=True)
class TicketFilters:
    status: str = ""
    severity: str = ""
    category: str = ""
    language: str = ""
    channel: str = ""
    assignee: str = ""  # "", "me", "none" or an agent's name
    order: str = "due"

    def __getitem__(self, name: str) -> str:
        return str(getattr(self, name))


async def queue_tickets(
    session: AsyncSession, queue_id: int, filters: TicketFilters, me: int, limit: int = 200
) -> list[Ticket]:
    """A queue's tickets under the filters; without a status filter, the unfinished ones."""
    stmt = sa.select(Ticket).where(col(Ticket.queue_id) == queue_id)
    if filters.status:
        stmt = stmt.where(col(Ticket.status) == filters.status)
    else:
        stmt = stmt.where(col(Ticket.status).in_(ACTIVE))
    for column, value in (
        (col(Ticket.severity), filters.severity),
        (col(Ticket.category), filters.category),
        (col(Ticket.language), filters.language),
        (col(Ticket.channel), filters.channel),
    ):
        if value:
            stmt = stmt.where(column == value)
    if filters.assignee == "me":
        stmt = stmt.where(col(Ticket.assignee_id) == me)
    elif filters.assignee == "none":
        stmt = stmt.where(col(Ticket.assignee_id).is_(None))
    elif filters.assignee:
        stmt = stmt.join(Agent, col(Agent.id) == col(Ticket.assignee_id)).where(
            col(Agent.name) == filters.assignee
        )
    # NULL due times (no SLA) sort last on both databases.
    due = sa.case((col(Ticket.first_response_due).is_(None), 1), else_=0)
    order = {
        "due": (due, col(Ticket.first_response_due), col(Ticket.severity_rank), col(Ticket.id)),
        "severity": (
            col(Ticket.severity_rank),
            due,
            col(Ticket.first_response_due),
            col(Ticket.id),
        ),
        "oldest": (col(Ticket.id),),
        "newest": (col(Ticket.id).desc(),),
    }[filters.order if filters.order in ORDERS else "due"]
    return list((await session.execute(stmt.order_by(*order).limit(limit))).scalars())


async def facet_values(session: AsyncSession, queue_id: int) -> dict[str, list[str]]:
    """The languages and assignees present in a queue, for the filter menus."""
    languages = await session.execute(
        sa.select(col(Ticket.language))
        .where(col(Ticket.queue_id) == queue_id, col(Ticket.language).is_not(None))
        .distinct()
        .order_by(col(Ticket.language))
    )
    assignees = await session.execute(
        sa.select(col(Agent.name))
        .join(Ticket, col(Ticket.assignee_id) == col(Agent.id))
        .where(col(Ticket.queue_id) == queue_id)
        .distinct()
        .order_by(col(Agent.name))
    )
    # The languages are never NULL (filtered above); the list only tells the type so.
    return {
        "language": [lang for lang in languages.scalars() if lang is not None],
        "assignee": list(assignees.scalars()),
    }


async def message_channels(session: AsyncSession, message_ids: Iterable[int]) -> dict[int, str]:
    """Each message's own channel: one conversation can span email, Telegram and chat."""
    ids = list(message_ids)
    if not ids:
        return {}
    rows = await session.execute(
        sa.select(pk(Message.id), col(Message.channel)).where(col(Message.id).in_(ids))
    )
    return {row[0]: row[1] for row in rows}


async def new_messages(session: AsyncSession, ticket_id: int, after_id: int) -> list[int]:
    """Ids of the ticket's messages after `after_id`, oldest first."""
    rows = await session.execute(
        sa.select(pk(Message.id))
        .where(col(Message.ticket_id) == ticket_id, col(Message.id) > after_id)
        .order_by(col(Message.id))
    )
    return list(rows.scalars())


async def queue_names(session: AsyncSession) -> list[str]:
    return list(
        (await session.execute(sa.select(col(Queue.name)).order_by(col(Queue.name)))).scalars()
    )


@dataclass(frozen=True)
class AgentLoad:
    name: str
    role: str
    languages: list[str]
    queues: list[str]
    held: int
    capacity: int
    active: bool


async def agent_loads(session: AsyncSession) -> list[AgentLoad]:
    """Every active agent with the tickets they hold against their capacity."""
    held = (
        sa.select(sa.func.count())
        .select_from(Ticket)
        .where(col(Ticket.assignee_id) == col(Agent.id), col(Ticket.status).in_(ACTIVE))
        .correlate(Agent)
        .scalar_subquery()
    )
    rows = (
        await session.execute(
            sa.select(Agent, held).where(col(Agent.active).is_(True)).order_by(col(Agent.name))
        )
    ).all()
    memberships = await session.execute(
        sa.select(col(QueueMembership.agent_id), col(Queue.name))
        .join(Queue, col(Queue.id) == col(QueueMembership.queue_id))
        .order_by(col(Queue.name))
    )
    queues: dict[int, list[str]] = {}
    for agent_id, name in memberships:
        queues.setdefault(agent_id, []).append(name)
    return [
        AgentLoad(
            a.name, a.role, list(a.languages), queues.get(a.id, []), int(n), a.capacity, a.active
        )
        for a, n in rows
    ]


async def escalations_waiting(session: AsyncSession, limit: int = 200) -> list[Ticket]:
    """Escalated or flagged tickets nobody has finished, most urgent first."""
    stmt = (
        sa.select(Ticket)
        .where(
            col(Ticket.status).in_(ACTIVE),
            sa.or_(
                col(Ticket.status) == TicketStatus.escalated, col(Ticket.needs_attention).is_(True)
            ),
        )
        .order_by(col(Ticket.severity_rank), col(Ticket.escalation_level).desc(), col(Ticket.id))
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())
