"""Console pages an agent reads: queues, a queue's tickets, one ticket, its files."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gateway.agents.schemas import QueuePublic
from gateway.console import queries
from gateway.console.canned_offer import offers_for
from gateway.console.cases import case_of_ticket
from gateway.console.web import ConsoleUser, checked_form, error_page, redirect, render
from gateway.dependencies import RuntimeDep
from gateway.errors import Forbidden, GatewayError, NotFound
from gateway.queues import repository as queues_repo
from gateway.queues import service as queues_service
from gateway.tickets import service as tickets_service
from gateway.tickets import views as tickets_views
from gateway.tickets.models import Category, Severity, TicketStatus
from gateway.tickets.router import get_attachment

router = APIRouter(prefix="/console", include_in_schema=False)
Filter = Annotated[str, Query(max_length=100)]


@router.get("/queues")
async def queues_page(request: Request, user: ConsoleUser, runtime: RuntimeDep) -> HTMLResponse:
    """The agent's queues with open and unassigned counts and the next SLA due."""
    ctx = user.ctx
    async with runtime.sessionmaker() as session:
        queues = await queues_repo.queues_by_ids(session, None if ctx.sees_all else ctx.queue_ids)
        stats = await queues_repo.queue_stats(session, [q.id for q in queues])  # type: ignore[misc]
    rows = [
        QueuePublic(
            name=q.name,
            description=q.description,
            escalates_to=None,
            open=stats.get(q.id, (0, 0, None))[0],  # type: ignore[arg-type]
            unassigned=stats.get(q.id, (0, 0, None))[1],  # type: ignore[arg-type]
            oldest_due=stats.get(q.id, (0, 0, None))[2],  # type: ignore[arg-type]
        )
        for q in queues
    ]
    notice = "no_ticket_came" if request.query_params.get("none") else None
    return render(request, "queues.html", user, queues=rows, notice=notice)


@router.get("/queues/{name}")
async def queue_page(
    request: Request,
    name: str,
    user: ConsoleUser,
    runtime: RuntimeDep,
    status: Filter = "",
    severity: Filter = "",
    category: Filter = "",
    language: Filter = "",
    channel: Filter = "",
    assignee: Filter = "",
    order: Filter = "due",
) -> HTMLResponse:
    """A queue's tickets with filters and SLA countdowns."""
    filters = queries.TicketFilters(status, severity, category, language, channel, assignee, order)
    async with runtime.sessionmaker() as session:
        queue = await queues_repo.queue_by_name(session, name)
        if queue is None:
            return error_page(request, user, NotFound(f"no queue named {name!r}"))
        if not user.ctx.can_work_queue(queue.id):  # type: ignore[arg-type]
            return error_page(request, user, Forbidden(f"queue {name!r} is not one of yours"))
        tickets = await queries.queue_tickets(session, queue.id, filters, user.ctx.id)  # type: ignore[arg-type]
        summaries = await tickets_views.summaries(session, tickets)
        facets = await queries.facet_values(session, queue.id)  # type: ignore[arg-type]
    t_options = {
        "status": [(str(s), str(s)) for s in TicketStatus],
        "severity": [(str(s), str(s)) for s in Severity],
        "category": [(str(c), str(c)) for c in Category],
        "language": [(lang, lang) for lang in facets["language"]],
        "channel": [(c, c) for c in ("email", "telegram", "webchat")],
        "assignee": [("me", "me"), ("none", "none"), *((a, a) for a in facets["assignee"])],
    }
    return render(
        request,
        "queue.html",
        user,
        queue=queue,
        tickets=summaries,
        filters=filters,
        filter_options=t_options,
        orders=queries.ORDERS,
        notice="no_ticket_came" if request.query_params.get("none") else None,
    )


@router.post("/claim")
async def claim_next(request: Request, user: ConsoleUser, runtime: RuntimeDep) -> Response:
    """Claim the most urgent ticket of one queue (or all of the agent's), waiting for one
    to arrive (long poll) before saying none came."""
    form = await checked_form(request, user)
    queue_name = form.get("queue", "")
    ctx = user.ctx
    try:
        if queue_name:
            async with runtime.sessionmaker() as session:
                queue = await queues_repo.queue_by_name(session, queue_name)
            if queue is None or not ctx.can_work_queue(queue.id):  # type: ignore[arg-type]
                raise Forbidden(f"queue {queue_name!r} is not one of yours")
            queue_ids = [queue.id]
        else:
            async with runtime.sessionmaker() as session:
                queues = await queues_repo.queues_by_ids(
                    session, None if ctx.sees_all else ctx.queue_ids
                )
            queue_ids = [q.id for q in queues]
        ticket = await queues_service.claim(
            runtime,
            ctx,
            queue_ids,  # type: ignore[arg-type]
            runtime.settings.console.claim_wait_seconds,
        )
    except GatewayError as exc:
        return error_page(request, user, exc)
    if ticket is None:
        back = f"/console/queues/{queue_name}" if queue_name else "/console/queues"
        return _go(request, f"{back}?none=1")
    return _go(request, f"/console/tickets/{ticket.ref}")


@router.get("/tickets/{ref}")
async def ticket_page(
    request: Request, ref: str, user: ConsoleUser, runtime: RuntimeDep
) -> HTMLResponse:
    return await render_ticket(request, ref, user, runtime)


async def render_ticket(
    request: Request,
    ref: str,
    user: ConsoleUser,
    runtime: RuntimeDep,
    *,
    error: GatewayError | None = None,
) -> HTMLResponse:
    """The ticket page; with `error`, the failed action's reason on top and its status."""
    try:
        async with runtime.sessionmaker() as session:
            ticket = await tickets_service.ticket_for(session, user.ctx, ref)
            public = await tickets_views.public(session, ticket)
            events = await tickets_views.events(session, ticket)
            channels = await queries.message_channels(session, (m.id for m in public.messages))
            queue_names = await queries.queue_names(session)
            offers = await offers_for(session, public, user.ctx.agent.name)
            case = await case_of_ticket(session, ticket.id)  # type: ignore[arg-type]
    except GatewayError as exc:
        return error_page(request, user, exc)
    return render(
        request,
        "ticket.html",
        user,
        status_code=error.status_code if error else 200,
        error=error.detail if error else None,
        ticket=public,
        events=events,
        channels=channels,
        queue_names=queue_names,
        last_id=public.messages[-1].id if public.messages else 0,
        offers=offers,
        case_ref=case,
        confidence=ticket.routing_confidence,
        categories=[str(c) for c in Category],
        severities=[str(s) for s in Severity],
    )


@router.get("/tickets/{ref}/attachments/{attachment_id}")
async def attachment(
    ref: str, attachment_id: int, user: ConsoleUser, runtime: RuntimeDep
) -> Response:
    """The file as the agent API serves it: a download with a sandboxing CSP; only raster
    images keep their type (so <img> shows them), never HTML or SVG."""
    async with runtime.sessionmaker() as session:
        return await get_attachment(ref, attachment_id, session, user.ctx, runtime)


def _go(request: Request, url: str) -> RedirectResponse | Response:
    # htmx follows HX-Redirect with a full page load; a plain form gets a 303.
    if request.headers.get("hx-request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": url})
    return redirect(url)
