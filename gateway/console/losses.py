"""The supervisor page's loss panel: the last weeks' net loss as a stacked bar per week
by category and a line per payment method, each an inline SVG with a text alternative
(a title, a description and the figures as a table)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.reports import charts, report

WEEKS = 8


async def panel(
    session: AsyncSession, *, currency: str, now: datetime, t: Any
) -> list[dict[str, Any]]:
    """Two charts of the last WEEKS weeks (this one included)."""
    start = datetime.combine(
        (now - timedelta(weeks=WEEKS - 1)).date() - timedelta(days=now.weekday()),
        datetime.min.time(),
        now.tzinfo,
    )
    out = []
    specs: list[tuple[str, Literal["stacked", "lines"], str]] = [
        ("category", "stacked", "losses_by_category"),
        ("payment_method", "lines", "losses_by_payment_method"),
    ]
    for dimension, kind, label in specs:
        built = await report.build(
            session,
            start=start,
            end=now,
            group_by=["week", dimension],
            currency=currency,
        )
        chart = charts.by_week(built, dimension, kind)
        chart.title = t(label, currency=currency)
        out.append(
            {
                "id": f"losses-{dimension}",
                "title": chart.title,
                "svg": charts.svg(chart, f"losses-{dimension}"),
                "weeks": chart.x_labels,
                "series": [(s.name, [f"{v:,}" for v in s.values]) for s in chart.series],
                "total": f"{built.totals.net_loss:,}",
                "cases": built.totals.cases,
            }
        )
    return out
