"""Agent routes on queues: what is waiting, and claiming the next ticket."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from gateway.agents.context import AgentContext
from gateway.agents.dependencies import CurrentAgent
from gateway.agents.schemas import QueuePublic
from gateway.dependencies import RuntimeDep, SessionDep
from gateway.errors import Forbidden, InvalidRequest, NotFound
from gateway.queues import repository as repo
from gateway.queues import service
from gateway.queues.models import Queue
from gateway.text import parse_id
from gateway.tickets import views as tickets_views
from gateway.tickets.models import Severity, TicketStatus
from gateway.tickets.schemas import TicketList, TicketPublic

router = APIRouter(prefix="/api/v1", tags=["queues"])

Wait = Annotated[
    float, Query(ge=0, le=60, description="Seconds to wait for a ticket (long poll), at most 60")
]
CLAIMED: dict[int | str, dict[str, Any]] = {
    200: {"description": "The claimed ticket"},
    204: {"description": "No ticket came within `wait` seconds"},
    409: {"description": "The agent is at capacity"},
}


class QueueList(BaseModel):
    items: list[QueuePublic]
    next_cursor: str | None = None


@router.get("/queues", response_model=QueueList)
async def list_queues(session: SessionDep, ctx: CurrentAgent) -> QueueList:
    """The queues the caller works (all of them for supervisors), with their load."""
    queues = await repo.queues_by_ids(session, None if ctx.sees_all else ctx.queue_ids)
    stats = await repo.queue_stats(session, [q.id for q in queues])  # type: ignore[misc]
    names = {q.id: q.name for q in await repo.queues_by_ids(session, None)}
    return QueueList(
        items=[
            QueuePublic(
                name=q.name,
                description=q.description,
                escalates_to=names.get(q.escalates_to_id) if q.escalates_to_id else None,
                open=stats.get(q.id, (0, 0, None))[0],  # type: ignore[arg-type]
                unassigned=stats.get(q.id, (0, 0, None))[1],  # type: ignore[arg-type]
                oldest_due=stats.get(q.id, (0, 0, None))[2],  # type: ignore[arg-type]
            )
            for q in queues
        ]
    )


@router.get("/queues/{name}/tickets", response_model=TicketList)
async def list_queue_tickets(
    name: str,
    session: SessionDep,
    ctx: CurrentAgent,
    status: Annotated[list[TicketStatus] | None, Query()] = None,
    severity: Annotated[list[Severity] | None, Query()] = None,
    order_ref: Annotated[str | None, Query(max_length=100, description="Tickets naming it")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=20)] = None,
) -> TicketList:
    """Tickets of a queue, oldest first; pass `next_cursor` back as `cursor` for more."""
    queue = await _queue_for(session, ctx, name)
    after_id = parse_id(cursor) if cursor else None
    if cursor and after_id is None:
        raise InvalidRequest("cursor must be a value returned as next_cursor")
    tickets = await repo.list_tickets(
        session,
        queue.id,  # type: ignore[arg-type]
        statuses=[str(s) for s in status] if status else None,
        severities=[str(s) for s in severity] if severity else None,
        order_ref=order_ref,
        after_id=after_id,
        limit=limit,
    )
    next_cursor = str(tickets[-1].id) if len(tickets) == limit else None
    return TicketList(
        items=await tickets_views.summaries(session, tickets), next_cursor=next_cursor
    )


@router.post("/queues/{name}/claim", response_model=TicketPublic, responses=CLAIMED)
async def claim_from_queue(
    name: str, runtime: RuntimeDep, ctx: CurrentAgent, session: SessionDep, wait: Wait = 0
) -> TicketPublic | Response:
    """Assign the most urgent unassigned ticket of this queue to the caller."""
    queue_id = await repo.queue_id_by_name(session, name)
    if queue_id is None:
        raise NotFound(f"no queue named {name!r}")
    if not ctx.can_work_queue(queue_id):
        raise Forbidden(f"queue {name!r} is not one of yours")
    return await _claimed(runtime, session, ctx, [queue_id], wait)


@router.post("/claim", response_model=TicketPublic, responses=CLAIMED)
async def claim_any(
    runtime: RuntimeDep, ctx: CurrentAgent, session: SessionDep, wait: Wait = 0
) -> TicketPublic | Response:
    """The same over all the caller's queues."""
    return await _claimed(runtime, session, ctx, sorted(ctx.queue_ids), wait)


async def _claimed(
    runtime: RuntimeDep,
    session: SessionDep,
    ctx: AgentContext,
    queue_ids: list[int],
    wait: float,
) -> TicketPublic | Response:
    if wait <= 0:
        # No waiting: claim in the request's own transaction (committed before the
        # response is sent), one connection for the whole request.
        ticket = await service.claim_now(session, ctx, queue_ids)
    else:
        await session.commit()  # no transaction may stay open across a long poll
        ticket = await service.claim(runtime, ctx, queue_ids, wait)
    if ticket is None:
        return Response(status_code=204)
    return ticket


async def _queue_for(session: SessionDep, ctx: AgentContext, name: str) -> Queue:
    queue = await repo.queue_by_name(session, name)
    if queue is None:
        raise NotFound(f"no queue named {name!r}")
    if not ctx.can_work_queue(queue.id):  # type: ignore[arg-type]
        raise Forbidden(f"queue {name!r} is not one of yours")
    return queue
