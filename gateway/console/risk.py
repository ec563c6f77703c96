"""Risk in the console: the riskiest accounts by score with their strongest reasons,
and one account's signals with the cases behind each and a form to report it.

The pages read through the risk API's own pieces (the same access rule, the same
refresh-then-view of one account, the same report service), so the console never
says more or less than `GET /api/v1/risk/accounts` does. Choices the issue leaves open:
the list shows the 100 highest scores at or above `min_score` (default 1, so accounts
with nothing against them stay off it) with each account's two heaviest signal
sentences; the report form's cases field takes refs (`C-12`) separated by commas or
spaces and is prefilled with every case behind the account's signals.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from gateway.cases import repository as cases_repo
from gateway.cases import service as cases_service
from gateway.console.sessions import SignedIn
from gateway.console.web import ConsoleUser, checked_form, error_page, redirect, render
from gateway.dependencies import RuntimeDep
from gateway.errors import Forbidden, GatewayError, InvalidRequest
from gateway.risk import reports, service, view
from gateway.risk import repository as repo
from gateway.risk.dependencies import is_risk_reviewer
from gateway.risk.schemas import ReportCreate
from gateway.runtime import Runtime

router = APIRouter(prefix="/console/risk", include_in_schema=False)
LIST_LIMIT = 100
TOP_SIGNALS = 2
USER_ID = re.compile(r"^[^\x00-\x1f\x7f]{1,200}$")


async def _allowed(user: SignedIn, runtime: Runtime) -> bool:
    async with runtime.sessionmaker() as session:
        return await is_risk_reviewer(session, user.ctx, runtime.settings.risk.queue)


def _forbidden(request: Request, user: SignedIn, runtime: Runtime) -> Response:
    queue = runtime.settings.risk.queue
    exc = Forbidden(f"risk is for supervisors and agents of the {queue!r} queue")
    return error_page(request, user, exc)


@router.get("")
async def accounts_page(
    request: Request, user: ConsoleUser, runtime: RuntimeDep, min_score: str = "1"
) -> Response:
    if not await _allowed(user, runtime):
        return _forbidden(request, user, runtime)
    try:
        floor = float(min_score)
        if not 0 <= floor <= 100_000:
            raise ValueError
    except ValueError:
        return error_page(
            request, user, InvalidRequest("min_score must be a number from 0 to 100000")
        )
    async with runtime.sessionmaker() as session:
        rows = await repo.ranked(session, min_score=floor, limit=LIST_LIMIT, after=None)
    accounts = [
        {
            "user_id": r.user_id,
            "score": r.score,
            "watchlisted": r.watchlisted,
            "reasons": [
                s["sentence"] for s in sorted(r.signals, key=lambda s: -s["weight"])[:TOP_SIGNALS]
            ],
        }
        for r in rows
    ]
    return render(request, "risk.html", user, accounts=accounts, min_score=min_score)


async def _account(
    request: Request,
    user_id: str,
    user: SignedIn,
    runtime: Runtime,
    error: GatewayError | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    if not USER_ID.match(user_id):
        return error_page(request, user, InvalidRequest("not an exchange user id"))
    now = runtime.clock.now()
    async with runtime.sessionmaker.begin() as session:
        stored = await service.refresh(session, [user_id], now=now)
        row = stored.get(user_id) or await repo.account(session, user_id)
        account = await view.account_public(
            session, user_id, row, threshold=runtime.settings.risk.route_threshold, now=now
        )
        # A case links to its console page (and goes in the form) only when it opens
        # for this reviewer: a risk-queue agent may not see the general queue's cases.
        visible: set[str] = set()
        for case_id in sorted({c.id for s in account.signals for c in s.cases}):
            case = await cases_repo.get_case(session, case_id)
            if case is not None and await cases_service.may_see(session, user.ctx, case):
                visible.add(case.ref)
    behind = sorted(visible, key=lambda ref: int(ref.removeprefix("C-")))
    values: dict[str, Any] = {
        "reason": (form or {}).get("reason", ""),
        "cases": (form or {}).get("cases", " ".join(behind)),
    }
    return render(
        request,
        "risk_account.html",
        user,
        status_code=error.status_code if error else 200,
        error=error.detail if error else None,
        account=account,
        visible=visible,
        form=values,
    )


@router.get("/{user_id}")
async def account_page(
    request: Request, user_id: str, user: ConsoleUser, runtime: RuntimeDep
) -> Response:
    if not await _allowed(user, runtime):
        return _forbidden(request, user, runtime)
    return await _account(request, user_id, user, runtime)


@router.post("/{user_id}/report")
async def report(
    request: Request, user_id: str, user: ConsoleUser, runtime: RuntimeDep
) -> Response:
    """The API's report, from the account page: a risk ticket in the risk queue; back
    on the account page, the report is listed with its ticket."""
    form = await checked_form(request, user)
    if not await _allowed(user, runtime):
        return _forbidden(request, user, runtime)
    try:
        try:
            body = ReportCreate(
                user_id=user_id,
                reason=form.get("reason", "").strip(),
                cases=form.get("cases", "").replace(",", " ").split(),
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise InvalidRequest(f"{where}: {first['msg']}") from None
        async with runtime.sessionmaker.begin() as session:
            created = await reports.create(
                session,
                user.ctx,
                user_id=body.user_id,
                reason=body.reason,
                case_refs=body.cases,
                settings=runtime.settings.risk,
                notifier=runtime.notifier,
                now=runtime.clock.now(),
            )
    except GatewayError as exc:
        return await _account(request, user_id, user, runtime, exc, form)
    del created  # listed on the account page with its ticket
    return redirect(f"/console/risk/{quote(user_id, safe='')}")
