"""Ask after a resolution, record the answer. Functions flush; the caller commits.

Rules a desk expects, written down:
- The survey goes out when an agent resolves a ticket (not when it is closed: closing
  is how spam and abuse are put away), on the ticket's channel, in the customer's
  language, once per resolution (UNIQUE(ticket, resolved_at)).
- None for fraud reports (`fraud_or_scam`: the customer is a victim or a suspect, not a
  service user to poll), for a customer who blocked the channel, or within the quiet
  time after the last survey sent to the same customer.
- The answer counts for the resolution it was asked about, even after a reopen; agent,
  queue, language and channel are the resolution's.
- One rating per survey; one optional comment after it, while the survey is open.
- Where the comment is asked for: the email link's page has a form, the widget's card
  a field; Telegram has no form, so after the tap the bot asks in a message of its own
  with a Skip button, and the customer's next *text* message from that chat within
  `GATEWAY_CSAT_COMMENT_WINDOW_SECONDS` is the comment (thanked, audited, sent as
  `csat.received`; not a ticket message, the ticket stays resolved). A photo, a file or a
  command in the window goes to the ticket as usual and leaves the window open; Skip, a
  comment or the window's end closes it, and after that every message is a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway import audit
from gateway.csat import links
from gateway.csat.models import CsatSurvey
from gateway.csat.texts import texts_for
from gateway.db import UTCDateTime
from gateway.errors import Conflict, GatewayError
from gateway.notify import Notifier
from gateway.outbox.service import enqueue
from gateway.ports import Channel, Choice
from gateway.settings import Settings
from gateway.statements import Statement
from gateway.tickets.models import (
    Category,
    ChannelIdentity,
    Customer,
    Ticket,
    TicketStatus,
)
from gateway.webhooks.events import emit
from gateway.webhooks.models import EventType

NO_SURVEY_CATEGORIES = frozenset({Category.fraud_or_scam})


class SurveyAnswered(Conflict):
    """The survey already has its rating: a replayed link or a second tap."""


class SurveyExpired(GatewayError):
    status_code = 410


@dataclass(frozen=True)
class Skipped:
    reason: str


async def ask_after_resolution(
    session: AsyncSession,
    ticket: Ticket,
    *,
    agent_id: int | None,
    settings: Settings,
    notifier: Notifier,
    now: datetime,
) -> CsatSurvey | Skipped:
    """Queue the survey for a ticket just resolved, or say why there is none."""
    assert ticket.id is not None and ticket.status == TicketStatus.resolved
    skipped = await _why_not(session, ticket, settings, now)
    if skipped is not None:
        audit.record(session, "csat.skipped", ticket_id=ticket.id, reason=skipped.reason)
        return skipped
    customer = await session.get_one(Customer, ticket.customer_id)
    language, words = texts_for(ticket.language or customer.language)
    survey = CsatSurvey(
        token=links.new_token(),
        ticket_id=ticket.id,
        resolved_at=ticket.resolved_at or now,
        customer_id=ticket.customer_id,
        agent_id=agent_id,
        queue_id=ticket.queue_id,
        language=language,
        channel=ticket.channel,
        expires_at=now + timedelta(seconds=settings.csat.link_ttl_seconds),
        created_at=now,
    )
    session.add(survey)
    await session.flush()
    text = f"{words.question.format(ref=ticket.ref)}\n{words.scale}"
    if ticket.channel == Channel.email:
        key = await links.link_key(session, settings.csat)
        base = settings.http.base_url()
        text += "\n\n" + "\n".join(
            f"{'★' * r}{'☆' * (5 - r)}  {r}: {links.link(base, key, survey.token, r)}"
            for r in links.RATINGS
        )
    message = await enqueue(
        session,
        ticket_id=ticket.id,
        channel=ticket.channel,
        text=text,
        notifier=notifier,
        action="csat.asked",
        language=language,
        survey_id=survey.id,
    )
    survey.message_id = message.id
    await session.flush()
    return survey


async def _why_not(
    session: AsyncSession, ticket: Ticket, settings: Settings, now: datetime
) -> Skipped | None:
    if not settings.csat.enabled:
        return Skipped("surveys are off")
    if ticket.category in NO_SURVEY_CATEGORIES:
        return Skipped(f"no survey for {ticket.category} tickets")
    identity = await session.get_one(ChannelIdentity, ticket.identity_id)
    if identity.unreachable:
        return Skipped("the customer blocked this channel")
    asked = await session.scalar(
        sa.select(sa.func.count())
        .select_from(CsatSurvey)
        .where(
            col(CsatSurvey.ticket_id) == ticket.id,
            col(CsatSurvey.resolved_at) == ticket.resolved_at,
        )
    )
    if asked:
        return Skipped("already asked for this resolution")
    last = await session.scalar(
        sa.select(sa.func.max(col(CsatSurvey.created_at))).where(
            col(CsatSurvey.customer_id) == ticket.customer_id
        )
    )
    if last is not None:
        if last.tzinfo is None:  # SQLite's max() hands back the stored text's datetime
            last = last.replace(tzinfo=now.tzinfo)
        if now - last < timedelta(seconds=settings.csat.quiet_seconds):
            return Skipped("quiet time: this customer was asked recently")
    return None


def choices_for(survey: CsatSurvey) -> tuple[Choice, ...]:
    """The five answers as buttons (Telegram's inline keyboard, the widget's card)."""
    return tuple(
        Choice(label=f"{r} {'★' * r}", value=f"csat:{survey.token}:{r}") for r in links.RATINGS
    )


async def survey_by_token(session: AsyncSession, token: str) -> CsatSurvey | None:
    if not token or len(token) > 32:
        return None
    return (
        await session.execute(
            sa.select(CsatSurvey).where(col(CsatSurvey.token) == token).with_for_update()
        )
    ).scalar_one_or_none()


async def answer(
    session: AsyncSession,
    survey: CsatSurvey,
    rating: int,
    *,
    via: str,
    now: datetime,
    notifier: Notifier | None = None,
) -> None:
    """Record the rating once: SurveyAnswered for a second one, SurveyExpired when late.
    Audited on the ticket and sent as csat.received."""
    if rating not in links.RATINGS:
        raise Conflict("a rating is 1 to 5")
    if survey.rating is not None:
        raise SurveyAnswered("this survey was already answered")
    if now > survey.expires_at:
        raise SurveyExpired("this survey has expired")
    survey.rating = rating
    survey.answered_at = now
    await _received(session, survey, via=via, notifier=notifier)


async def add_comment(
    session: AsyncSession,
    survey: CsatSurvey,
    comment: str,
    *,
    max_chars: int,
    now: datetime,
    notifier: Notifier | None = None,
) -> None:
    """The optional comment after a rating, once, while the survey is open."""
    comment = "".join(ch for ch in comment if ch.isprintable() or ch in "\n\t").strip()
    if not comment:
        raise Conflict("the comment is empty")
    if survey.rating is None:
        raise Conflict("rate first, then comment")
    if survey.comment is not None:
        raise SurveyAnswered("this survey already has a comment")
    if now > survey.expires_at:
        raise SurveyExpired("this survey has expired")
    survey.comment = comment[:max_chars]
    await _received(session, survey, via="comment", notifier=notifier)


async def ask_for_comment(
    session: AsyncSession,
    survey: CsatSurvey,
    *,
    window_seconds: int,
    now: datetime,
    notifier: Notifier | None,
) -> None:
    """Ask for the optional comment in a message of its own (Telegram), with a Skip
    button, and open the window in which the next text is taken as the comment."""
    if window_seconds <= 0 or survey.comment is not None or survey.comment_until is not None:
        return
    language, words = texts_for(survey.language)
    message = await enqueue(
        session,
        ticket_id=survey.ticket_id,
        channel=survey.channel,
        text=f"{words.comment_prompt}\n{words.comment_hint}",
        notifier=notifier,
        action="csat.comment_asked",
        language=language,
        survey_id=survey.id,
    )
    survey.comment_message_id = message.id
    survey.comment_until = min(now + timedelta(seconds=window_seconds), survey.expires_at)
    await session.flush()


async def open_comment_survey(
    session: AsyncSession, *, channel: str, address: str, external_id: str, now: datetime
) -> CsatSurvey | None:
    """The survey whose comment window is open for this customer on this channel, or
    the one that already took the message `external_id` as its comment (a redelivery).
    Locked for update."""
    rows = await _OPEN_COMMENT_SURVEY.rows(
        session, {"channel": channel, "address": address, "external_id": external_id, "now": now}
    )
    # Every Telegram text asks, and almost none finds one: only then is the survey read.
    return await session.get(CsatSurvey, rows[0][0]) if rows else None


# Built and compiled once (gateway/statements.py): asked before every Telegram
# text is ingested, where building it through the ORM cost more than its round trip.
_CHANNEL = sa.bindparam("channel", type_=sa.String)
_OPEN_COMMENT_SURVEY = Statement(
    sa.select(col(CsatSurvey.id))
    .join(Ticket, col(Ticket.id) == col(CsatSurvey.ticket_id))
    .join(ChannelIdentity, col(ChannelIdentity.id) == col(Ticket.identity_id))
    .where(
        col(ChannelIdentity.channel) == _CHANNEL,
        col(ChannelIdentity.address) == sa.bindparam("address", type_=sa.String),
        col(CsatSurvey.channel) == _CHANNEL,
        sa.or_(
            col(CsatSurvey.comment_until) > sa.bindparam("now", type_=UTCDateTime),
            col(CsatSurvey.comment_external_id) == sa.bindparam("external_id", type_=sa.Text),
        ),
    )
    .order_by(col(CsatSurvey.id).desc())
    .limit(1)
    .with_for_update(of=CsatSurvey.__table__)  # type: ignore[attr-defined]
)


async def take_comment(
    session: AsyncSession,
    *,
    channel: str,
    address: str,
    external_id: str,
    text: str,
    max_chars: int,
    now: datetime,
    notifier: Notifier | None = None,
) -> bool:
    """A customer's text message while a survey waits for its comment: stored as the
    comment and thanked (through the outbox). True when the message was the comment (or
    a redelivery of it), False when it is an ordinary message. Flushes."""
    survey = await open_comment_survey(
        session, channel=channel, address=address, external_id=external_id, now=now
    )
    if survey is None:
        return False
    if survey.comment_external_id == external_id:
        return True
    if survey.comment is not None or not survey.comment_until or now >= survey.comment_until:
        return False
    try:
        await add_comment(session, survey, text, max_chars=max_chars, now=now, notifier=notifier)
    except (Conflict, SurveyExpired):
        return False  # nothing printable, or the survey closed: an ordinary message
    survey.comment_external_id = external_id
    language, words = texts_for(survey.language)
    await enqueue(
        session,
        ticket_id=survey.ticket_id,
        channel=survey.channel,
        text=words.comment_thanks,
        notifier=notifier,
        action="csat.comment_thanked",
        language=language,
        survey_id=survey.id,
    )
    await session.flush()
    return True


async def skip_comment(session: AsyncSession, survey: CsatSurvey, *, now: datetime) -> bool:
    """Close the comment window (the Skip button): True when it was open."""
    if survey.comment is not None or survey.comment_until is None or now >= survey.comment_until:
        return False
    survey.comment_until = now
    audit.record(session, "csat.comment_skipped", ticket_id=survey.ticket_id, survey_id=survey.id)
    await session.flush()
    return True


async def _received(
    session: AsyncSession, survey: CsatSurvey, *, via: str, notifier: Notifier | None
) -> None:
    ticket = await session.get_one(Ticket, survey.ticket_id)
    audit.record(
        session,
        "csat.received",
        ticket_id=ticket.id,
        survey_id=survey.id,
        rating=survey.rating,
        comment=survey.comment,
        via=via,
    )
    await session.flush()
    await emit(
        session,
        EventType.csat_received,
        ticket=ticket,
        data={"csat": await survey_json(session, survey)},
        notifier=notifier,
    )


async def survey_json(session: AsyncSession, survey: CsatSurvey) -> dict[str, Any]:
    from gateway.agents.models import Agent
    from gateway.queues.models import Queue

    agent = await session.get(Agent, survey.agent_id) if survey.agent_id else None
    queue = await session.get(Queue, survey.queue_id)
    return {
        "survey_id": survey.id,
        "rating": survey.rating,
        "comment": survey.comment,
        "agent": agent.name if agent else None,
        "queue": queue.name if queue else None,
        "language": survey.language,
        "channel": survey.channel,
        "resolved_at": survey.resolved_at.isoformat(),
        "asked_at": survey.created_at.isoformat(),
        "answered_at": survey.answered_at.isoformat() if survey.answered_at else None,
    }
