"""What console pages read beyond the agent API's own shapes (filters, load, channels)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.agents.models import Agent
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
    stmt = sa.select(Ticket).where(Ticket.queue_id == queue_id)
    if filters.status:
        stmt = stmt.where(Ticket.status == filters.status)
    else:
        stmt = stmt.where(Ticket.status.in_(ACTIVE))
    for column, value in (
        (Ticket.severity, filters.severity),
        (Ticket.category, filters.category),
        (Ticket.language, filters.language),
        (Ticket.channel, filters.channel),
    ):
        if value:
            stmt = stmt.where(column == value)
    if filters.assignee == "me":
        stmt = stmt.where(Ticket.assignee_id == me)
    elif filters.assignee == "none":
        stmt = stmt.where(Ticket.assignee_id.is_(None))
    elif filters.assignee:
        stmt = stmt.join(Agent, Agent.id == Ticket.assignee_id).where(
            Agent.name == filters.assignee
        )
    # NULL due times (no SLA) sort last on both databases.
    due = sa.case((Ticket.first_response_due.is_(None), 1), else_=0)
    order = {
        "due": (due, Ticket.first_response_due, Ticket.severity_rank, Ticket.id),
        "severity": (Ticket.severity_rank, due, Ticket.first_response_due, Ticket.id),
        "oldest": (Ticket.id,),
        "newest": (Ticket.id.desc(),),
    }[filters.order if filters.order in ORDERS else "due"]
    return list((await session.execute(stmt.order_by(*order).limit(limit))).scalars())


async def facet_values(session: AsyncSession, queue_id: int) -> dict[str, list[str]]:
    """The languages and assignees present in a queue, for the filter menus."""
    languages = await session.execute(
        sa.select(Ticket.language)
        .where(Ticket.queue_id == queue_id, Ticket.language.is_not(None))
        .distinct()
        .order_by(Ticket.language)
    )
    assignees = await session.execute(
        sa.select(Agent.name)
        .join(Ticket, Ticket.assignee_id == Agent.id)
        .where(Ticket.queue_id == queue_id)
        .distinct()
        .order_by(Agent.name)
    )
    return {"language": list(languages.scalars()), "assignee": list(assignees.scalars())}


async def message_channels(session: AsyncSession, message_ids: Iterable[int]) -> dict[int, str]:
    """Each message's own channel: one conversation can span email, Telegram and chat."""
    ids = list(message_ids)
    if not ids:
        return {}
    rows = await session.execute(sa.select(Message.id, Message.channel).where(Message.id.in_(ids)))
    return {row[0]: row[1] for row in rows}


async def new_messages(session: AsyncSession, ticket_id: int, after_id: int) -> list[int]:
    """Ids of the ticket's messages after `after_id`, oldest first."""
    rows = await session.execute(
        sa.select(Message.id)
        .where(Message.ticket_id == ticket_id, Message.id > after_id)
        .order_by(Message.id)
    )
    return list(rows.scalars())


async def queue_names(session: AsyncSession) -> list[str]:
    return list((await session.execute(sa.select(Queue.name).order_by(Queue.name))).scalars())


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
        .where(Ticket.assignee_id == Agent.id, Ticket.status.in_(ACTIVE))
        .correlate(Agent)
        .scalar_subquery()
    )
    rows = (
        await session.execute(
            sa.select(Agent, held).where(Agent.active.is_(True)).order_by(Agent.name)
        )
    ).all()
    memberships = await session.execute(
        sa.select(QueueMembership.agent_id, Queue.name)
        .join(Queue, Queue.id == QueueMembership.queue_id)
        .order_by(Queue.name)
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
            Ticket.status.in_(ACTIVE),
            sa.or_(Ticket.status == TicketStatus.escalated, Ticket.needs_attention.is_(True)),
        )
        .order_by(Ticket.severity_rank, Ticket.escalation_level.desc(), Ticket.id)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())
