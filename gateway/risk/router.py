"""Risk over HTTP: the suspicious-account list, one account's signals with the cases
behind them, and reports of suspicious accounts with their review."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from gateway.dependencies import RuntimeDep, SessionDep
from gateway.risk import repository as repo
from gateway.risk import service, view
from gateway.risk.dependencies import RiskReviewer
from gateway.risk.schemas import USER_ID_PATTERN, AccountList, AccountPublic

FORBIDDEN = {403: {"description": "Not a supervisor, admin or agent of the risk queue"}}
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
