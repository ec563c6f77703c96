"""The CSAT report: asked, answered, average and response rate, by one dimension."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.agents.models import Agent
from gateway.csat.models import CsatSurvey
from gateway.queues.models import Queue


class CsatRow(BaseModel):
    key: str | None
    surveys: int
    count: int
    average: float | None
    response_rate: float | None


class CsatReport(BaseModel):
    from_: datetime = Field(serialization_alias="from")
    to: datetime
    group_by: str
    total: CsatRow
    items: list[CsatRow]


def _column(group_by: str) -> Any:
    return {
        "agent": col(Agent.name),
        "queue": col(Queue.name),
        "language": col(CsatSurvey.language),
        "channel": col(CsatSurvey.channel),
    }[group_by]


async def build(
    session: AsyncSession, *, start: datetime, end: datetime, group_by: str
) -> CsatReport:
    """`count` is the ratings received, `surveys` the surveys asked, both for surveys
    asked in the window; a rating given after the window still counts for its survey."""
    key = _column(group_by)
    answered = sa.func.count(col(CsatSurvey.rating))
    query = (
        sa.select(
            key, sa.func.count(col(CsatSurvey.id)), answered, sa.func.avg(col(CsatSurvey.rating))
        )
        .select_from(CsatSurvey)
        .outerjoin(Agent, col(Agent.id) == col(CsatSurvey.agent_id))
        .outerjoin(Queue, col(Queue.id) == col(CsatSurvey.queue_id))
        .where(col(CsatSurvey.created_at) >= start, col(CsatSurvey.created_at) < end)
        .group_by(key)
        .order_by(key)
    )
    rows = [_row(k, s, c, a) for k, s, c, a in await session.execute(query)]
    surveys = sum(r.surveys for r in rows)
    count = sum(r.count for r in rows)
    total_sum = sum((r.average or 0) * r.count for r in rows)
    total = CsatRow(
        key=None,
        surveys=surveys,
        count=count,
        average=round(total_sum / count, 2) if count else None,
        response_rate=round(count / surveys, 4) if surveys else None,
    )
    return CsatReport(from_=start, to=end, group_by=group_by, total=total, items=rows)


def _row(key: Any, surveys: int, count: int, average: Any) -> CsatRow:
    return CsatRow(
        key=None if key is None else str(key),
        surveys=int(surveys),
        count=int(count),
        average=round(float(average), 2) if average is not None else None,
        response_rate=round(count / surveys, 4) if surveys else None,
    )
