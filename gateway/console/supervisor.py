"""The supervisor's page: SLA by queue, escalations waiting, agents and their load.

Queue counts, due times, escalation flags and assignments, plus the SLA service's
overview (tickets by SLA state, next breaches, breaches in 24 h) and who is off shift.
The loss panel draws the last weeks' net loss by category and by payment method
(gateway/console/losses.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlmodel import col

from gateway.agents.models import Agent
from gateway.console import i18n, queries
from gateway.console import losses as losses_panel
from gateway.console.web import ConsoleUser, error_page, render
from gateway.db import utcnow
from gateway.dependencies import RuntimeDep
from gateway.errors import Forbidden
from gateway.queues import repository as queues_repo
from gateway.sla import overview as sla_overview
from gateway.sla.models import AgentShift
from gateway.sla.schemas import QueueSla
from gateway.tickets import views as tickets_views
from gateway.tickets.models import Ticket

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/supervisor")
async def supervisor_page(request: Request, user: ConsoleUser, runtime: RuntimeDep) -> HTMLResponse:
    if not user.ctx.sees_all:
        exc = Forbidden("the supervisor page is for supervisors and admins")
        return error_page(request, user, exc)
    now = utcnow()
    async with runtime.sessionmaker() as session:
        queues = await queues_repo.queues_by_ids(session, None)
        ids = [q.id for q in queues]
        stats = await queues_repo.queue_stats(session, ids)  # type: ignore[arg-type]
        overdue_rows = await session.execute(
            sa.select(col(Ticket.queue_id), sa.func.count())
            .where(
                col(Ticket.status).in_(queries.ACTIVE),
                col(Ticket.first_responded_at).is_(None),
                col(Ticket.first_response_due) < now,
            )
            .group_by(col(Ticket.queue_id))
        )
        overdue: dict[int | None, int] = {row[0]: row[1] for row in overdue_rows}
        escalations = await tickets_views.summaries(
            session, await queries.escalations_waiting(session)
        )
        agents = await queries.agent_loads(session)
        # The SLA issue's overview (states, next breaches, breaches in 24 h) and shifts.
        sla_states = [
            QueueSla.model_validate(e)
            for e in await sla_overview.build(session, runtime.clock.now())
        ]
        off_shift = set(
            (
                await session.execute(
                    sa.select(col(Agent.name))
                    .join(AgentShift, col(AgentShift.agent_id) == col(Agent.id))
                    .where(col(AgentShift.on_shift).is_(False))
                )
            ).scalars()
        )
        losses = await losses_panel.panel(
            session,
            currency=runtime.settings.reports.currency,
            now=runtime.clock.now(),
            t=i18n.translator(i18n.pick(request)),
        )
    sla = [
        {
            "name": q.name,
            "open": stats.get(q.id, (0, 0, None))[0],  # type: ignore[arg-type]
            "unassigned": stats.get(q.id, (0, 0, None))[1],  # type: ignore[arg-type]
            "next_due": stats.get(q.id, (0, 0, None))[2],  # type: ignore[arg-type]
            "overdue": overdue.get(q.id, 0),
        }
        for q in queues
    ]
    return render(
        request,
        "supervisor.html",
        user,
        sla=sla,
        escalations=escalations,
        agents=agents,
        sla_states=sla_states,
        off_shift=off_shift,
        losses=losses,
    )
