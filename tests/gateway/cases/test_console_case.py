"""A dispute case in the console: both parties side by side with the order facts, an
evidence review and the decision, through the console's forms."""

from __future__ import annotations

import httpx

from tests.gateway.cases.conftest import Desk
from tests.gateway.cases.helpers import case_json, open_dispute, supervisor
from tests.gateway.cases.test_evidence import PNG
from tests.gateway.console.helpers import sign_in


async def test_case_page_review_and_decision(desk: Desk) -> None:
    token = await supervisor(desk)
    dispute = await open_dispute(desk, token)
    upload = await desk.upload(dispute.buyer, "receipt.png", PNG)
    await desk.chat(dispute.buyer, "my receipt", attachments=[upload])
    ref = f"C-{dispute.case_id}"
    async with httpx.AsyncClient(
        base_url=desk.http, headers={"Origin": desk.http}, timeout=60
    ) as http:
        csrf = await sign_in(http, token)
        ticket = await http.get(f"/console/tickets/{dispute.buyer_ticket}")
        assert f'href="/console/cases/{ref}"' in ticket.text
        page = await http.get(f"/console/cases/{ref}")
        assert page.status_code == 200
        assert dispute.order_ref in page.text and dispute.buyer_id in page.text
        assert dispute.buyer_ticket in page.text and dispute.seller_ticket in page.text
        assert "receipt.png" in page.text and "I paid for order" in page.text
        [item] = (await case_json(desk, token, dispute.case_id))["evidence"]
        review = f"/console/cases/{ref}/evidence/{item['id']}/review"
        bare = await http.post(review, data={"csrf": csrf, "state": "rejected", "reason": ""})
        assert bare.status_code == 422 and "needs a reason" in bare.text
        assert (await http.post(review, data={"state": "accepted"})).status_code == 403
        ok = await http.post(review, data={"csrf": csrf, "state": "accepted", "reason": ""})
        assert ok.status_code == 303
        file = await http.get(f"/console/cases/{ref}/evidence/{item['id']}/file")
        assert file.content == PNG and file.headers["content-type"] == "application/octet-stream"
        decided = await http.post(
            f"/console/cases/{ref}/decision",
            data={"csrf": csrf, "outcome": "release_to_buyer", "reason": "bank proof checked"},
        )
        assert decided.status_code == 303, decided.text
        listed = await http.get("/console/cases")
        assert ref in listed.text
    case = await case_json(desk, token, dispute.case_id)
    assert case["evidence"][0]["review_state"] == "accepted"
    assert [d["outcome"] for d in case["decisions"]] == ["release_to_buyer"]
