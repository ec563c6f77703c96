"""Decisions: both parties told in their own languages on their own channels; an
appeal inside the window reopens the case, after it is refused."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from gateway.clock import ManualClock
from gateway.outbox.models import Outbox
from gateway.tickets.models import Message
from tests.gateway.cases.conftest import Desk
from tests.gateway.cases.helpers import Dispute, case_json, open_dispute, supervisor


async def _seller_known(desk: Desk, token: str, dispute: Dispute) -> None:
    async with desk.api(token) as api:
        response = await api.post(
            f"/api/v1/cases/{dispute.case_id}/tickets",
            json={"ticket": dispute.seller_ticket, "party": "seller"},
        )
    assert response.status_code == 200


async def _outbound(desk: Desk, ticket: str) -> list[tuple[str, str]]:
    """(channel of its outbox row, text) of every reply on the ticket, oldest first."""
    async with desk.runtime.sessionmaker() as session:
        rows = await session.execute(
            sa.select(Outbox.channel, Message.text)
            .join(Message, Message.id == Outbox.message_id)
            .where(Message.ticket_id == int(ticket[2:]))
            .order_by(Message.id)
        )
        return [(row[0], row[1]) for row in rows]


async def test_a_decision_tells_both_parties_in_their_languages(desk: Desk) -> None:
    token = await supervisor(desk)
    dispute = await open_dispute(desk, token, seller_language="ru")
    await _seller_known(desk, token, dispute)
    url = f"/api/v1/cases/{dispute.case_id}"
    async with desk.api(token) as api:
        decided = await api.post(
            f"{url}/decision",
            json={"outcome": "release_to_buyer", "reason": "bank statement shows the payment"},
        )
        assert decided.status_code == 201, decided.text
        assert decided.json()["told"] == [dispute.buyer_ticket, dispute.seller_ticket]
        assert decided.json()["not_told"] == []
        again = await api.post(f"{url}/decision", json={"outcome": "no_action", "reason": "x"})
        assert again.status_code == 409
        bad = await api.post(f"{url}/decision", json={"outcome": "refund_everyone", "reason": "x"})
        assert bad.status_code == 422

    [(buyer_channel, buyer_text)] = await _outbound(desk, dispute.buyer_ticket)
    [(seller_channel, seller_text)] = await _outbound(desk, dispute.seller_ticket)
    assert buyer_channel == "webchat" and seller_channel == "email"
    assert buyer_text.startswith(f"Our decision on order {dispute.order_ref}")
    assert "released to the buyer" in buyer_text
    assert seller_text.startswith(f"Наше решение по ордеру {dispute.order_ref}")
    # The reason stays on record for the desk and the export; the parties get the outcome.
    assert "bank statement" not in buyer_text + seller_text

    case = await case_json(desk, token, dispute.case_id)
    assert case["status"] == "decided"
    assert [d["outcome"] for d in case["decisions"]] == ["release_to_buyer"]
    assert {t["status"] for side in case["parties"] for t in side["tickets"]} == {"resolved"}
    assert [d["kind"] for d in case["deadlines"] if d["state"] == "open"] == ["appeal"]


async def test_an_appeal_in_the_window_reopens_the_case(desk: Desk) -> None:
    token = await supervisor(desk)
    dispute = await open_dispute(desk, token)
    await _seller_known(desk, token, dispute)
    url = f"/api/v1/cases/{dispute.case_id}"
    async with desk.api(token) as api:
        early = await api.post(f"{url}/appeal", json={"party": "seller", "reason": "no"})
        assert early.status_code == 409  # nothing decided yet
        await api.post(f"{url}/decision", json={"outcome": "cancel_order", "reason": "late pay"})
        appealed = await api.post(
            f"{url}/appeal", json={"party": "seller", "reason": "I have proof he paid late"}
        )
        assert appealed.status_code == 200, appealed.text
        assert appealed.json()["appealed_by_party"] == "seller"
        case = (await api.get(url)).json()
        assert case["status"] == "appealed"
        assert {t["status"] for side in case["parties"] for t in side["tickets"]} == {"open"}
        kinds = [t["kind"] for t in case["timeline"]]
        # decision, then its notice to each party, then the appeal
        assert kinds[-4:] == ["decision", "message", "message", "appeal"]
        second = await api.post(
            f"{url}/decision", json={"outcome": "return_to_seller", "reason": "appeal upheld"}
        )
        assert second.status_code == 201
        case = (await api.get(url)).json()
        assert [d["outcome"] for d in case["decisions"]] == ["cancel_order", "return_to_seller"]


async def test_an_appeal_after_the_window_is_refused(desk: Desk) -> None:
    token = await supervisor(desk)
    dispute = await open_dispute(desk, token)
    url = f"/api/v1/cases/{dispute.case_id}"
    async with desk.api(token) as api:
        decided = await api.post(
            f"{url}/decision", json={"outcome": "no_action", "reason": "no proof"}
        )
        # The seller's mail never showed which side it is: it is not told.
        assert decided.json()["told"] == [dispute.buyer_ticket]
        assert decided.json()["not_told"] == [dispute.seller_ticket]
        assert await _outbound(desk, dispute.seller_ticket) == []
        window = desk.runtime.settings.cases.appeal_window_seconds
        desk.runtime.clock = ManualClock(desk.clock.now() + timedelta(seconds=window + 1))
        try:
            late = await api.post(f"{url}/appeal", json={"party": "buyer", "reason": "wait"})
            case = (await api.get(url)).json()
        finally:
            desk.runtime.clock = desk.clock
    assert late.status_code == 409 and "window closed" in late.json()["detail"]
    assert case["status"] == "decided"
    assert [d["state"] for d in case["deadlines"] if d["kind"] == "appeal"] == ["expired"]
