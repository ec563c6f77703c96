"""Risk JSON: an account with the cases behind each signal, a list page, a report."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.agents.models import Agent
from gateway.cases.models import DisputeCase, case_ref
from gateway.db import pk
from gateway.errors import InvalidRequest
from gateway.risk import repository as repo
from gateway.risk.models import RiskAccount, RiskReport
from gateway.risk.schemas import (
    AccountList,
    AccountPublic,
    AccountSummary,
    CaseBehind,
    ReportPublic,
    SignalPublic,
)
from gateway.tickets.models import ticket_ref


def encode_cursor(row: RiskAccount) -> str:
    raw = json.dumps([row.score, row.user_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        score, user_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(user_id, str) or not isinstance(score, int | float):
            raise ValueError
        return float(score), user_id
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidRequest("cursor is not one this list handed out") from None


async def page(
    session: AsyncSession, *, min_score: float, limit: int, cursor: str | None
) -> AccountList:
    after = decode_cursor(cursor) if cursor else None
    rows = await repo.ranked(session, min_score=min_score, limit=limit + 1, after=after)
    more = len(rows) > limit
    rows = rows[:limit]
    return AccountList(
        items=[
            AccountSummary(
                user_id=r.user_id,
                score=r.score,
                watchlisted=r.watchlisted,
                signals=[s["kind"] for s in r.signals],
                computed_at=r.computed_at,
            )
            for r in rows
        ],
        next_cursor=encode_cursor(rows[-1]) if more and rows else None,
    )


async def _names(session: AsyncSession, ids: set[int | None]) -> dict[int, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    rows = await session.execute(
        sa.select(pk(Agent.id), col(Agent.name)).where(col(Agent.id).in_(wanted))
    )
    return {i: n for i, n in rows.all()}


async def reports_public(session: AsyncSession, reports: list[RiskReport]) -> list[ReportPublic]:
    names = await _names(
        session, {r.reviewed_by for r in reports} | {r.reported_by for r in reports}
    )
    return [
        ReportPublic(
            id=r.id,  # type: ignore[arg-type]
            user_id=r.user_id,
            reason=r.reason,
            cases=[case_ref(c) for c in r.case_ids],
            score=r.score,
            ticket=ticket_ref(r.ticket_id),
            reported_by=names.get(r.reported_by, "?"),
            status=r.status,  # type: ignore[arg-type]
            sent_via=r.sent_via,
            reviewed_by=names.get(r.reviewed_by) if r.reviewed_by else None,
            reviewed_at=r.reviewed_at,
            review_note=r.review_note,
            created_at=r.created_at,
        )
        for r in reports
    ]


async def account_public(
    session: AsyncSession,
    user_id: str,
    row: RiskAccount | None,
    *,
    threshold: float,
    now: datetime,
) -> AccountPublic:
    """One account with the cases behind each signal; an account nothing fired for (or
    never seen) is a score of 0 with no signals, not a 404: absence is an answer."""
    raw = row.signals if row else []
    case_ids = {c for s in raw for c in s.get("cases", [])}
    cases: dict[int, DisputeCase] = {}
    if case_ids:
        found = await session.scalars(
            sa.select(DisputeCase).where(col(DisputeCase.id).in_(case_ids))
        )
        cases = {c.id: c for c in found if c.id is not None}
    signals = [
        SignalPublic(
            kind=s["kind"],
            weight=s["weight"],
            sentence=s["sentence"],
            cases=[
                CaseBehind(
                    id=c.id, ref=c.ref, order_ref=c.order_ref, status=c.status,  # type: ignore[arg-type]
                    opened_at=c.opened_at,
                )
                for cid in s.get("cases", [])
                if (c := cases.get(cid)) is not None
            ],
            orders=list(s.get("orders", [])),
        )
        for s in raw
    ]  # fmt: skip
    score = row.score if row else 0.0
    watch = bool(row and row.watchlisted)
    return AccountPublic(
        user_id=user_id,
        score=score,
        watchlisted=watch,
        watchlisted_at=row.watchlisted_at if row else None,
        route_threshold=threshold,
        above_threshold=watch or (threshold > 0 and score >= threshold),
        signals=signals,
        dismissals=dict(row.dismissals) if row else {},
        reports=await reports_public(session, await repo.reports_of(session, user_id)),
        computed_at=row.computed_at if row else now,
    )
