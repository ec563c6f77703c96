"""The loss-trend report: totals, counts, week-over-week change and top movers of the
loss figures of cases decided in a window, grouped by one or several dimensions.

Read from `case_loss` alone (one row per case, dimensions copied in when the figures
were set): one grouped query by week and the asked dimensions, folded here. Money is in
the reporting currency; cases whose figures were converted into another (the setting
changed since) are counted apart in `other_currency_cases`, never added in.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.errors import InvalidRequest
from gateway.reports.models import CaseLoss
from gateway.reports.service import from_minor, week_of

DIMENSIONS: dict[str, Any] = {
    "week": col(CaseLoss.week),
    "category": col(CaseLoss.category),
    "payment_method": col(CaseLoss.payment_method),
    "fiat_currency": col(CaseLoss.currency),
    "asset": col(CaseLoss.asset),
    "channel": col(CaseLoss.channel),
    "language": col(CaseLoss.language),
    "queue": col(CaseLoss.queue),
    "reason_code": col(CaseLoss.reason_code),
}
SUMS = ("in_dispute", "lost_buyer", "lost_seller", "lost_exchange", "recovered")
FIGURE_COLUMNS = (*SUMS, "lost", "net_loss")
MAX_WEEKS = 5 * 53
# Groups shown by default (the largest net losses); `limit` raises it up to MAX_LIMIT.
DEFAULT_LIMIT = 1000
MAX_LIMIT = 100_000


class Figures(BaseModel):
    cases: int
    in_dispute: Decimal
    lost_buyer: Decimal
    lost_seller: Decimal
    lost_exchange: Decimal
    lost: Decimal = Field(description="Buyer + seller + exchange")
    recovered: Decimal
    net_loss: Decimal = Field(description="Lost minus recovered")


class Change(BaseModel):
    """Net loss against the week before."""

    previous_net_loss: Decimal
    net_loss_change: Decimal
    net_loss_change_pct: float | None = Field(description="None when the week before had none")


class Item(Figures):
    key: dict[str, str | None]
    change: Change | None = Field(default=None, description="Week over week (when grouped by week)")


class Week(Figures):
    week: date
    change: Change | None


class Mover(BaseModel):
    key: dict[str, str | None]
    week: date
    net_loss: Decimal
    change: Change


class LossReport(BaseModel):
    from_: datetime = Field(serialization_alias="from")
    to: datetime
    group_by: list[str]
    reporting_currency: str
    totals: Figures
    week_over_week: Change | None = Field(description="The last week against the one before")
    weeks: list[Week] = Field(description="Every week of the window, empty ones too")
    items: list[Item] = Field(description="The `limit` groups of largest net loss")
    groups: int = Field(description="How many groups there are (items may show fewer)")
    top_movers: list[Mover] = Field(
        description="Groups whose net loss changed most from the week before to the last"
    )
    other_currency_cases: int = Field(
        description="Cases converted into another reporting currency: not in the figures"
    )


@dataclass
class _Sum:
    cases: int = 0
    minor: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SUMS, 0))

    def add(self, other: _Sum) -> None:
        self.cases += other.cases
        for k in SUMS:
            self.minor[k] += other.minor[k]

    @property
    def net(self) -> int:
        m = self.minor
        return m["lost_buyer"] + m["lost_seller"] + m["lost_exchange"] - m["recovered"]


def parse_group_by(values: list[str] | None) -> list[str]:
    """`week,category` or repeated parameters; unknown names are a 422 naming the known."""
    names = [p.strip() for v in values or ["week"] for p in v.split(",") if p.strip()]
    unknown = [n for n in names if n not in DIMENSIONS]
    if unknown or not names:
        raise InvalidRequest(
            f"group_by {', '.join(unknown) or '(empty)'} is not one of {', '.join(DIMENSIONS)}"
        )
    return list(dict.fromkeys(names))


def parse_moment(value: str | None, name: str, *, end: bool) -> datetime | None:
    """A date (`2026-11-30`: from its start; as `to`, through its end) or an ISO time
    (without a zone read as UTC)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day + timedelta(days=1 if end else 0), time(), UTC)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        raise InvalidRequest(
            f"{name} {value!r} is not a date (YYYY-MM-DD) or an ISO 8601 time"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def window(
    start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """[start, end); default the last 8 weeks up to now."""
    end = end or now
    try:
        start = start or end - timedelta(weeks=8)
    except OverflowError:
        raise InvalidRequest("to is too early: give a date after the year 1") from None
    if start >= end:
        raise InvalidRequest("from must be before to")
    if (end - start).days > MAX_WEEKS * 7:
        raise InvalidRequest(f"the window is longer than {MAX_WEEKS} weeks: narrow from/to")
    return start, end


async def build(
    session: AsyncSession,
    *,
    start: datetime,
    end: datetime,
    group_by: list[str],
    currency: str,
    top: int = 5,
    limit: int = DEFAULT_LIMIT,
) -> LossReport:
    dims = [d for d in group_by if d != "week"]
    columns = [DIMENSIONS[d] for d in dims]
    query = (
        sa.select(
            col(CaseLoss.reporting_currency),
            col(CaseLoss.week),
            *columns,
            sa.func.count(),
            # Sums of minor units as bigint: plain ints from the driver, no Decimal per row.
            *[sa.cast(sa.func.sum(getattr(CaseLoss, f"{k}_minor")), sa.BigInteger) for k in SUMS],
        )
        .where(col(CaseLoss.decided_at) >= start, col(CaseLoss.decided_at) < end)
        .group_by(col(CaseLoss.reporting_currency), col(CaseLoss.week), *columns)
    )
    if session.get_bind().dialect.name == "postgresql":
        # The window's selectivity varies from a day to years: a generic plan of the
        # prepared statement (after five runs) guesses a few rows and sorts a million
        # (1.3 s instead of 0.5 s at 1,000,000 cases); plan each run for its window.
        await session.execute(sa.text("SET LOCAL plan_cache_mode = force_custom_plan"))
        # Room to hash-aggregate many groups instead of sorting the window's rows by
        # text (0.8 s instead of 3.8 s for three dimensions over 1,000,000 cases); for
        # this transaction only, and PostgreSQL spills to disk past it rather than fail.
        await session.execute(sa.text("SET LOCAL work_mem = '32MB'"))
    cells: dict[tuple[date, tuple[Any, ...]], _Sum] = {}
    other = 0
    for row in await session.execute(query):
        cur, week, keys = row[0], row[1], tuple(row[2 : 2 + len(dims)])
        count, sums = row[2 + len(dims)], row[3 + len(dims) :]
        if cur != currency:
            other += int(count)
            continue
        cells[(_as_date(week), keys)] = _Sum(
            int(count), {k: int(v or 0) for k, v in zip(SUMS, sums, strict=True)}
        )

    weeks = _weeks(start, end)
    by_week: dict[date, _Sum] = {w: _Sum() for w in weeks}
    by_key: dict[tuple[Any, ...], _Sum] = {}
    total = _Sum()
    for (week, keys), s in cells.items():
        by_week.setdefault(week, _Sum()).add(s)
        total.add(s)
        item_key = (week, *keys) if "week" in group_by else keys
        by_key.setdefault(item_key, _Sum()).add(s)

    def figures(s: _Sum) -> dict[str, Any]:
        return _figures(s, currency)

    week_list = sorted(by_week)
    week_rows = [
        Week(
            week=w,
            change=_change(by_week[week_list[i - 1]], by_week[w], currency) if i else None,
            **figures(by_week[w]),
        )
        for i, w in enumerate(week_list)
    ]
    items = []
    largest = sorted(by_key.items(), key=lambda kv: -kv[1].net)[:limit]
    for item_key, s in largest:
        change = None
        if "week" in group_by:
            week, rest = item_key[0], item_key[1:]
            before = by_key.get((week - timedelta(weeks=1), *rest), _Sum())
            change = _change(before, s, currency)
            key = {"week": week.isoformat(), **_named(dims, rest)}
        else:
            key = _named(dims, item_key)
        items.append(Item(key=_ordered(key, group_by), change=change, **figures(s)))
    if "week" in group_by:
        items.sort(key=lambda i: (i.key["week"] or "", -i.net_loss))
    else:
        items.sort(key=lambda i: (-i.net_loss, [v or "" for v in i.key.values()]))

    return LossReport(
        from_=start,
        to=end,
        group_by=group_by,
        reporting_currency=currency,
        totals=Figures(**figures(total)),
        week_over_week=week_rows[-1].change if week_rows else None,
        weeks=week_rows,
        items=items,
        groups=len(by_key),
        top_movers=_movers(cells, dims, week_list, currency, top),
        other_currency_cases=other,
    )


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _weeks(start: datetime, end: datetime) -> list[date]:
    first, last = week_of(start), week_of(end - timedelta(microseconds=1))
    return [first + timedelta(weeks=n) for n in range((last - first).days // 7 + 1)]


def _named(dims: list[str], values: tuple[Any, ...]) -> dict[str, str | None]:
    return {d: None if v is None else str(v) for d, v in zip(dims, values, strict=True)}


def _ordered(key: dict[str, str | None], group_by: list[str]) -> dict[str, str | None]:
    return {d: key[d] for d in group_by}


def _figures(s: _Sum, currency: str) -> dict[str, Any]:
    m = s.minor
    lost = m["lost_buyer"] + m["lost_seller"] + m["lost_exchange"]
    values = {k: from_minor(m[k], currency) for k in SUMS}
    return {
        "cases": s.cases,
        **values,
        "lost": from_minor(lost, currency),
        "net_loss": from_minor(lost - m["recovered"], currency),
    }


def _change(before: _Sum, now: _Sum, currency: str) -> Change:
    delta = now.net - before.net
    return Change(
        previous_net_loss=from_minor(before.net, currency),
        net_loss_change=from_minor(delta, currency),
        net_loss_change_pct=round(100 * delta / before.net, 1) if before.net else None,
    )


def _movers(
    cells: dict[tuple[date, tuple[Any, ...]], _Sum],
    dims: list[str],
    weeks: list[date],
    currency: str,
    top: int,
) -> list[Mover]:
    """By the asked dimensions other than week: the largest changes of net loss from
    the window's second-last week to its last (none when grouped by week alone)."""
    if not dims or len(weeks) < 2:
        return []
    last, before = weeks[-1], weeks[-2]
    keys = {k for (w, k) in cells if w in (last, before)}
    changes = []
    for k in keys:
        now, then = cells.get((last, k), _Sum()), cells.get((before, k), _Sum())
        if now.net != then.net:
            changes.append((abs(now.net - then.net), k, now, then))
    changes.sort(key=lambda c: (-c[0], [str(v or "") for v in c[1]]))
    return [
        Mover(
            key=_named(dims, k),
            week=last,
            net_loss=from_minor(now.net, currency),
            change=_change(then, now, currency),
        )
        for _d, k, now, then in changes[:top]
    ]


def to_csv(report: LossReport) -> str:
    """One line per item: the group's keys, then its figures (and the week-over-week
    change of net loss when grouped by week). Totals are the column sums."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    with_change = "week" in report.group_by
    header = [*report.group_by, "cases", *FIGURE_COLUMNS]
    writer.writerow([*header, "net_loss_change"] if with_change else header)
    for item in report.items:
        row = [item.key[d] or "" for d in report.group_by]
        row += [str(item.cases), *(str(getattr(item, c)) for c in FIGURE_COLUMNS)]
        if with_change:
            row.append(str(item.change.net_loss_change) if item.change else "")
        writer.writerow(row)
    return out.getvalue()
