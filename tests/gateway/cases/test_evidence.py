"""Evidence: every file a party sends on a case ticket, hashed and typed by its bytes,
reviewed with an audit trail; evidence requests with deadlines on an injected clock."""

from __future__ import annotations

import hashlib
import os
from datetime import timedelta

from channels.telegram.tokens import sign_start_token
from gateway.clock import ManualClock
from gateway.db import utcnow
from tests.channels.telegram.conftest import START_SECRET, Telegram, private_message
from tests.gateway.cases.conftest import Desk
from tests.gateway.cases.helpers import case_json, events, open_dispute, supervisor

PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(200)
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + os.urandom(4000)


async def test_widget_files_become_evidence_with_matching_hashes(desk: Desk) -> None:
    token = await supervisor(desk)
    dispute = await open_dispute(desk, token)
    png = await desk.upload(dispute.buyer, "transfer.png", PNG)
    mp4 = await desk.upload(dispute.buyer, "screen-recording.mp4", MP4)
    await desk.chat(dispute.buyer, "here is my proof", attachments=[png, mp4])

    case = await case_json(desk, token, dispute.case_id)
    image, video = case["evidence"]
    for item, data in ((image, PNG), (video, MP4)):
        assert item["sha256"] == hashlib.sha256(data).hexdigest()
        assert item["size"] == len(data)
        assert item["party"] == "buyer" and item["uploader"] == dispute.buyer_id
        assert item["channel"] == "webchat" and item["ticket"] == dispute.buyer_ticket
        assert item["review_state"] == "pending" and item["file_state"] == "stored"
        async with desk.api(token) as api:
            got = await api.get(f"/api/v1/cases/{dispute.case_id}/evidence/{item['id']}/file")
        assert got.content == data
        assert got.headers["content-type"] == "application/octet-stream"
    assert (image["mime"], image["kind"]) == ("image/png", "image")
    assert (video["mime"], video["kind"]) == ("video/mp4", "video")
    assert [t["evidence_id"] for t in case["timeline"] if t["kind"] == "evidence"] == [
        image["id"],
        video["id"],
    ]


async def test_reviews_are_audited_and_a_rejection_needs_a_reason(desk: Desk) -> None:
    token = await supervisor(desk)
    dispute = await open_dispute(desk, token)
    await desk.chat(
        dispute.buyer, "receipt", attachments=[await desk.upload(dispute.buyer, "r.png", PNG)]
    )
    [item] = (await case_json(desk, token, dispute.case_id))["evidence"]
    url = f"/api/v1/cases/{dispute.case_id}/evidence/{item['id']}/review"
    async with desk.api(token) as api:
        bare = await api.post(url, json={"state": "rejected"})
        assert bare.status_code == 422
        accepted = await api.post(url, json={"state": "accepted"})
        assert accepted.json()["review_state"] == "accepted"
        rejected = await api.post(url, json={"state": "rejected", "reason": "edited screenshot"})
        assert rejected.json()["review_state"] == "rejected"
        assert rejected.json()["review_reason"] == "edited screenshot"
        assert rejected.json()["reviewed_by"] is not None
        unknown = await api.post(
            f"/api/v1/cases/{dispute.case_id}/evidence/999999999/review",
            json={"state": "accepted"},
        )
        assert unknown.status_code == 404
        huge = await api.post(
            f"/api/v1/cases/{dispute.case_id}/evidence/{10**30}/review",
            json={"state": "accepted"},
        )
        assert huge.status_code == 422  # not an integer overflow in the database
    reviews = [
        e["data"]
        for e in await events(desk, token, dispute.buyer_ticket)
        if e["action"] == "evidence.reviewed"
    ]
    assert [(r["old"], r["new"], r.get("reason")) for r in reviews] == [
        ("pending", "accepted", None),
        ("accepted", "rejected", "edited screenshot"),
    ]


