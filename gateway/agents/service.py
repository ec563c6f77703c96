"""Agent accounts and their API tokens."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway import audit
from gateway.agents.models import Agent, Role
from gateway.errors import Conflict, NotFound
from gateway.queues import repository as queues_repo
from gateway.queues.models import Queue, QueueMembership
from gateway.tickets.models import ActorType

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
    existing = await session.execute(sa.select(col(Agent.id)).where(col(Agent.name) == name))
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
    await session.execute(
        sa.delete(QueueMembership).where(col(QueueMembership.agent_id) == agent.id)
    )
    for queue_name in dict.fromkeys(q.strip() for q in queues if q.strip()):
        queue = await queues_repo.ensure_queue(session, queue_name)
        session.add(QueueMembership(agent_id=agent.id, queue_id=queue.id))  # type: ignore[arg-type]
    await session.flush()


async def agent_by_token(session: AsyncSession, token: str) -> Agent | None:
    result = await session.execute(
        sa.select(Agent).where(
            col(Agent.token_hash) == hash_token(token), col(Agent.active).is_(True)
        )
    )
    return result.scalar_one_or_none()


async def agent_by_name(session: AsyncSession, name: str) -> Agent:
    """The agent of that name, active or not; NotFound otherwise."""
    agent = (
        await session.execute(sa.select(Agent).where(col(Agent.name) == name))
    ).scalar_one_or_none()
    if agent is None:
        raise NotFound(f"no agent named {name!r}")
    return agent


def revoke_token(agent: Agent) -> None:
    """Make the agent's current token worthless for good: the stored hash becomes one of
    a token nobody was shown, so re-activating the agent cannot revive the old one."""
    agent.token_hash = hash_token(new_token())


def deactivate(agent: Agent) -> None:
    """Switch the agent off: refused at once (401) and its token revoked."""
    agent.active = False
    revoke_token(agent)


async def rotate_token(session: AsyncSession, agent: Agent, *, by: int | None = None) -> str:
    """Give the agent a new token (the old one stops working) and return it: it is shown
    this once, only its hash is stored. Audited as done by agent `by` (None: an operator
    on the command line). Flushes; the caller commits."""
    token = new_token()
    agent.token_hash = hash_token(token)
    audit.record(
        session,
        "agent.token_rotated",
        ticket_id=None,
        actor_type=ActorType.system if by is None else ActorType.agent,
        actor_agent_id=by,
        agent=agent.id,
    )
    await session.flush()
    return token


async def list_agents(session: AsyncSession) -> list[tuple[Agent, list[str]]]:
    """Every agent, active or not, by name, with the names of its queues."""
    agents = list((await session.execute(sa.select(Agent).order_by(col(Agent.name)))).scalars())
    rows = await session.execute(
        sa.select(col(QueueMembership.agent_id), col(Queue.name))
        .join(Queue, col(Queue.id) == col(QueueMembership.queue_id))
        .order_by(col(Queue.name))
    )
    queues: dict[int, list[str]] = {}
    for agent_id, queue_name in rows.all():
        queues.setdefault(agent_id, []).append(queue_name)
    return [(agent, queues.get(agent.id, [])) for agent in agents]  # type: ignore[arg-type]
