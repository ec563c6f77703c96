"""Reporting a suspicious account: a risk ticket in the risk queue, audited, sent to the
exchange's risk system (signed webhook, else email through the outbox); a reviewer
confirms (watchlist, which routing reads) or dismisses (lower weights)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from gateway.outbox.models import Outbox
from gateway.tickets.models import Message
from tests.gateway.cases.conftest import Desk
from tests.gateway.risk.conftest import (
    account,
    dispute,
    kinds,
    plain_agent,
    push,
    risk_agent,
    supervisor,
    tag,
)
from tests.gateway.webhooks.conftest import Receiver, Subscriptions, drain


@contextlib.contextmanager
def report_email(desk: Desk, address: str | None) -> Iterator[None]:
    settings = desk.runtime.settings.risk
    before = settings.report_email
    settings.report_email = address
    try:
        yield
    finally:
        settings.report_email = before


async def post_report(desk: Desk, token: str, body: dict[str, Any]) -> Any:
    async with desk.api(token) as api:
        return await api.post("/api/v1/risk/reports", json=body)


async def test_an_agent_reports_and_the_report_reaches_the_risk_webhook(
    desk: Desk, subscriptions: Subscriptions, receiver: Receiver, deliverer: Any
) -> None:
    t = tag()
    seller = f"suspect-{t}"
    await subscriptions.create(receiver, ["risk.report_created"])
    agent = await plain_agent(desk)  # works the general queue, where the disputes are
    (ref, _ticket) = await dispute(desk, f"buyer-{t}", seller)
    async with desk.api(agent) as api:
        [case] = (await api.get("/api/v1/cases", params={"order_ref": ref})).json()["items"]
    response = await post_report(
        desk,
        agent,
        {
            "user_id": seller,
            "reason": "asks buyers to pay a third party",
            "cases": [f"C-{case['id']}"],
        },
    )
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["status"] == "open" and report["sent_via"] == "webhook"
    assert report["cases"] == [f"C-{case['id']}"]

    boss = await supervisor(desk)
    async with desk.api(boss) as api:
        ticket = (await api.get(f"/api/v1/tickets/{report['ticket']}")).json()
        trail = (await api.get(f"/api/v1/tickets/{report['ticket']}/events")).json()["items"]
    assert ticket["queue"] == "risk" and ticket["severity"] == "high"
    assert ticket["category"] == "fraud_or_scam" and ticket["channel"] == "internal"
    [note] = ticket["messages"]
    assert note["direction"] == "note" and "asks buyers to pay a third party" in note["text"]
    created = next(e for e in trail if e["action"] == "risk.report_created")
    assert created["data"]["user_id"] == seller and created["actor"]

    assert await drain(deliverer) >= 1
    [hook] = [r for r in receiver.requests if b"risk.report_created" in r.body]
    payload = json.loads(hook.body)
    assert payload["type"] == "risk.report_created"
    assert payload["data"]["report"]["user_id"] == seller
    assert payload["data"]["report"]["ticket"] == report["ticket"]
    assert "x-parley-signature" in {k.lower() for k in hook.headers}

    # The risk ticket takes notes; a reply would reach nobody (and must not reach the
    # suspect), so it is refused with the reason.
    async with desk.api(boss) as api:
        replied = await api.post(f"/api/v1/tickets/{report['ticket']}/replies", json={"text": "hi"})
        noted = await api.post(f"/api/v1/tickets/{report['ticket']}/notes", json={"text": "seen"})
    assert replied.status_code == 409 and "internal" in replied.json()["detail"]
    assert noted.status_code == 201


async def test_without_a_subscriber_the_report_is_mailed_through_the_outbox(desk: Desk) -> None:
    t = tag()
    agent = await plain_agent(desk)
    with report_email(desk, "risk@exchange.example"):
        response = await post_report(
            desk, agent, {"user_id": f"quiet-{t}", "reason": "named in a chat"}
        )
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["sent_via"] == "email"
    ticket_id = int(report["ticket"].removeprefix("D-"))
    async with desk.runtime.sessionmaker() as session:
        row = (
            await session.execute(sa.select(Outbox).where(Outbox.ticket_id == ticket_id))
        ).scalar_one()
        message = await session.get_one(Message, row.message_id)
    assert row.channel == "email" and row.recipient == "risk@exchange.example"
    assert f"exchange user quiet-{t}" in message.text and message.direction == "note"

    with report_email(desk, None):
        unsent = await post_report(
            desk, agent, {"user_id": f"quiet-{t}", "reason": "again, no channel"}
        )
    assert unsent.json()["sent_via"] == "none"


async def test_confirmed_accounts_go_on_the_watchlist_routing_reads(desk: Desk) -> None:
    t = tag()
    seller = f"watch-{t}"
    reporter, reviewer = await plain_agent(desk), await risk_agent(desk)
    report = (
        await post_report(desk, reporter, {"user_id": seller, "reason": "known scammer"})
    ).json()
    async with desk.api(reporter) as api:  # not a risk reviewer: neither reads nor reviews
        denied = await api.post(
            f"/api/v1/risk/reports/{report['id']}/confirm", json={"note": "yes"}
        )
        hidden = await api.get(f"/api/v1/risk/reports/{report['id']}")
    assert denied.status_code == 403 and hidden.status_code == 403
    async with desk.api(await supervisor(desk)) as boss:  # a reviewer's own report
        own = await boss.post("/api/v1/risk/reports", json={"user_id": seller, "reason": "mine"})
        mine = await boss.post(
            f"/api/v1/risk/reports/{own.json()['id']}/confirm", json={"note": "me!"}
        )
    assert mine.status_code == 403 and "other than its reporter" in mine.json()["detail"]
    async with desk.api(reviewer) as api:
        shown = await api.get(f"/api/v1/risk/reports/{report['id']}")
    assert shown.status_code == 200 and shown.json()["reason"] == "known scammer"
    async with desk.api(reviewer) as api:
        confirmed = await api.post(
            f"/api/v1/risk/reports/{report['id']}/confirm", json={"note": "matches the ring"}
        )
        again = await api.post(
            f"/api/v1/risk/reports/{report['id']}/dismiss", json={"note": "oops"}
        )
    assert confirmed.status_code == 200, confirmed.text
    assert (
        confirmed.json()["status"] == "confirmed"
        and confirmed.json()["review_note"] == "matches the ring"
    )
    assert again.status_code == 409 and "already confirmed" in again.json()["detail"]
    body = await account(desk, reviewer, seller)
    assert (
        body["watchlisted"]
        and body["above_threshold"]
        and body["reports"][0]["status"] == "confirmed"
    )

    # A buyer's dispute against the watchlisted seller goes to the risk queue at once.
    _ref, ticket_ref = await dispute(desk, f"buyer-{t}", seller)
    async with desk.api(await supervisor(desk)) as api:
        ticket = (await api.get(f"/api/v1/tickets/{ticket_ref}")).json()
    assert ticket["queue"] == "risk" and ticket["severity"] in ("high", "critical")
    assert any("is on the watchlist" in r for r in ticket["routing_reasons"])


async def test_a_dismissal_lowers_that_accounts_signal_weights(desk: Desk) -> None:
    t = tag()
    buyer = f"third-{t}"
    for i in range(2):
        await push(desk, buyer, f"s-{t}-{i}", payer_name_matches=False)
    reviewer = await risk_agent(desk)
    before = kinds(await account(desk, reviewer, buyer))["third_party_payment"]["weight"]
    report = (
        await post_report(
            desk, await plain_agent(desk), {"user_id": buyer, "reason": "pays from others"}
        )
    ).json()
    async with desk.api(reviewer) as api:
        dismissed = await api.post(
            f"/api/v1/risk/reports/{report['id']}/dismiss", json={"note": "family account, checked"}
        )
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "dismissed"
    body = await account(desk, reviewer, buyer)
    after = kinds(body)["third_party_payment"]
    assert after["weight"] == before / 2 and "dismissed report" in after["sentence"]
    assert body["dismissals"] == {"third_party_payment": 1} and not body["watchlisted"]
    # Another seller's account is untouched by this account's dismissal.
    other = f"third-other-{t}"
    await push(desk, other, f"so-{t}", payer_name_matches=False)
    assert kinds(await account(desk, reviewer, other))["third_party_payment"]["weight"] == 10


async def test_reports_refuse_bad_input_and_cases_the_reporter_cannot_see(desk: Desk) -> None:
    t = tag()
    seller = f"idor-{t}"
    ref, _ticket = await dispute(desk, f"b-{t}", seller)
    boss = await supervisor(desk)
    async with desk.api(boss) as api:
        [case] = (await api.get("/api/v1/cases", params={"order_ref": ref})).json()["items"]
    outsider = await risk_agent(desk)  # the risk queue only: cannot see the general queue's case
    cases = [f"C-{case['id']}"]
    hidden = await post_report(
        desk, outsider, {"user_id": seller, "reason": "peeking", "cases": cases}
    )
    assert hidden.status_code == 404 and "no case" in hidden.json()["detail"]
    unrelated = await post_report(
        desk, boss, {"user_id": f"someone-{t}", "reason": "wrong case", "cases": cases}
    )
    assert unrelated.status_code == 422 and "is not about" in unrelated.json()["detail"]
    for body in (
        {"user_id": seller, "reason": "x"},  # reason too short
        {"user_id": "", "reason": "a reason"},
        {"user_id": "a\u0001b", "reason": "a reason"},
        {"user_id": seller, "reason": "a reason", "cases": ["junk"]},
        {"user_id": seller, "reason": "a reason", "extra": 1},
        {"user_id": seller, "reason": "nul \u0000 here"},
    ):
        response = await post_report(desk, boss, body)
        assert response.status_code == 422, body
        assert response.json()["detail"]
    async with desk.api(await risk_agent(desk)) as api:
        missing = await api.post("/api/v1/risk/reports/2147483000/confirm", json={"note": "none"})
        huge = await api.post("/api/v1/risk/reports/99999999999999/confirm", json={"note": "none"})
        short = await api.post("/api/v1/risk/reports/1/confirm", json={"note": ""})
    assert missing.status_code == 404 and huge.status_code == 422 and short.status_code == 422
    async with desk.api() as anonymous:
        assert (await anonymous.post("/api/v1/risk/reports", json={})).status_code == 401
