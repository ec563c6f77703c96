"""Routing reads the risk score: a dispute against a counterparty over the threshold goes
to the risk queue, severity at least high, and says why in routing_reasons."""

from __future__ import annotations

from typing import Any

from tests.gateway.cases.conftest import Desk
from tests.gateway.risk.conftest import account, dispute, supervisor, tag


async def ticket(desk: Desk, token: str, ref: str) -> dict[str, Any]:
    async with desk.api(token) as api:
        response = await api.get(f"/api/v1/tickets/{ref}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_dispute_against_a_risky_counterparty_goes_to_the_risk_queue(desk: Desk) -> None:
    t = tag()
    seller = f"risky-{t}"
    token = await supervisor(desk)
    tickets = [(await dispute(desk, f"victim-{t}-{i}", seller))[1] for i in range(4)]
    # Three disputes scored 45 (< 50) when the fourth was routed: it went where the text
    # said. The fourth link made it a burst from many complainants.
    fourth = await ticket(desk, token, tickets[3])
    assert fourth["queue"] != "risk"
    assert (await account(desk, token, seller))[
        "score"
    ] >= desk.runtime.settings.risk.route_threshold

    _ref, fifth_ref = await dispute(desk, f"victim-{t}-4", seller)
    fifth = await ticket(desk, token, fifth_ref)
    assert fifth["queue"] == "risk"
    assert fifth["severity"] in ("high", "critical")
    [reason] = [r for r in fifth["routing_reasons"] if "counterparty" in r]
    assert "risk queue risk" in reason and ">= 50" in reason
    async with desk.api(token) as api:
        trail = (await api.get(f"/api/v1/tickets/{fifth_ref}/events")).json()["items"]
    routed = next(e for e in trail if e["action"] == "ticket.routed")
    assert routed["data"]["rule"] == "risk-counterparty" and routed["data"]["queue"] == "risk"


async def test_the_risky_side_complaining_is_not_routed_on_their_own_score(desk: Desk) -> None:
    t = tag()
    seller = f"risky-{t}"
    token = await supervisor(desk)
    for i in range(4):
        await dispute(desk, f"victim-{t}-{i}", seller)
    # The risky seller writes about an order with an honest buyer: the counterparty is
    # the buyer, who scores nothing.
    from tests.gateway.risk.conftest import push

    ref = await push(desk, f"honest-{t}", seller)
    visitor = await desk.visitor(seller)
    ack = await desk.chat(visitor, f"Order {ref}: the buyer never paid me")
    body = await ticket(desk, token, str(ack["ticket"]))
    assert body["queue"] != "risk"
    assert not [r for r in body["routing_reasons"] if "counterparty" in r]
