"""Customers' rating links (public, signed) and the desk's CSAT report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Path, Query
from fastapi.responses import HTMLResponse

from gateway.agents.dependencies import CurrentAgent
from gateway.csat import links, pages, report, service
from gateway.csat.texts import texts_for
from gateway.dependencies import RuntimeDep, SessionDep
from gateway.errors import Forbidden, InvalidRequest

router = APIRouter(tags=["csat"])

Token = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]


@router.get("/csat/{token}/{rating}", response_class=HTMLResponse)
async def rate_by_link(
    token: Token,
    rating: Annotated[int, Path(ge=0, le=9)],
    session: SessionDep,
    runtime: RuntimeDep,
    s: Annotated[str, Query(max_length=64)] = "",
) -> HTMLResponse:
    """One click in the survey email records the rating; the page then offers the
    optional comment. A forged link is 403, a used one 409, an expired one 410: each
    with a page that says so."""
    key = await links.link_key(session, runtime.settings.csat)
    survey = await service.survey_by_token(session, token)
    if (
        survey is None
        or rating not in links.RATINGS
        or not links.signature_ok(key, token, rating, s)
    ):
        _, words = texts_for(survey.language if survey else None)
        return pages.page(words.invalid, "", status=403)
    language, words = texts_for(survey.language)
    try:
        await service.answer(
            session,
            survey,
            rating,
            via="email_link",
            now=runtime.clock.now(),
            notifier=runtime.notifier,
        )
    except service.SurveyAnswered:
        return pages.page(words.used, "", status=409, language=language)
    except service.SurveyExpired:
        return pages.page(words.expired, "", status=410, language=language)
    form = pages.comment_form(token, rating, s, words.comment_prompt)
    return pages.page(
        words.thanks, f"<p>{'★' * rating}{'☆' * (5 - rating)}</p>{form}", language=language
    )


@router.post("/csat/{token}/comment", response_class=HTMLResponse)
async def comment_by_link(
    token: Token,
    session: SessionDep,
    runtime: RuntimeDep,
    rating: Annotated[int, Form(ge=0, le=9)],
    s: Annotated[str, Form(max_length=64)],
    comment: Annotated[str, Form(max_length=20000)] = "",
) -> HTMLResponse:
    """The optional comment, posted from the thank-you page (signed like the link)."""
    key = await links.link_key(session, runtime.settings.csat)
    survey = await service.survey_by_token(session, token)
    if survey is None or survey.rating != rating or not links.signature_ok(key, token, rating, s):
        return pages.page(texts_for(None)[1].invalid, "", status=403)
    language, words = texts_for(survey.language)
    if not comment.strip():
        return pages.page(words.thanks, "", language=language)
    try:
        await service.add_comment(
            session,
            survey,
            comment,
            max_chars=runtime.settings.csat.max_comment_chars,
            now=runtime.clock.now(),
            notifier=runtime.notifier,
        )
    except service.SurveyAnswered:
        return pages.page(words.used, "", status=409, language=language)
    except service.SurveyExpired:
        return pages.page(words.expired, "", status=410, language=language)
    return pages.page(words.thanks, "", language=language)


@router.get("/api/v1/reports/csat", response_model=report.CsatReport, tags=["reports"])
async def csat_report(
    session: SessionDep,
    ctx: CurrentAgent,
    runtime: RuntimeDep,
    from_: Annotated[datetime | None, Query(alias="from")] = None,
    to: datetime | None = None,
    group_by: Literal["agent", "queue", "language", "channel"] = "agent",
) -> report.CsatReport:
    """Surveys asked in [from, to) (default: the last 30 days), grouped: how many were
    asked, how many answered, the average rating and the response rate. Supervisors."""
    if not ctx.sees_all:
        raise Forbidden("the CSAT report is for supervisors and admins")
    end = _aware(to) or runtime.clock.now()
    start = _aware(from_) or end - timedelta(days=30)
    if start >= end:
        raise InvalidRequest("from must be before to")
    return await report.build(session, start=start, end=end, group_by=group_by)


def _aware(value: datetime | None) -> datetime | None:
    """A time without a zone is read as UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
