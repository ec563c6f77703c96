"""Agent accounts and their API tokens."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.agents.models import Agent, Role
from gateway.errors import Conflict
from gateway.queues.models import QueueMembership
from gateway.tickets import repository as tickets_repo

TOKEN_PREFIX = "prl_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


async def create_agent(
    session: AsyncSession,
    *,
    name: str,
    role: Role = Role.agent,
    languages: Sequence[str] = (),
    queues: Sequence[str] = (),
    capacity: int = 10,
) -> tuple[Agent, str]:
    """Create an agent in the named queues (created when missing). Returns the agent and
    its token, which exists nowhere else afterwards: only its hash is stored. Flushes."""
    name = name.strip()
    if not name:
        raise Conflict("agent name must not be empty")
    existing = await session.execute(sa.select(Agent.id).where(Agent.name == name))
    if existing.first() is not None:
        raise Conflict(f"an agent named {name!r} exists already")
    token = new_token()
    agent = Agent(
        name=name,
        role=role,
        languages=sorted({lang.strip().lower() for lang in languages if lang.strip()}),
        capacity=capacity,
        token_hash=hash_token(token),
    )
    session.add(agent)
    await session.flush()
    await set_queues(session, agent, queues)
    return agent, token


async def set_queues(session: AsyncSession, agent: Agent, queues: Sequence[str]) -> None:
    """Make the agent a member of exactly these queues (created when missing). Flushes."""
    await session.execute(sa.delete(QueueMembership).where(QueueMembership.agent_id == agent.id))
    for queue_name in dict.fromkeys(q.strip() for q in queues if q.strip()):
        queue = await tickets_repo.ensure_queue(session, queue_name)
        session.add(QueueMembership(agent_id=agent.id, queue_id=queue.id))  # type: ignore[arg-type]
    await session.flush()


async def agent_by_token(session: AsyncSession, token: str) -> Agent | None:
    result = await session.execute(
        sa.select(Agent).where(Agent.token_hash == hash_token(token), Agent.active.is_(True))
    )
    return result.scalar_one_or_none()