async def test_telegram_video_is_evidence_once_fetched(desk: Desk, tg: Telegram) -> None:
    token = await supervisor(desk)
    dispute = await open_dispute(desk, token)
    chat = 7_000_000_000 + int(dispute.order_ref[-6:])
    # The seller links Telegram to their exchange account with the signed deep link.
    link = sign_start_token(START_SECRET.encode(), dispute.seller_id, utcnow() + timedelta(hours=1))
    assert (await tg.post(private_message(chat, 1, text=f"/start {link}"))).status_code == 200
    tg.api.add_file(f"video-{chat}", MP4)
    update = private_message(
        chat,
        2,
        caption=f"Screen recording of my payment for order {dispute.order_ref}",
        video={
            "file_id": f"video-{chat}",
            "file_unique_id": f"v{chat}",
            "width": 720,
            "height": 1280,
            "duration": 12,
            "mime_type": "video/mp4",
        },
    )
    assert (await tg.post(update)).status_code == 200
    case = await case_json(desk, token, dispute.case_id)
    [video] = [e for e in case["evidence"] if e["channel"] == "telegram"]
    assert video["sha256"] == hashlib.sha256(MP4).hexdigest()
    assert (video["mime"], video["kind"], video["file_state"]) == ("video/mp4", "video", "stored")
    assert video["size"] == len(MP4)
    assert (video["party"], video["uploader"]) == ("seller", dispute.seller_id)


async def test_an_evidence_request_past_its_deadline_is_breached(desk: Desk) -> None:
    token = await supervisor(desk)
    dispute = await open_dispute(desk, token, seller_language="ru")
    url = f"/api/v1/cases/{dispute.case_id}"
    async with desk.api(token) as api:
        unknown = await api.post(f"{url}/evidence-requests", json={"party": "seller", "what": "x"})
        assert unknown.status_code == 409  # no ticket is known to be the seller's yet
        await api.post(f"{url}/tickets", json={"ticket": dispute.seller_ticket, "party": "seller"})
        asked = await api.post(
            f"{url}/evidence-requests",
            json={"party": "seller", "what": "a bank statement", "deadline_hours": 2},
        )
        assert asked.status_code == 201, asked.text
        assert asked.json()["state"] == "open"
        too_far = await api.post(
            f"{url}/evidence-requests",
            json={"party": "buyer", "what": "x", "deadline_hours": 24 * 365},
        )
        assert too_far.status_code == 422
        seller = (await api.get(f"/api/v1/tickets/{dispute.seller_ticket}")).json()
    request_text = seller["messages"][-1]["text"]
    assert request_text.startswith(f"По ордеру {dispute.order_ref}")  # the seller wrote in Russian
    assert "a bank statement" in request_text
    assert seller["status"] == "pending_customer"

    assert _request_state(await case_json(desk, token, dispute.case_id)) == "open"
    later = ManualClock(desk.clock.now() + timedelta(hours=2, seconds=1))
    desk.runtime.clock = later
    try:
        assert _request_state(await case_json(desk, token, dispute.case_id)) == "breached"
    finally:
        desk.runtime.clock = desk.clock


async def test_a_file_before_the_deadline_meets_the_request(desk: Desk) -> None:
    token = await supervisor(desk)
    dispute = await open_dispute(desk, token)
    async with desk.api(token) as api:
        asked = await api.post(
            f"/api/v1/cases/{dispute.case_id}/evidence-requests",
            json={"party": "buyer", "what": "the payment receipt"},
        )
    assert asked.status_code == 201
    buyer_view = (await case_json(desk, token, dispute.case_id))["parties"][0]
    assert buyer_view["party"] == "buyer"
    await desk.chat(
        dispute.buyer, "attached", attachments=[await desk.upload(dispute.buyer, "p.png", PNG)]
    )
    assert _request_state(await case_json(desk, token, dispute.case_id)) == "met"


def _request_state(case: dict[str, object]) -> str:
    [request] = case["evidence_requests"]  # type: ignore[misc]
    return str(request["state"])
