"""Dispute cases in the console: both parties side by side with the order facts, the
evidence to review and the decision form, on the cases service of the agent API."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import col

from gateway.cases import decisions, service, view
from gateway.cases import router as cases_api
from gateway.cases.models import CaseTicket, DecisionOutcome, ReviewState, case_ref
from gateway.console.web import ConsoleUser, checked_form, error_page, redirect, render
from gateway.dependencies import RuntimeDep
from gateway.errors import GatewayError, InvalidRequest
from gateway.runtime import Runtime

router = APIRouter(prefix="/console/cases", include_in_schema=False)
REVIEW_STATES = tuple(str(s) for s in ReviewState)


async def case_of_ticket(session: object, ticket_id: int) -> str | None:
    """The reference of the case a ticket is linked to, if any (for the ticket page)."""
    row = await session.execute(  # type: ignore[attr-defined]
        sa.select(col(CaseTicket.case_id)).where(
            col(CaseTicket.ticket_id) == ticket_id, col(CaseTicket.unlinked_at).is_(None)
        )
    )
    case_id = row.scalars().first()
    return case_ref(case_id) if case_id is not None else None


@router.get("")
async def cases_page(request: Request, user: ConsoleUser, runtime: RuntimeDep) -> Response:
    async with runtime.sessionmaker() as session:
        cases = await view.search(
            session, user.ctx, order_ref=None, status=None, party=None, limit=100, cursor=None
        )
    return render(request, "cases.html", user, cases=cases.items)


@router.get("/{ref}")
async def case_page(request: Request, ref: str, user: ConsoleUser, runtime: RuntimeDep) -> Response:
    return await _render(request, ref, user, runtime)


async def _render(
    request: Request,
    ref: str,
    user: ConsoleUser,
    runtime: Runtime,
    error: GatewayError | None = None,
) -> Response:
    try:
        async with runtime.sessionmaker() as session:
            case = await service.case_for(session, user.ctx, ref)
            public = await view.public(session, case, runtime.clock.now())
    except GatewayError as exc:
        return error_page(request, user, exc)
    return render(
        request,
        "case.html",
        user,
        status_code=error.status_code if error else 200,
        error=error.detail if error else None,
        case=public,
        outcomes=[str(o) for o in DecisionOutcome],
        review_states=REVIEW_STATES,
    )


@router.get("/{ref}/evidence/{evidence_id}/file")
async def evidence_file(
    ref: str, evidence_id: int, user: ConsoleUser, runtime: RuntimeDep
) -> Response:
    """The evidence bytes as the agent API serves them: always a download."""
    async with runtime.sessionmaker() as session:
        return await cases_api.evidence_file(ref, evidence_id, session, user.ctx, runtime)


@router.post("/{ref}/evidence/{evidence_id}/review")
async def review(
    request: Request, ref: str, evidence_id: int, user: ConsoleUser, runtime: RuntimeDep
) -> Response:
    form = await checked_form(request, user)
    try:
        state = form.get("state", "")
        if state not in REVIEW_STATES:
            raise InvalidRequest(f"state must be one of {', '.join(REVIEW_STATES)}")
        async with runtime.sessionmaker.begin() as session:
            case = await service.case_for(session, user.ctx, ref)
            await service.review(
                session,
                user.ctx,
                case,
                evidence_id,
                ReviewState(state),
                form.get("reason") or None,
                now=runtime.clock.now(),
            )
    except GatewayError as exc:
        return await _render(request, ref, user, runtime, exc)
    return redirect(f"/console/cases/{ref}")


@router.post("/{ref}/decision")
async def decide(request: Request, ref: str, user: ConsoleUser, runtime: RuntimeDep) -> Response:
    form = await checked_form(request, user)
    try:
        outcome = form.get("outcome", "")
        if outcome not in {str(o) for o in DecisionOutcome}:
            raise InvalidRequest("choose an outcome")
        reason = form.get("reason", "").strip()
        if not reason:
            raise InvalidRequest("a decision needs its reason on record")
        async with runtime.sessionmaker.begin() as session:
            case = await service.case_for(session, user.ctx, ref, for_update=True)
            await decisions.decide(
                session,
                user.ctx,
                case,
                DecisionOutcome(outcome),
                reason,
                settings=runtime.settings.cases,
                max_chars=runtime.settings.ingest.max_text_chars,
                notifier=runtime.notifier,
                now=runtime.clock.now(),
            )
    except GatewayError as exc:
        return await _render(request, ref, user, runtime, exc)
    return redirect(f"/console/cases/{ref}")
