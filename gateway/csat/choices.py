"""Survey answers that come back as a tapped button (Telegram inline keyboard, widget card).

A button's value is `csat:<survey token>:<rating>`. It counts only from the customer the
survey was sent to, on the channel it was sent on: the token is not a secret of the
channel's transport (a forwarded message shows it), the sender's identity is.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.csat import links, service
from gateway.csat.models import CsatSurvey
from gateway.csat.texts import texts_for
from gateway.notify import Notifier
from gateway.ports import Choice
from gateway.tickets.models import ChannelIdentity, Ticket

PREFIX = "csat:"


def survey_choices(survey: CsatSurvey) -> tuple[Choice, ...]:
    """The five answers as buttons, worst to best."""
    return tuple(
        Choice(label=f"{r} {'★' * r}", value=f"{PREFIX}{survey.token}:{r}") for r in links.RATINGS
    )


async def choices_by_message(
    session: AsyncSession, message_ids: Iterable[int], *, now: datetime
) -> dict[int, tuple[Choice, ...]]:
    """The buttons to show with these messages: those of surveys still open."""
    wanted = list(message_ids)
    if not wanted:
        return {}
    result = await session.execute(
        sa.select(CsatSurvey).where(
            CsatSurvey.message_id.in_(wanted),
            CsatSurvey.rating.is_(None),
            CsatSurvey.expires_at > now,
        )
    )
    return {s.message_id: survey_choices(s) for s in result.scalars() if s.message_id}


async def answer_choice(
    session: AsyncSession,
    *,
    channel: str,
    address: str,
    value: str,
    now: datetime,
    notifier: Notifier | None = None,
) -> str | None:
    """Record a tapped rating; the text to show the customer (thanks, already answered,
    expired, not valid), or None when the value is not a survey's."""
    if not value.startswith(PREFIX):
        return None
    token, _, rating = value[len(PREFIX) :].partition(":")
    survey = await service.survey_by_token(session, token)
    if survey is None or not rating.isdigit() or int(rating) not in links.RATINGS:
        return texts_for(None)[1].invalid
    _, words = texts_for(survey.language)
    ticket = await session.get_one(Ticket, survey.ticket_id)
    identity = await session.get_one(ChannelIdentity, ticket.identity_id)
    if (identity.channel, identity.address) != (channel, address):
        return words.invalid
    try:
        await service.answer(session, survey, int(rating), via=channel, now=now, notifier=notifier)
    except service.SurveyAnswered:
        return words.used
    except service.SurveyExpired:
        return words.expired
    return words.thanks
