"""Who am I, and the admin's management of agents and queues."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway import audit
from gateway.agents.dependencies import CurrentAdmin, CurrentAgent
from gateway.agents.models import Agent
from gateway.agents.schemas import (
    AgentCreate,
    AgentCreated,
    AgentPublic,
    AgentUpdate,
    QueueCreate,
    QueuePublic,
)
from gateway.agents.service import create_agent, deactivate, rotate_token, set_queues
from gateway.dependencies import SessionDep
from gateway.errors import Conflict, NotFound
from gateway.queues import repository as queues_repo
from gateway.queues.models import Queue, QueueMembership
from gateway.tickets.models import ActorType

router = APIRouter(prefix="/api/v1", tags=["agents"])


class AgentList(BaseModel):
    items: list[AgentPublic]
    next_cursor: str | None = None


@router.get("/me", response_model=AgentPublic)
async def me(session: SessionDep, ctx: CurrentAgent) -> AgentPublic:
    """The calling agent."""
    return await _public(session, ctx.agent)


@router.get("/admin/agents", response_model=AgentList)
async def list_agents(session: SessionDep, _admin: CurrentAdmin) -> AgentList:
    agents = (await session.execute(sa.select(Agent).order_by(col(Agent.name)))).scalars()
    return AgentList(items=[await _public(session, a) for a in agents])


@router.post("/admin/agents", status_code=201, response_model=AgentCreated)
async def post_agent(body: AgentCreate, session: SessionDep, admin: CurrentAdmin) -> AgentCreated:
    """Create an agent; the response carries its token, the only time it is shown."""
    agent, token = await create_agent(
        session,
        name=body.name,
        role=body.role,
        languages=body.languages,
        queues=body.queues,
        capacity=body.capacity,
    )
    audit.record(
        session,
        "agent.created",
        ticket_id=None,
        actor_type=ActorType.agent,
        actor_agent_id=admin.id,
        agent=agent.id,
    )
    public = await _public(session, agent)
    return AgentCreated(**public.model_dump(), token=token)


@router.patch("/admin/agents/{name}", response_model=AgentPublic)
async def patch_agent(
    name: str, body: AgentUpdate, session: SessionDep, admin: CurrentAdmin
) -> AgentPublic:
    """Change an agent's role, languages, queues, capacity, or switch it off."""
    agent = await _agent(session, name)
    # null means "leave as is", like an absent field: these columns have no empty value.
    changes = body.model_dump(exclude_none=True, exclude={"queues"})
    if agent.id == admin.id and (
        changes.get("active") is False or changes.get("role", "admin") != "admin"
    ):
        raise Conflict("an admin cannot demote or deactivate themself")
    for field, value in changes.items():
        setattr(agent, field, value)
    if changes.get("active") is False:
        deactivate(agent)
    if body.queues is not None:
        await set_queues(session, agent, body.queues)
    audit.record(
        session,
        "agent.updated",
        ticket_id=None,
        actor_type=ActorType.agent,
        actor_agent_id=admin.id,
        agent=agent.id,
        changes=body.model_dump(exclude_none=True, mode="json"),
    )
    await session.flush()
    return await _public(session, agent)


@router.delete("/admin/agents/{name}", status_code=204)
async def delete_agent(name: str, session: SessionDep, admin: CurrentAdmin) -> Response:
    """Deactivate an agent: its token is revoked at once; its history stays."""
    agent = await _agent(session, name)
    if agent.id == admin.id:
        raise Conflict("an admin cannot deactivate themself")
    deactivate(agent)
    audit.record(
        session,
        "agent.deactivated",
        ticket_id=None,
        actor_type=ActorType.agent,
        actor_agent_id=admin.id,
        agent=agent.id,
    )
    return Response(status_code=204)


@router.post("/admin/agents/{name}/token", response_model=AgentCreated)
async def post_agent_token(name: str, session: SessionDep, admin: CurrentAdmin) -> AgentCreated:
    """Issue the agent a new token, shown this once; the old one stops working. An
    inactive agent keeps none: re-activate it (PATCH active) and issue one here."""
    agent = await _agent(session, name)
    token = await rotate_token(session, agent, by=admin.id)
    public = await _public(session, agent)
    return AgentCreated(**public.model_dump(), token=token)


@router.post("/admin/queues", status_code=201, response_model=QueuePublic)
async def post_queue(body: QueueCreate, session: SessionDep, _admin: CurrentAdmin) -> QueuePublic:
    """Create a queue, optionally naming the queue it escalates to."""
    if await queues_repo.queue_by_name(session, body.name) is not None:
        raise Conflict(f"a queue named {body.name!r} exists already")
    escalates_to: Queue | None = None
    if body.escalates_to:
        escalates_to = await queues_repo.queue_by_name(session, body.escalates_to)
        if escalates_to is None:
            raise NotFound(f"no queue named {body.escalates_to!r} to escalate to")
    queue = Queue(
        name=body.name,
        description=body.description,
        escalates_to_id=escalates_to.id if escalates_to else None,
    )
    session.add(queue)
    await session.flush()
    return QueuePublic(
        name=queue.name,
        description=queue.description,
        escalates_to=body.escalates_to,
        open=0,
        unassigned=0,
        oldest_due=None,
    )


async def _agent(session: AsyncSession, name: str) -> Agent:
    agent = (
        await session.execute(sa.select(Agent).where(col(Agent.name) == name))
    ).scalar_one_or_none()
    if agent is None:
        raise NotFound(f"no agent named {name!r}")
    return agent


async def _public(session: AsyncSession, agent: Agent) -> AgentPublic:
    rows = await session.execute(
        sa.select(col(Queue.name))
        .join(QueueMembership, col(QueueMembership.queue_id) == col(Queue.id))
        .where(col(QueueMembership.agent_id) == agent.id)
        .order_by(col(Queue.name))
    )
    return AgentPublic(
        id=agent.id,  # type: ignore[arg-type]
        name=agent.name,
        role=agent.role,  # type: ignore[arg-type]
        languages=agent.languages,
        queues=list(rows.scalars()),
        capacity=agent.capacity,
        active=agent.active,
        created_at=agent.created_at,
    )
