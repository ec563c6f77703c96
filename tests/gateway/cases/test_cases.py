"""Cases: both parties' tickets about one order, from any channel, in one case."""

from __future__ import annotations

import sqlalchemy as sa

from gateway.audit import AuditEvent
from gateway.cases.models import CaseTicket
from tests.desk import make_agent
from tests.gateway.cases.conftest import Desk, new_order_ref, order_facts
from tests.gateway.cases.helpers import (
    case_json,
    events,
    open_dispute,
    side,
    supervisor,
    ticket_of_email,
)


async def test_buyer_by_chat_and_seller_by_email_make_one_case(desk: Desk) -> None:
    token = await supervisor(desk)
    dispute = await open_dispute(desk, token)
    other_ref = new_order_ref()
    stranger = await desk.visitor()
    third = await desk.chat(stranger, f"Order {other_ref} was cancelled after I paid")

    case = await case_json(desk, token, dispute.case_id)
    assert case["order_ref"] == dispute.order_ref
    assert case["order"]["buyer_user_id"] == dispute.buyer_id
    assert side(case, "buyer") == [dispute.buyer_ticket]  # verified by the widget HMAC
    # The seller's email proves no exchange identity: linked, party for an agent to say.
    assert side(case, "unknown") == [dispute.seller_ticket]
    assert sorted(case["tickets"]) == sorted([dispute.buyer_ticket, dispute.seller_ticket])
    assert third["ticket"] not in case["tickets"]
    texts = [item["text"] for item in case["timeline"] if item["kind"] == "message"]
    assert len(texts) == 2
    assert "seller did not release" in texts[0] and "never received" in texts[1]
    assert [item["ticket"] for item in case["timeline"]] == [
        dispute.buyer_ticket,
        dispute.seller_ticket,
    ]

    async with desk.api(token) as api:
        other = (await api.get("/api/v1/cases", params={"order_ref": other_ref})).json()
        assert other["items"][0]["tickets"] == [third["ticket"]]
        by_party = (await api.get("/api/v1/cases", params={"party": dispute.seller_id})).json()
        assert [c["id"] for c in by_party["items"]] == [dispute.case_id]
        by_status = (
            await api.get("/api/v1/cases", params={"status": "decided", "order_ref": other_ref})
        ).json()
        assert by_status["items"] == []
        queue = await api.get(
            "/api/v1/queues/general/tickets", params={"order_ref": dispute.order_ref}
        )
        assert sorted(t["ref"] for t in queue.json()["items"]) == sorted(case["tickets"])

    # The seller mails again, not as a reply: a new ticket, which joins the same case.
    await desk.email(dispute.seller_email, "still waiting", f"{dispute.order_ref}: nothing yet")
    second = await ticket_of_email(desk, dispute.seller_email)
    assert second != dispute.seller_ticket
    again = await case_json(desk, token, dispute.case_id)
    assert sorted(again["tickets"]) == sorted([*case["tickets"], second])
    async with desk.api(token) as api:
        listed = (await api.get("/api/v1/cases", params={"order_ref": dispute.order_ref})).json()
    assert len(listed["items"]) == 1


async def test_an_agent_links_says_the_party_and_unlinks_with_audit(desk: Desk) -> None:
    token = await supervisor(desk)
    dispute = await open_dispute(desk, token)
    async with desk.api(token) as api:
        said = await api.post(
            f"/api/v1/cases/{dispute.case_id}/tickets",
            json={"ticket": dispute.seller_ticket, "party": "seller"},
        )
        assert said.status_code == 200, said.text
        assert side(said.json(), "seller") == [dispute.seller_ticket]

        unrelated = (await desk.chat(await desk.visitor(), "my account is frozen"))["ticket"]
        linked = await api.post(
            f"/api/v1/cases/{dispute.case_id}/tickets", json={"ticket": unrelated}
        )
        assert unrelated in linked.json()["tickets"]
        gone = await api.delete(f"/api/v1/cases/{dispute.case_id}/tickets/{unrelated}")
        assert gone.status_code == 200
        assert unrelated not in gone.json()["tickets"]
        missing = await api.delete(f"/api/v1/cases/{dispute.case_id}/tickets/{unrelated}")
        assert missing.status_code == 404

        # A ticket in one case cannot be linked to another behind its back.
        other = await open_dispute(desk, token)
        clash = await api.post(
            f"/api/v1/cases/{other.case_id}/tickets", json={"ticket": dispute.buyer_ticket}
        )
        assert clash.status_code == 409

    actions = [e["action"] for e in await events(desk, token, unrelated)]
    assert actions[-2:] == ["case.ticket_linked", "case.ticket_unlinked"]
    seller_events = await events(desk, token, dispute.seller_ticket)
    by_agent = [e for e in seller_events if e["action"] == "case.ticket_linked"][-1]
    assert by_agent["data"]["party"] == "seller" and by_agent["data"]["by"] == "agent"
    assert by_agent["actor"] != "system"


