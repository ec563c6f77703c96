"""CSAT by email: five signed one-click links, clicked over HTTP; the rules around it."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.policy import default as default_policy

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from gateway.agents.models import Role
from gateway.audit import AuditEvent
from gateway.clock import ManualClock
from gateway.csat.models import CsatSurvey
from gateway.ports import Channel
from gateway.runtime import Runtime
from gateway.tickets.models import ChannelIdentity, Ticket
from tests.channels.email.conftest import Sink
from tests.desk import client, make_agent, new_ticket
from tests.gateway.csat.conftest import deliver_all


async def resolve(app: FastAPI, token: str, ref: str) -> None:
    async with client(app, token) as http:
        response = await http.post(f"/api/v1/tickets/{ref}/status", json={"status": "resolved"})
    assert response.status_code == 200, response.text


async def surveys_of(runtime: Runtime, ticket_id: int) -> list[CsatSurvey]:
    async with runtime.sessionmaker() as session:
        result = await session.execute(
            sa.select(CsatSurvey).where(CsatSurvey.ticket_id == ticket_id).order_by(CsatSurvey.id)
        )
        return list(result.scalars())


async def audit_actions(runtime: Runtime, ticket_id: int, prefix: str) -> list[tuple[str, dict]]:
    async with runtime.sessionmaker() as session:
        result = await session.execute(
            sa.select(AuditEvent.action, AuditEvent.data)
            .where(AuditEvent.ticket_id == ticket_id, AuditEvent.action.startswith(prefix))
            .order_by(AuditEvent.id)
        )
        return [(a, d) for a, d in result]


def links_in(sink: Sink, recipient: str) -> dict[int, str]:
    [envelope] = [e for e in sink.received if recipient in e.rcpt_tos]
    mail = message_from_bytes(envelope.original_content, policy=default_policy)
    text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    found = re.findall(r"(\d): (http://127\.0\.0\.1:\d+/csat/\S+)", text)
    assert "How satisfied are you" in text
    return {int(r): url for r, url in found}


async def test_a_rating_link_works_once_and_forged_or_replayed_links_are_refused(
    csat_app: FastAPI, csat_runtime: Runtime, mail_sink: Sink, unique: str, clock: ManualClock
) -> None:
    queue = f"csat-{unique}"
    token = await make_agent(csat_runtime, [queue])
    customer = f"{unique}@customer.example"
    ticket = await new_ticket(csat_runtime, queue, channel=Channel.email, sender=customer)
    await resolve(csat_app, token, ticket.ticket_ref)
    await deliver_all(csat_runtime)
    links = links_in(mail_sink, customer)
    assert sorted(links) == [1, 2, 3, 4, 5]

    async with httpx.AsyncClient() as http:
        forged = await http.get(links[4][:-4] + "0000")
        assert forged.status_code == 403 and "not valid" in forged.text
        swapped = await http.get(links[4].replace("/4?", "/5?"))
        assert swapped.status_code == 403, "a signature is for one rating only"
        unknown = await http.get(re.sub(r"/csat/[^/]+/", "/csat/AAAAAAAAAAAAAAAAAAAAAA/", links[4]))
        assert unknown.status_code == 403
        assert (await surveys_of(csat_runtime, ticket.ticket_id))[0].rating is None

        rated = await http.get(links[4])
        assert rated.status_code == 200 and "Thank you" in rated.text
        assert rated.headers["content-security-policy"].startswith("default-src 'none'")
        replayed = await http.get(links[4])
        assert replayed.status_code == 409 and "already used" in replayed.text
        other = await http.get(links[1])
        assert other.status_code == 409, "one rating per survey"

        signature = re.search(r"s=([0-9a-f]+)", links[4]).group(1)  # type: ignore[union-attr]
        survey_token = links[4].split("/csat/")[1].split("/")[0]
        comment_url = f"{csat_runtime.settings.http.base_url()}/csat/{survey_token}/comment"
        said = await http.post(
            comment_url, data={"rating": "4", "s": signature, "comment": "Quick <b>help</b>"}
        )
        assert said.status_code == 200
        again = await http.post(comment_url, data={"rating": "4", "s": signature, "comment": "x"})
        assert again.status_code == 409
        forged_comment = await http.post(
            comment_url, data={"rating": "4", "s": "0" * 32, "comment": "spam"}
        )
        assert forged_comment.status_code == 403

    [survey] = await surveys_of(csat_runtime, ticket.ticket_id)
    assert (survey.rating, survey.comment, survey.channel, survey.language) == (
        4,
        "Quick <b>help</b>",
        "email",
        "en",
    )
    received = await audit_actions(csat_runtime, ticket.ticket_id, "csat.")
    assert [a for a, _ in received] == ["csat.asked", "csat.received", "csat.received"]
    assert received[1][1]["rating"] == 4 and received[1][1]["via"] == "email_link"


async def test_an_expired_link_says_so(
    csat_app: FastAPI, csat_runtime: Runtime, mail_sink: Sink, unique: str, clock: ManualClock
) -> None:
    queue = f"csat-exp-{unique}"
    token = await make_agent(csat_runtime, [queue])
    customer = f"{unique}@late.example"
    ticket = await new_ticket(csat_runtime, queue, channel=Channel.email, sender=customer)
    await resolve(csat_app, token, ticket.ticket_ref)
    await deliver_all(csat_runtime)
    links = links_in(mail_sink, customer)
    clock.advance(seconds=86400 + 1)
    async with httpx.AsyncClient() as http:
        late = await http.get(links[5])
    assert late.status_code == 410 and "expired" in late.text
    assert (await surveys_of(csat_runtime, ticket.ticket_id))[0].rating is None


async def test_quiet_time_one_per_resolution_and_a_rating_after_reopen(
    csat_app: FastAPI, csat_runtime: Runtime, unique: str, clock: ManualClock
) -> None:
    queue = f"csat-q-{unique}"
    token = await make_agent(csat_runtime, [queue], role=Role.supervisor)
    sender = f"visitor-{unique}"
    first = await new_ticket(csat_runtime, queue, sender=sender)
    await resolve(csat_app, token, first.ticket_ref)
    [asked] = await surveys_of(csat_runtime, first.ticket_id)

    second = await new_ticket(csat_runtime, queue, sender=f"{sender}-b")
    await _same_customer(csat_runtime, second.ticket_id, first.ticket_id)
    await resolve(csat_app, token, second.ticket_ref)
    assert await surveys_of(csat_runtime, second.ticket_id) == [], "quiet time"
    [(_, skipped)] = await audit_actions(csat_runtime, second.ticket_id, "csat.skipped")
    assert "quiet time" in skipped["reason"]

    # The first ticket reopens, is resolved again inside the quiet time: no second survey.
    async with client(csat_app, token) as http:
        reopened = await http.post(
            f"/api/v1/tickets/{first.ticket_ref}/status", json={"status": "open"}
        )
        assert reopened.status_code == 200
    await resolve(csat_app, token, first.ticket_ref)
    assert len(await surveys_of(csat_runtime, first.ticket_id)) == 1

    clock.advance(seconds=3601)
    third = await new_ticket(csat_runtime, queue, sender=f"{sender}-c")
    await _same_customer(csat_runtime, third.ticket_id, first.ticket_id)
    await resolve(csat_app, token, third.ticket_ref)
    assert len(await surveys_of(csat_runtime, third.ticket_id)) == 1, "after the quiet time"
    assert asked.resolved_at is not None


async def test_no_survey_for_fraud_reports_or_blocked_chats(
    csat_app: FastAPI, csat_runtime: Runtime, unique: str, clock: ManualClock
) -> None:
    queue = f"csat-no-{unique}"
    token = await make_agent(csat_runtime, [queue])
    fraud = await new_ticket(csat_runtime, queue, sender=f"fraud-{unique}")
    blocked = await new_ticket(csat_runtime, queue, sender=f"blocked-{unique}")
    async with csat_runtime.sessionmaker.begin() as session:
        await session.execute(
            sa.update(Ticket).where(Ticket.id == fraud.ticket_id).values(category="fraud_or_scam")
        )
        identity_id = (await session.get_one(Ticket, blocked.ticket_id)).identity_id
        await session.execute(
            sa.update(ChannelIdentity)
            .where(ChannelIdentity.id == identity_id)
            .values(unreachable=True)
        )
    for ticket in (fraud, blocked):
        await resolve(csat_app, token, ticket.ticket_ref)
        assert await surveys_of(csat_runtime, ticket.ticket_id) == []
    reasons = [
        d["reason"]
        for t in (fraud, blocked)
        for _, d in await audit_actions(csat_runtime, t.ticket_id, "csat.skipped")
    ]
    assert reasons == ["no survey for fraud_or_scam tickets", "the customer blocked this channel"]


async def _same_customer(runtime: Runtime, ticket_id: int, like_ticket_id: int) -> None:
    """Make a ticket belong to another ticket's customer (one person, two conversations)."""
    async with runtime.sessionmaker.begin() as session:
        other = await session.get_one(Ticket, like_ticket_id)
        await session.execute(
            sa.update(Ticket).where(Ticket.id == ticket_id).values(customer_id=other.customer_id)
        )
