"""Who may see risk: supervisors, admins, and the agents of the risk queue.

The risk list names accounts the desk suspects, with the cases behind each suspicion:
it is not for every agent. An agent outside the risk queue gets 403 for every account
alike, so the answer never tells whether an account is scored.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.agents.context import AgentContext
from gateway.agents.dependencies import CurrentAgent
from gateway.dependencies import RuntimeDep, SessionDep
from gateway.errors import Forbidden
from gateway.queues import repository as queues_repo


async def is_risk_reviewer(session: AsyncSession, ctx: AgentContext, queue: str) -> bool:
    if ctx.sees_all:
        return True
    risk_queue = await queues_repo.queue_by_name(session, queue)
    return risk_queue is not None and risk_queue.id in ctx.queue_ids


async def risk_reviewer(
    ctx: CurrentAgent, session: SessionDep, runtime: RuntimeDep
) -> AgentContext:
    queue = runtime.settings.risk.queue
    if not await is_risk_reviewer(session, ctx, queue):
        raise Forbidden(f"risk is for supervisors and agents of the {queue!r} queue")
    return ctx


RiskReviewer = Annotated[AgentContext, Depends(risk_reviewer)]
