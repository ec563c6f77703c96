"""Small steps the case tests share: a dispute from both sides, an agent, reading back."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from gateway.agents.models import Role
from gateway.tickets.models import ChannelIdentity, Ticket
from tests.desk import make_agent
from tests.gateway.cases.conftest import Desk, new_order_ref, order_facts


@dataclass
class Dispute:
    order_ref: str
    buyer_id: str
    seller_id: str
    buyer: dict[str, Any]  # the buyer's widget session
    buyer_ticket: str
    seller_email: str
    seller_ticket: str
    case_id: int


async def ticket_of_email(desk: Desk, address: str) -> str:
    ticket_id = await desk.scalar(
        sa.select(Ticket.id)
        .join(ChannelIdentity, ChannelIdentity.id == Ticket.identity_id)
        .where(ChannelIdentity.channel == "email", ChannelIdentity.address == address)
        .order_by(Ticket.id.desc())
        .limit(1)
    )
    assert ticket_id is not None, f"no ticket from {address}"
    return f"D-{ticket_id}"


async def supervisor(desk: Desk) -> str:
    return await make_agent(desk.runtime, ["general"], role=Role.supervisor)


async def open_dispute(desk: Desk, token: str, *, seller_language: str = "en") -> Dispute:
    """The buyer writes in the widget (verified exchange user), the seller by email,
    both naming one order; the exchange pushes the order's facts."""
    tag = uuid.uuid4().hex[:8]
    ref = new_order_ref()
    buyer_id, seller_id = f"ub-{tag}", f"us-{tag}"
    assert (await desk.push_order(ref, order_facts(buyer_id, seller_id))).status_code == 201
    buyer = await desk.visitor(buyer_id)
    ack = await desk.chat(buyer, f"I paid for order {ref} but the seller did not release")
    seller_email = f"seller-{tag}@mail.example"
    text = (
        "Заказ {ref}: я не получил оплату, не отпускайте USDT"
        if seller_language == "ru"
        else "About order {ref}: the buyer says he paid, I never received the money"
    ).format(ref=ref)
    await desk.email(seller_email, f"Order {ref}", text)
    seller_ticket = await ticket_of_email(desk, seller_email)
    async with desk.api(token) as api:
        found = await api.get("/api/v1/cases", params={"order_ref": ref})
    [case] = found.json()["items"]
    return Dispute(
        ref, buyer_id, seller_id, buyer, ack["ticket"], seller_email, seller_ticket, case["id"]
    )


async def case_json(desk: Desk, token: str, case_id: int) -> dict[str, Any]:
    async with desk.api(token) as api:
        response = await api.get(f"/api/v1/cases/{case_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def side(case: dict[str, Any], party: str) -> list[str]:
    [found] = [p for p in case["parties"] if p["party"] == party]
    return [t["ref"] for t in found["tickets"]]


async def events(desk: Desk, token: str, ticket: str) -> list[dict[str, Any]]:
    async with desk.api(token) as api:
        response = await api.get(f"/api/v1/tickets/{ticket}/events")
    assert response.status_code == 200
    return list(response.json()["items"])