async def test_an_unlinked_ticket_naming_the_order_again_stays_out(desk: Desk) -> None:
    token = await supervisor(desk)
    dispute = await open_dispute(desk, token)
    async with desk.api(token) as api:
        await api.delete(f"/api/v1/cases/{dispute.case_id}/tickets/{dispute.seller_ticket}")
    subject = f"Re: Order {dispute.order_ref} [{dispute.seller_ticket}]"
    await desk.email(dispute.seller_email, subject, f"{dispute.order_ref}!")
    assert await ticket_of_email(desk, dispute.seller_email) == dispute.seller_ticket
    case = await case_json(desk, token, dispute.case_id)
    assert case["tickets"] == [dispute.buyer_ticket]
    rows = await desk.scalar(
        sa.select(sa.func.count())
        .select_from(CaseTicket)
        .where(CaseTicket.ticket_id == int(dispute.seller_ticket[2:]))
    )
    assert rows == 1


async def test_facts_arriving_later_identify_the_parties(desk: Desk) -> None:
    token = await supervisor(desk)
    ref = new_order_ref()
    buyer = await desk.visitor(f"late-buyer-{ref}")
    ack = await desk.chat(buyer, f"order {ref} not released")
    async with desk.api(token) as api:
        [case] = (await api.get("/api/v1/cases", params={"order_ref": ref})).json()["items"]
    assert side(await case_json(desk, token, case["id"]), "unknown") == [ack["ticket"]]
    pushed = await desk.push_order(ref, order_facts(f"late-buyer-{ref}", "someone"))
    assert pushed.status_code == 201
    after = await case_json(desk, token, case["id"])
    assert side(after, "buyer") == [ack["ticket"]]
    # What the exchange said, and when, is on the case's own audit chain.
    async with desk.runtime.sessionmaker() as session:
        stored = await session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.case_id == case["id"])
        )
        assert "order.facts_stored" in list(stored)


async def test_agents_outside_the_case_queues_see_no_case(desk: Desk) -> None:
    token = await supervisor(desk)
    dispute = await open_dispute(desk, token)
    outsider = await make_agent(desk.runtime, [f"elsewhere-{dispute.order_ref}"])
    insider = await make_agent(desk.runtime, ["general"])
    cid = dispute.case_id
    async with desk.api(outsider) as api:
        for method, path, body in [
            ("GET", f"/api/v1/cases/{cid}", None),
            ("GET", f"/api/v1/cases/{cid}/export", None),
            ("POST", f"/api/v1/cases/{cid}/notes", {"text": "x"}),
            ("POST", f"/api/v1/cases/{cid}/replies", {"party": "buyer", "text": "x"}),
            ("POST", f"/api/v1/cases/{cid}/tickets", {"ticket": dispute.buyer_ticket}),
            ("DELETE", f"/api/v1/cases/{cid}/tickets/{dispute.buyer_ticket}", None),
            ("POST", f"/api/v1/cases/{cid}/evidence/1/review", {"state": "accepted"}),
            ("GET", f"/api/v1/cases/{cid}/evidence/1/file", None),
            ("POST", f"/api/v1/cases/{cid}/evidence-requests", {"party": "buyer", "what": "x"}),
            ("POST", f"/api/v1/cases/{cid}/decision", {"outcome": "no_action", "reason": "x"}),
            ("POST", f"/api/v1/cases/{cid}/appeal", {"party": "buyer", "reason": "x"}),
        ]:
            response = await api.request(method, path, json=body)
            assert response.status_code == 404, (method, path, response.text)
        listed = await api.get("/api/v1/cases", params={"order_ref": dispute.order_ref})
        assert listed.json()["items"] == []
    async with desk.api(insider) as api:
        assert (await api.get(f"/api/v1/cases/{cid}")).status_code == 200
        listed = await api.get("/api/v1/cases", params={"order_ref": dispute.order_ref})
        assert [c["id"] for c in listed.json()["items"]] == [cid]
    async with desk.api() as api:
        assert (await api.get(f"/api/v1/cases/{cid}")).status_code == 401
    async with desk.api(dispute.buyer["token"]) as api:
        # A party's own widget token is no key to the desk's routes.
        assert (await api.get(f"/api/v1/cases/{cid}")).status_code == 401
        assert (await api.get("/api/v1/cases")).status_code == 401
