"""SLA routes: a ticket's clocks and events, a supervisor's overview and de-escalation,
and agents' shifts and contact for notices."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.agents.context import AgentContext
from gateway.agents.dependencies import CurrentAgent
from gateway.agents.models import Agent
from gateway.dependencies import RuntimeDep, SessionDep
from gateway.errors import Conflict, Forbidden, NotFound
from gateway.sla import escalation, overview, shifts
from gateway.sla import repository as repo
from gateway.sla import service as sla
from gateway.sla.models import AgentShift
from gateway.sla.schemas import (
    ClockPublic,
    ContactBody,
    DeescalateBody,
    QueueSla,
    ShiftBody,
    ShiftPublic,
    SlaEventPublic,
    SlaOverview,
    TicketSla,
    WatcherPublic,
)
from gateway.tickets import service as tickets_service
from gateway.tickets import views as tickets_views
from gateway.tickets.schemas import TicketSummary

router = APIRouter(prefix="/api/v1", tags=["sla"])


def _supervisor(ctx: AgentContext) -> None:
    if not ctx.sees_all:
        raise Forbidden("this is for supervisors")


@router.get("/tickets/{ref}/sla", response_model=TicketSla)
async def get_ticket_sla(
    ref: str, session: SessionDep, ctx: CurrentAgent, runtime: RuntimeDep
) -> TicketSla:
    """The ticket's SLA clocks as of now, every recorded metric event, and who watches."""
    ticket = await tickets_service.ticket_for(session, ctx, ref)
    assert ticket.id is not None
    found = await sla.view(session, ticket, runtime.clock.now())
    return TicketSla(
        ref=ticket.ref,
        policy=found.policy,
        calendar=found.calendar,
        sla_state=found.state,
        escalation_level=ticket.escalation_level,
        first_response_due=ticket.first_response_due,
        next_response_due=ticket.next_response_due,
        resolution_due=ticket.resolution_due,
        clocks=[ClockPublic.model_validate(c, from_attributes=True) for c in found.clocks],
        events=[SlaEventPublic.model_validate(e, from_attributes=True) for e in found.events],
        watchers=[
            WatcherPublic(agent=a, level=lv) for a, lv in await repo.watchers(session, ticket.id)
        ],
    )


@router.post("/tickets/{ref}/de-escalate", response_model=TicketSummary)
async def post_deescalate(
    ref: str, body: DeescalateBody, session: SessionDep, ctx: CurrentAgent, runtime: RuntimeDep
) -> TicketSummary:
    """A supervisor steps the ticket down the matrix (one level, or to `level`)."""
    _supervisor(ctx)
    ticket = await tickets_service.ticket_for(session, ctx, ref, for_update=True)
    level = ticket.escalation_level - 1 if body.level is None else body.level
    level = 0 if level == 1 else level  # level 1 is the queue itself: not escalated
    if ticket.escalation_level == 0 or level >= ticket.escalation_level or level < 0:
        raise Conflict(
            f"ticket {ticket.ref} is at level {ticket.escalation_level}; "
            "de-escalation goes to a lower level"
        )
    now = runtime.clock.now()
    await escalation.deescalate(session, ticket, level, body.reason, now, actor_agent_id=ctx.id)
    await sla.refresh(session, ticket, now, notifier=runtime.notifier)
    return (await tickets_views.summaries(session, [ticket]))[0]


@router.get("/sla/overview", response_model=SlaOverview)
async def get_overview(session: SessionDep, ctx: CurrentAgent, runtime: RuntimeDep) -> SlaOverview:
    """Per queue: open tickets by SLA state, the next breaches, breaches in the last 24 h."""
    _supervisor(ctx)
    now = runtime.clock.now()
    entries = await overview.build(session, now)
    return SlaOverview(generated_at=now, queues=[QueueSla.model_validate(e) for e in entries])


@router.get("/me/shift", response_model=ShiftPublic)
async def get_my_shift(session: SessionDep, ctx: CurrentAgent) -> ShiftPublic:
    """Whether the caller is on shift, and where notices reach them."""
    return await _shift_public(session, ctx.agent)


@router.put("/me/shift", response_model=ShiftPublic)
async def put_my_shift(
    body: ShiftBody, session: SessionDep, ctx: CurrentAgent, runtime: RuntimeDep
) -> ShiftPublic:
    """Go on or off shift. Off: untouched tickets go back to their queue, or every open
    ticket to `hand_to`. Off shift, claims answer 409 and notices skip you."""
    return await _set(session, ctx, ctx.agent, body, runtime, by="agent")


@router.put("/agents/{name}/shift", response_model=ShiftPublic)
async def put_agent_shift(
    name: str, body: ShiftBody, session: SessionDep, ctx: CurrentAgent, runtime: RuntimeDep
) -> ShiftPublic:
    """A supervisor puts an agent on or off shift."""
    _supervisor(ctx)
    named = await repo.agents_named(session, [name])
    agent = named[0] if named else None
    if agent is None:
        raise NotFound(f"no active agent named {name!r}")
    return await _set(session, ctx, agent, body, runtime, by="supervisor")


@router.put("/me/contact", response_model=ShiftPublic)
async def put_my_contact(body: ContactBody, session: SessionDep, ctx: CurrentAgent) -> ShiftPublic:
    """Where escalation notices and warnings reach the caller: an email address, a
    Telegram chat id, and which of the two to use."""
    if body.notify_via == "telegram" and not body.telegram_chat_id:
        raise Conflict("notify_via telegram needs a telegram_chat_id")
    if body.notify_via == "email" and not body.email:
        raise Conflict("notify_via email needs an email")
    shift = await repo.shift_for_update(session, ctx.id)
    shift.email, shift.telegram_chat_id, shift.notify_via = (
        body.email,
        body.telegram_chat_id,
        body.notify_via,
    )
    await session.flush()
    return await _shift_public(session, ctx.agent)


async def _set(
    session: AsyncSession,
    ctx: AgentContext,
    agent: Agent,
    body: ShiftBody,
    runtime: RuntimeDep,
    *,
    by: str,
) -> ShiftPublic:
    change = await shifts.set_shift(
        session,
        agent,
        body.on_shift,
        runtime.clock.now(),
        by=by,
        actor_agent_id=ctx.id,
        hand_to=body.hand_to,
        notifier=runtime.notifier,
    )
    public = await _shift_public(session, agent)
    return public.model_copy(
        update={"returned": change.returned, "handed_over": change.handed_over}
    )


async def _shift_public(session: AsyncSession, agent: Agent) -> ShiftPublic:
    shift = (
        await session.execute(sa.select(AgentShift).where(col(AgentShift.agent_id) == agent.id))
    ).scalar_one_or_none()
    if shift is None:
        return ShiftPublic(
            agent=agent.name, on_shift=True, set_by="default", changed_at=None,
            email=None, telegram_chat_id=None, notify_via="email",
        )  # fmt: skip
    return ShiftPublic(
        agent=agent.name,
        on_shift=shift.on_shift,
        set_by=shift.set_by,
        changed_at=shift.changed_at,
        email=shift.email,
        telegram_chat_id=shift.telegram_chat_id,
        notify_via=shift.notify_via,
    )
