"""Console forms that change a ticket: each is the agent API's use case, one transaction,
after the origin and CSRF checks; a refusal re-renders the ticket with its reason."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.console.pages import render_ticket
from gateway.console.web import ConsoleUser, checked_form, redirect
from gateway.dependencies import RuntimeDep
from gateway.errors import GatewayError, InvalidRequest
from gateway.queues import service as queues_service
from gateway.routing import corrections
from gateway.runtime import Runtime
from gateway.tickets import service
from gateway.tickets.models import Category, Severity, Ticket, TicketStatus

router = APIRouter(prefix="/console/tickets", include_in_schema=False)
Action = Callable[[AsyncSession, Ticket, dict[str, str]], Awaitable[None]]
STATUSES = ("open", "pending_customer", "resolved", "closed")


async def _act(
    request: Request, ref: str, user: ConsoleUser, runtime: Runtime, action: Action
) -> Response:
    form = await checked_form(request, user)
    try:
        async with runtime.sessionmaker.begin() as session:
            ticket = await service.ticket_for(session, user.ctx, ref, for_update=True)
            await action(session, ticket, form)
    except GatewayError as exc:
        # The transaction rolled back whole; show the ticket as it is, with the reason.
        return await render_ticket(request, ref, user, runtime, error=exc)
    return redirect(f"/console/tickets/{ref}")


@router.post("/{ref}/reply")
async def reply(request: Request, ref: str, user: ConsoleUser, runtime: RuntimeDep) -> Response:
    async def run(session: AsyncSession, ticket: Ticket, form: dict[str, str]) -> None:
        await service.reply(
            session,
            user.ctx,
            ticket,
            form.get("text", ""),
            max_chars=runtime.settings.ingest.max_text_chars,
            notifier=runtime.notifier,
        )

    return await _act(request, ref, user, runtime, run)


@router.post("/{ref}/note")
async def note(request: Request, ref: str, user: ConsoleUser, runtime: RuntimeDep) -> Response:
    async def run(session: AsyncSession, ticket: Ticket, form: dict[str, str]) -> None:
        await service.note(
            session,
            user.ctx,
            ticket,
            form.get("text", ""),
            max_chars=runtime.settings.ingest.max_text_chars,
        )

    return await _act(request, ref, user, runtime, run)


@router.post("/{ref}/status")
async def status(request: Request, ref: str, user: ConsoleUser, runtime: RuntimeDep) -> Response:
    async def run(session: AsyncSession, ticket: Ticket, form: dict[str, str]) -> None:
        target = form.get("status", "")
        if target not in STATUSES:
            raise InvalidRequest(f"status must be one of {', '.join(STATUSES)}")
        await service.change_status(
            session, user.ctx, ticket, TicketStatus(target), runtime.notifier
        )

    return await _act(request, ref, user, runtime, run)


@router.post("/{ref}/transfer")
async def transfer(request: Request, ref: str, user: ConsoleUser, runtime: RuntimeDep) -> Response:
    async def run(session: AsyncSession, ticket: Ticket, form: dict[str, str]) -> None:
        await service.transfer(session, user.ctx, ticket, form.get("queue", ""), runtime.notifier)

    return await _act(request, ref, user, runtime, run)


@router.post("/{ref}/escalate")
async def escalate(request: Request, ref: str, user: ConsoleUser, runtime: RuntimeDep) -> Response:
    async def run(session: AsyncSession, ticket: Ticket, form: dict[str, str]) -> None:
        reason = form.get("reason", "").strip()
        if not reason or len(reason) > 2000:
            raise InvalidRequest("an escalation needs a reason (at most 2000 characters)")
        await service.escalate(session, user.ctx, ticket, reason, runtime.notifier)

    return await _act(request, ref, user, runtime, run)


@router.post("/{ref}/release")
async def release(request: Request, ref: str, user: ConsoleUser, runtime: RuntimeDep) -> Response:
    async def run(session: AsyncSession, ticket: Ticket, _form: dict[str, str]) -> None:
        await service.release(session, user.ctx, ticket, runtime.notifier)

    return await _act(request, ref, user, runtime, run)


@router.post("/{ref}/claim")
async def claim(request: Request, ref: str, user: ConsoleUser, runtime: RuntimeDep) -> Response:
    async def run(session: AsyncSession, ticket: Ticket, _form: dict[str, str]) -> None:
        await queues_service.claim_chosen(session, user.ctx, ticket)

    return await _act(request, ref, user, runtime, run)


@router.post("/{ref}/correct")
async def correct(request: Request, ref: str, user: ConsoleUser, runtime: RuntimeDep) -> Response:
    """The routing correction (category and severity), as PATCH /api/v1/tickets/{ref}."""

    async def run(session: AsyncSession, ticket: Ticket, form: dict[str, str]) -> None:
        category, severity = form.get("category", ""), form.get("severity", "")
        if category not in {str(c) for c in Category} or severity not in {str(s) for s in Severity}:
            raise InvalidRequest("choose a category and a severity")
        await corrections.correct(
            session,
            ticket,
            agent_id=user.ctx.id,
            may_act=ticket.assignee_id in (None, user.ctx.id) or user.ctx.sees_all,
            category=Category(category),
            severity=Severity(severity),
            notifier=runtime.notifier,
        )

    return await _act(request, ref, user, runtime, run)
