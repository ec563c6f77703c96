"""`GET /api/v1/reports/losses`: the loss-trend report as JSON or CSV. Supervisors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from gateway.agents.dependencies import CurrentAgent
from gateway.dependencies import RuntimeDep, SessionDep
from gateway.errors import Forbidden, InvalidRequest
from gateway.reports import report

router = APIRouter(tags=["reports"])

GROUPS = ", ".join(report.DIMENSIONS)


@router.get(
    "/api/v1/reports/losses",
    response_model=report.LossReport,
    responses={
        200: {"content": {"text/csv": {}}},
        403: {"description": "Not a supervisor or admin"},
    },
)
async def losses_report(
    session: SessionDep,
    ctx: CurrentAgent,
    runtime: RuntimeDep,
    from_: Annotated[
        str | None,
        Query(alias="from", max_length=40, description="Date or ISO time; default 8 weeks ago"),
    ] = None,
    to: Annotated[
        str | None, Query(max_length=40, description="Date (through its end) or ISO time")
    ] = None,
    group_by: Annotated[
        list[str] | None,
        Query(max_length=200, description=f"One or several (comma-separated) of {GROUPS}"),
    ] = None,
    top: Annotated[int, Query(ge=1, le=50, description="How many top movers")] = 5,
    limit: Annotated[
        int,
        Query(ge=1, le=report.MAX_LIMIT, description="Most groups listed (largest net loss)"),
    ] = report.DEFAULT_LIMIT,
    format: Annotated[
        str | None, Query(max_length=10, description="json or csv (else the Accept header)")
    ] = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> report.LossReport | Response:
    """Loss figures of the cases decided in [from, to), in the reporting currency:
    totals, counts, each week with its change from the week before, the groups asked
    for (with their week-over-week change when grouped by week), and the top movers.
    JSON, or CSV with `format=csv` or `Accept: text/csv`. Supervisors and admins."""
    if not ctx.sees_all:
        raise Forbidden("the loss report is for supervisors and admins")
    as_csv = _wants_csv(format, accept)
    start, end = report.window(
        report.parse_moment(from_, "from", end=False),
        report.parse_moment(to, "to", end=True),
        runtime.clock.now(),
    )
    built = await report.build(
        session,
        start=start,
        end=end,
        group_by=report.parse_group_by(group_by),
        currency=runtime.settings.reports.currency,
        top=top,
        limit=limit,
    )
    if as_csv:
        name = f"losses-{start.date().isoformat()}-{end.date().isoformat()}.csv"
        return Response(
            report.to_csv(built),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return built


def _wants_csv(format: str | None, accept: str | None) -> bool:
    if format is not None:
        if format not in ("json", "csv"):
            raise InvalidRequest(f"format {format!r} is not json or csv")
        return format == "csv"
    wanted = (accept or "").lower()
    return "text/csv" in wanted and "application/json" not in wanted
