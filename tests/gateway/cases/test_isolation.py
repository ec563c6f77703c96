"""A party never sees the other party's messages or evidence: over the widget's
history, the replies each side is sent, and the desk's own routes."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from gateway.outbox.models import Outbox
from gateway.tickets.models import Message
from tests.gateway.cases.conftest import Desk
from tests.gateway.cases.helpers import open_dispute, supervisor
from tests.gateway.cases.test_evidence import PNG


async def _history(desk: Desk, visitor: dict[str, Any]) -> str:
    async with desk.widget(visitor) as client:
        response = await client.get("/channels/webchat/messages", params={"after": 0})
    assert response.status_code == 200
    return " ".join(item.get("text") or "" for item in response.json()["items"])


async def test_each_side_gets_only_its_own_conversation(desk: Desk) -> None:
    token = await supervisor(desk)
    dispute = await open_dispute(desk, token)
    # The seller also writes in the widget, as the verified seller.
    seller = await desk.visitor(dispute.seller_id)
    seller_chat = await desk.chat(
        seller,
        f"SELLER-CHAT order {dispute.order_ref}: do not release, chargeback risk",
        attachments=[await desk.upload(seller, "seller-bank.png", PNG)],
    )
    await desk.chat(
        dispute.buyer, "BUYER-PROOF", attachments=[await desk.upload(dispute.buyer, "b.png", PNG)]
    )
    url = f"/api/v1/cases/{dispute.case_id}"
    async with desk.api(token) as api:
        to_seller = await api.post(f"{url}/replies", json={"party": "seller", "text": "TO-SELLER"})
        assert to_seller.status_code == 201, to_seller.text
        assert to_seller.json()["ticket"] == seller_chat["ticket"]  # the seller's newest
        to_buyer = await api.post(f"{url}/replies", json={"party": "buyer", "text": "TO-BUYER"})
        assert to_buyer.json()["ticket"] == dispute.buyer_ticket
        by_ref = await api.post(
            f"{url}/replies", json={"ticket": dispute.seller_ticket, "text": "TO-SELLER-MAIL"}
        )
        assert by_ref.status_code == 201
        stranger = await api.post(f"{url}/replies", json={"ticket": "D-999999999", "text": "x"})
        assert stranger.status_code == 404
        nobody = await api.post(f"{url}/replies", json={"text": "x"})
        assert nobody.status_code == 422
        note = await api.post(f"{url}/notes", json={"text": "DESK-NOTE seller looks shady"})
        assert note.status_code == 201
        case = (await api.get(url)).json()
    assert [n["text"] for n in case["notes"]] == ["DESK-NOTE seller looks shady"]
    assert {e["party"] for e in case["evidence"]} == {"buyer", "seller"}

    buyer_sees = await _history(desk, dispute.buyer)
    assert "TO-BUYER" in buyer_sees and "BUYER-PROOF" in buyer_sees
    for foreign in ("SELLER-CHAT", "TO-SELLER", "DESK-NOTE", "never received"):
        assert foreign not in buyer_sees
    seller_sees = await _history(desk, seller)
    assert "TO-SELLER" in seller_sees and "SELLER-CHAT" in seller_sees
    for foreign in ("TO-BUYER", "BUYER-PROOF", "DESK-NOTE", "did not release"):
        assert foreign not in seller_sees

    # What goes out by mail to the seller's address is only what was written to them.
    async with desk.runtime.sessionmaker() as session:
        rows = await session.execute(
            sa.select(Outbox.channel, Message.ticket_id, Message.text)
            .join(Message, Message.id == Outbox.message_id)
            .where(Message.ticket_id.in_([int(t[2:]) for t in case["tickets"]]))
        )
        outgoing = {(r[0], f"D-{r[1]}", r[2]) for r in rows}
    assert outgoing == {
        ("webchat", seller_chat["ticket"], "TO-SELLER"),
        ("webchat", dispute.buyer_ticket, "TO-BUYER"),
        ("email", dispute.seller_ticket, "TO-SELLER-MAIL"),
    }


async def test_a_party_cannot_fetch_the_other_sides_files(desk: Desk) -> None:
    token = await supervisor(desk)
    dispute = await open_dispute(desk, token)
    seller = await desk.visitor(dispute.seller_id)
    upload = await desk.upload(seller, "private.png", PNG)
    # An upload id is bound to the visitor who made it: the buyer cannot send it on.
    async with desk.widget(dispute.buyer) as client:
        stolen = await client.post(
            "/channels/webchat/messages",
            json={"client_id": "steal-1", "text": "look", "attachments": [upload]},
        )
    assert stolen.status_code == 422
    async with desk.widget(dispute.buyer) as client:
        # Case files are only on the desk's routes, which a widget token does not open.
        response = await client.get(f"/api/v1/cases/{dispute.case_id}/evidence/1/file")
    assert response.status_code == 401
