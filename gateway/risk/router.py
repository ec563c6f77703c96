"""Risk over HTTP: the suspicious-account list, one account's signals with the cases
behind them, and reports of suspicious accounts with their review."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from gateway.agents.dependencies import CurrentAgent
from gateway.dependencies import RuntimeDep, SessionDep
from gateway.errors import NotFound
from gateway.risk import reports, service, view
from gateway.risk import repository as repo
from gateway.risk.dependencies import RiskReviewer
from gateway.risk.schemas import (
    USER_ID_PATTERN,
    AccountList,
    AccountPublic,
    ReportCreate,
    ReportPublic,
    ReviewBody,
)
from gateway.validation import IdPath

FORBIDDEN: dict[int | str, dict[str, Any]] = {
    403: {"description": "Not a supervisor, admin or agent of the risk queue"}
}
router = APIRouter(prefix="/api/v1/risk", tags=["risk"], responses=FORBIDDEN)
UserId = Annotated[
    str, Path(min_length=1, max_length=200, pattern=USER_ID_PATTERN, description="Exchange user id")
]


@router.get("/accounts", response_model=AccountList)
async def list_accounts(
    session: SessionDep,
    _ctx: RiskReviewer,
    min_score: Annotated[float, Query(ge=0, le=100_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=600)] = None,
) -> AccountList:
    """Scored and watchlisted accounts, highest score first (ties by user id). Scores
    are kept current as order facts and case links arrive."""
    return await view.page(session, min_score=min_score, limit=limit, cursor=cursor)


@router.get("/accounts/{user_id}", response_model=AccountPublic)
async def get_account(
    user_id: UserId, session: SessionDep, _ctx: RiskReviewer, runtime: RuntimeDep
) -> AccountPublic:
    """One account's signals, each with its weight, its sentence and the cases behind
    it; recomputed from the facts on every read. Never seen: score 0, no signals."""
    now = runtime.clock.now()
    stored = await service.refresh(session, [user_id], now=now)
    row = stored.get(user_id) or await repo.account(session, user_id)
    return await view.account_public(
        session, user_id, row, threshold=runtime.settings.risk.route_threshold, now=now
    )


@router.post(
    "/reports",
    status_code=201,
    response_model=ReportPublic,
    responses={404: {"description": "A linked case the caller cannot see"}},
)
async def create_report(
    body: ReportCreate, session: SessionDep, ctx: CurrentAgent, runtime: RuntimeDep
) -> ReportPublic:
    """Report a suspicious account (any agent, linking cases they can see): opens a risk
    ticket in the risk queue, audited, and sends the report to the exchange's risk
    system (the `risk.report_created` webhook, else GATEWAY_RISK_REPORT_EMAIL)."""
    report = await reports.create(
        session,
        ctx,
        user_id=body.user_id,
        reason=body.reason,
        case_refs=body.cases,
        settings=runtime.settings.risk,
        notifier=runtime.notifier,
        now=runtime.clock.now(),
    )
    [public] = await view.reports_public(session, [report])
    return public


@router.get("/reports/{report_id}", response_model=ReportPublic, responses={404: {}})
async def get_report(report_id: IdPath, session: SessionDep, _ctx: RiskReviewer) -> ReportPublic:
    report = await repo.report(session, report_id)
    if report is None:
        raise NotFound(f"no risk report {report_id}")
    [public] = await view.reports_public(session, [report])
    return public


async def _review(
    report_id: int, body: ReviewBody, session: SessionDep, ctx: RiskReviewer, runtime: RuntimeDep,
    *, confirm: bool,
) -> ReportPublic:  # fmt: skip
    report = await reports.review(
        session, ctx, report_id, confirm=confirm, note=body.note, now=runtime.clock.now()
    )
    [public] = await view.reports_public(session, [report])
    return public


REVIEW_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such report"},
    409: {"description": "Already confirmed or dismissed"},
}


@router.post("/reports/{report_id}/confirm", response_model=ReportPublic, responses=REVIEW_ERRORS)
async def confirm_report(
    report_id: IdPath, body: ReviewBody, session: SessionDep, ctx: RiskReviewer, runtime: RuntimeDep
) -> ReportPublic:
    """A risk reviewer other than the reporter confirms: the account goes on the
    watchlist routing reads."""
    return await _review(report_id, body, session, ctx, runtime, confirm=True)


@router.post("/reports/{report_id}/dismiss", response_model=ReportPublic, responses=REVIEW_ERRORS)
async def dismiss_report(
    report_id: IdPath, body: ReviewBody, session: SessionDep, ctx: RiskReviewer, runtime: RuntimeDep
) -> ReportPublic:
    """A risk reviewer other than the reporter dismisses: each signal the report named
    weighs less for this account from now on."""
    return await _review(report_id, body, session, ctx, runtime, confirm=False)
