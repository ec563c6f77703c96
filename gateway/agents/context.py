"""What the calling agent may see and do: framework-free, so services take it from any
edge (the HTTP API, the console, the CLI) without importing FastAPI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.agents.cache import AgentCache
from gateway.agents.models import Agent, Role
from gateway.agents.service import hash_token
from gateway.errors import Unauthorized
from gateway.queues.models import QueueMembership
from gateway.tickets.models import Ticket


@dataclass(frozen=True)
class AgentContext:
    """The calling agent and the queues they work."""

    agent: Agent
    queue_ids: frozenset[int]

    @property
    def id(self) -> int:
        assert self.agent.id is not None
        return self.agent.id

    @property
    def sees_all(self) -> bool:
        return self.agent.role in (Role.supervisor, Role.admin)

    def can_see(self, ticket: Ticket) -> bool:
        return self.sees_all or ticket.queue_id in self.queue_ids or ticket.assignee_id == self.id

    def can_work_queue(self, queue_id: int) -> bool:
        return self.sees_all or queue_id in self.queue_ids


async def load_context(
    session: AsyncSession,
    token: str,
    *,
    cache: AgentCache | None = None,
    trusted: bool = False,
    now: datetime | None = None,
    ttl_seconds: float = 0.0,
) -> AgentContext:
    """The agent a token names, with its queues; Unauthorized for a wrong, revoked or
    switched-off token. With a `cache` that is `trusted` (its invalidation signals are
    heard, see agents/cache.py), a token seen in the last `ttl_seconds` costs no query."""
    key = hash_token(token)
    if cache is not None and trusted and now is not None:
        entry = cache.get(key, now)
        if entry is not None:
            return AgentContext(entry.agent(), entry.queue_ids)
    generation = cache.generation if cache is not None else 0
    row = (
        await session.execute(
            sa.select(Agent, _memberships).where(
                col(Agent.token_hash) == key, col(Agent.active).is_(True)
            )
        )
    ).one_or_none()
    if row is None:
        raise Unauthorized("invalid or revoked API token")
    agent, queue_ids = row[0], frozenset(int(q) for q in (row[1] or "").split(",") if q)
    if cache is not None and trusted and now is not None:
        cache.put(key, agent, queue_ids, now=now, ttl_seconds=ttl_seconds, generation=generation)
    return AgentContext(agent, queue_ids)


# The agent and its queue ids in one statement (a comma-joined list: portable between
# PostgreSQL's string_agg and SQLite's group_concat).
_memberships = (
    sa.select(sa.func.aggregate_strings(sa.cast(col(QueueMembership.queue_id), sa.String), ","))
    .where(col(QueueMembership.agent_id) == col(Agent.id))
    .correlate(Agent)
    .scalar_subquery()
)
