"""Survey answers that come back as a tapped button (Telegram inline keyboard, widget card).

A rating button's value is `csat:<survey token>:<rating>`, the Skip button under
Telegram's comment question `csat:<survey token>:skip`. A value counts only from the
customer the survey was sent to, on the channel it was sent on: the token is not a secret
of the channel's transport (a forwarded message shows it), the sender's identity is.

After a rating, the widget's card shows a comment field (posted with the rating's value,
`comment_on_choice`); Telegram, which has no form, asks in a message of its own and
takes the customer's next text as the comment (`service.take_comment`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.csat import links, service
from gateway.csat.models import CsatSurvey
from gateway.csat.texts import texts_for
from gateway.notify import Notifier
from gateway.ports import Channel, Choice, ChoiceAnswered
from gateway.settings import CsatSettings
from gateway.tickets.models import ChannelIdentity, Ticket

PREFIX = "csat:"
SKIP = "skip"
# Channels without a form, where the comment is the customer's next message.
COMMENT_BY_MESSAGE = frozenset({Channel.telegram})


def survey_choices(survey: CsatSurvey) -> tuple[Choice, ...]:
    """The five answers as buttons, worst to best."""
    return tuple(
        Choice(label=f"{r} {'★' * r}", value=f"{PREFIX}{survey.token}:{r}") for r in links.RATINGS
    )


def skip_choice(survey: CsatSurvey) -> tuple[Choice, ...]:
    return (
        Choice(label=texts_for(survey.language)[1].skip, value=f"{PREFIX}{survey.token}:{SKIP}"),
    )


async def choices_by_message(
    session: AsyncSession, message_ids: Iterable[int], *, now: datetime
) -> dict[int, tuple[Choice, ...]]:
    """The buttons to show with these messages: the ratings of surveys still open, and
    Skip under a comment question whose window is open."""
    wanted = list(message_ids)
    if not wanted:
        return {}
    result = await session.execute(
        sa.select(CsatSurvey).where(
            sa.or_(
                sa.and_(
                    col(CsatSurvey.message_id).in_(wanted),
                    col(CsatSurvey.rating).is_(None),
                    col(CsatSurvey.expires_at) > now,
                ),
                sa.and_(
                    col(CsatSurvey.comment_message_id).in_(wanted),
                    col(CsatSurvey.comment).is_(None),
                    col(CsatSurvey.comment_until) > now,
                ),
            )
        )
    )
    found: dict[int, tuple[Choice, ...]] = {}
    for survey in result.scalars():
        if survey.rating is None and survey.message_id in wanted:
            found[survey.message_id] = survey_choices(survey)
        elif survey.comment_message_id is not None:
            found[survey.comment_message_id] = skip_choice(survey)
    return found


async def _tapped(
    session: AsyncSession, *, channel: str, address: str, value: str
) -> tuple[CsatSurvey | None, bool, str]:
    """The survey a value names, whether it was sent to this customer on this channel,
    and the value's last part (a rating or `skip`)."""
    token, _, part = value[len(PREFIX) :].partition(":")
    survey = await service.survey_by_token(session, token)
    if survey is None:
        return None, False, part
    ticket = await session.get_one(Ticket, survey.ticket_id)
    identity = await session.get_one(ChannelIdentity, ticket.identity_id)
    return survey, (identity.channel, identity.address) == (channel, address), part


async def answer_choice(
    session: AsyncSession,
    *,
    channel: str,
    address: str,
    value: str,
    settings: CsatSettings,
    now: datetime,
    notifier: Notifier | None = None,
) -> ChoiceAnswered | None:
    """Record a tapped rating (or Skip); what to show the customer (thanks, already
    answered, expired, not valid), or None when the value is not a survey's."""
    if not value.startswith(PREFIX):
        return None
    survey, theirs, part = await _tapped(session, channel=channel, address=address, value=value)
    if survey is None or not (part == SKIP or (part.isdigit() and int(part) in links.RATINGS)):
        return ChoiceAnswered(texts_for(None)[1].invalid)
    _, words = texts_for(survey.language)
    if not theirs:
        return ChoiceAnswered(words.invalid)
    if part == SKIP:
        await service.skip_comment(session, survey, now=now)
        return ChoiceAnswered(words.thanks)
    try:
        await service.answer(session, survey, int(part), via=channel, now=now, notifier=notifier)
    except service.SurveyAnswered:
        return ChoiceAnswered(words.used)
    except service.SurveyExpired:
        return ChoiceAnswered(words.expired)
    if channel in COMMENT_BY_MESSAGE:
        await service.ask_for_comment(
            session,
            survey,
            window_seconds=settings.comment_window_seconds,
            now=now,
            notifier=notifier,
        )
        return ChoiceAnswered(words.thanks)
    return ChoiceAnswered(words.thanks, comment_prompt=words.comment_prompt, skip=words.skip)


async def comment_on_choice(
    session: AsyncSession,
    *,
    channel: str,
    address: str,
    value: str,
    comment: str,
    settings: CsatSettings,
    now: datetime,
    notifier: Notifier | None = None,
) -> str | None:
    """The optional comment typed on a card after its rating (`value` is the rating's
    button): the text to show, or None when the value is not a survey's rating."""
    if not value.startswith(PREFIX):
        return None
    survey, theirs, part = await _tapped(session, channel=channel, address=address, value=value)
    if survey is None:
        return texts_for(None)[1].invalid
    _, words = texts_for(survey.language)
    if not theirs or not part.isdigit() or survey.rating != int(part):
        return words.invalid
    try:
        await service.add_comment(
            session,
            survey,
            comment,
            max_chars=settings.max_comment_chars,
            now=now,
            notifier=notifier,
        )
    except service.SurveyAnswered:
        return words.used
    except service.SurveyExpired:
        return words.expired
    return words.comment_thanks
