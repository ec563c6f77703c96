"""Webhook deliveries over real HTTP: signed, retried, redelivered, in order per ticket."""

from __future__ import annotations

import base64
import json

import sqlalchemy as sa
from fastapi import FastAPI

from gateway.agents.models import Role
from gateway.clock import ManualClock
from gateway.runtime import Runtime
from gateway.webhooks.events import emit
from gateway.webhooks.models import WebhookAttempt, WebhookDelivery
from gateway.webhooks.worker import WebhookDeliverer
from tests.desk import client, make_agent, new_ticket
from tests.gateway.webhooks.conftest import Receiver, Subscriptions, drain


async def emit_risk(runtime: Runtime, n: int) -> str:
    async with runtime.sessionmaker.begin() as session:
        event_id = await emit(session, "risk.report_created", data={"report": n})
    assert event_id is not None
    return event_id


def events_of(receiver: Receiver, ref: str) -> list[dict]:
    bodies = [json.loads(r.body) for r in receiver.delivered()]
    return [b for b in bodies if b["data"].get("ticket", {}).get("ref") == ref]


async def test_a_ticket_life_arrives_signed_in_order_with_old_and_new_values(
    hooks_app: FastAPI,
    hooks_runtime: Runtime,
    receiver: Receiver,
    subscriptions: Subscriptions,
    deliverer: WebhookDeliverer,
    unique: str,
) -> None:
    await subscriptions.create(
        receiver, ["ticket.created", "ticket.updated", "message.created", "ticket.escalated"]
    )
    queue = f"hooks-{unique}"
    token = await make_agent(hooks_runtime, [queue])
    ticket = await new_ticket(hooks_runtime, queue, text=f"paid, not released {unique}")
    ref = ticket.ticket_ref
    async with client(hooks_app, token) as http:
        assert (await http.post("/api/v1/claim")).status_code == 200
        reply = await http.post(f"/api/v1/tickets/{ref}/replies", json={"text": "On it"})
        assert reply.status_code == 201
        note = await http.post(f"/api/v1/tickets/{ref}/notes", json={"text": "seller is slow"})
        assert note.status_code == 201
        resolved = await http.post(f"/api/v1/tickets/{ref}/status", json={"status": "resolved"})
        assert resolved.status_code == 200
    await drain(deliverer)

    assert receiver.requests and all(receiver.verified), "every signature verifies"
    events = events_of(receiver, ref)
    kinds = [
        (e["type"], e["data"]["message"]["text"] if "message" in e["data"] else None)
        for e in events
    ]
    assert kinds == [
        ("ticket.created", None),
        ("message.created", f"paid, not released {unique}"),
        ("ticket.updated", None),  # the claim
        ("message.created", "On it"),
        ("ticket.updated", None),  # resolved
    ], "the note is left out: this subscriber did not ask for notes"
    claim, resolve = events[2]["data"]["changes"], events[4]["data"]["changes"]
    assert claim["assignee"]["old"] is None and claim["assignee"]["new"]
    assert resolve["status"] == {"old": "open", "new": "resolved"}
    assert resolve["assignee"] == {"old": claim["assignee"]["new"], "new": None}
    first = events[0]
    assert set(first) == {"id", "type", "created_at", "data"}
    assert first["data"]["ticket"]["ref"] == ref and first["data"]["ticket"]["status"] == "new"
    assert events[-1]["data"]["ticket"]["status"] == "resolved"
    assert all(m["direction"] != "note" for e in events for m in e["data"]["ticket"]["messages"])
    headers = receiver.delivered()[0].headers
    assert headers["x-parley-event"] == receiver_type(receiver, 0)
    assert headers["content-type"] == "application/json"
    assert len({r.headers["x-parley-delivery"] for r in receiver.delivered()}) == len(
        receiver.delivered()
    )


def receiver_type(receiver: Receiver, index: int) -> str:
    return str(json.loads(receiver.delivered()[index].body)["type"])


async def test_notes_go_only_to_subscribers_who_asked(
    hooks_app: FastAPI,
    hooks_runtime: Runtime,
    receiver: Receiver,
    subscriptions: Subscriptions,
    deliverer: WebhookDeliverer,
    unique: str,
) -> None:
    await subscriptions.create(receiver, ["message.created"], include_notes=True)
    queue = f"notes-{unique}"
    token = await make_agent(hooks_runtime, [queue])
    ticket = await new_ticket(hooks_runtime, queue)
    async with client(hooks_app, token) as http:
        response = await http.post(
            f"/api/v1/tickets/{ticket.ticket_ref}/notes", json={"text": f"note {unique}"}
        )
        assert response.status_code == 201
    await drain(deliverer)
    events = events_of(receiver, ticket.ticket_ref)
    assert [e["data"]["message"]["direction"] for e in events] == ["inbound", "note"]
    assert events[1]["data"]["message"]["text"] == f"note {unique}"
    assert all(receiver.verified)


async def test_500_then_200_is_the_same_delivery_twice(
    hooks_runtime: Runtime,
    receiver: Receiver,
    subscriptions: Subscriptions,
    deliverer: WebhookDeliverer,
    clock: ManualClock,
) -> None:
    await subscriptions.create(receiver, ["risk.report_created"])
    receiver.script = [(500, {})]
    event_id = await emit_risk(hooks_runtime, 1)
    await drain(deliverer)
    assert [r.status for r in receiver.requests] == [500]
    clock.advance(seconds=11)  # past the first backoff (base 10 s: 5-10 s)
    await drain(deliverer)
    assert [r.status for r in receiver.requests] == [500, 200]
    ids = {r.headers["x-parley-delivery"] for r in receiver.requests}
    assert len(ids) == 1
    assert [r.headers["x-parley-attempt"] for r in receiver.requests] == ["1", "2"]
    assert [json.loads(r.body)["id"] for r in receiver.requests] == [event_id, event_id]
    assert receiver.requests[0].body == receiver.requests[1].body
    assert all(receiver.verified)
    async with hooks_runtime.sessionmaker() as session:
        row = (
            await session.execute(
                sa.select(WebhookDelivery).where(WebhookDelivery.delivery_id == ids.pop())
            )
        ).scalar_one()
        attempts = (
            await session.execute(
                sa.select(WebhookAttempt.result, WebhookAttempt.status_code)
                .where(WebhookAttempt.delivery_pk == row.id)
                .order_by(WebhookAttempt.id)
            )
        ).all()
    assert (row.status, row.attempts, row.last_status_code) == ("sent", 2, 200)
    assert [tuple(a) for a in attempts] == [("retry", 500), ("sent", 200)]


async def test_429_waits_exactly_as_long_as_retry_after_says(
    hooks_runtime: Runtime,
    receiver: Receiver,
    subscriptions: Subscriptions,
    deliverer: WebhookDeliverer,
    clock: ManualClock,
) -> None:
    await subscriptions.create(receiver, ["risk.report_created"])
    receiver.script = [(429, {"Retry-After": "120"})]
    await emit_risk(hooks_runtime, 2)
    await drain(deliverer)
    assert [r.status for r in receiver.requests] == [429]
    clock.advance(seconds=119)
    await drain(deliverer)
    assert len(receiver.requests) == 1, "not before Retry-After has passed"
    clock.advance(seconds=1)
    await drain(deliverer)
    assert [r.status for r in receiver.requests] == [429, 200]
    assert all(receiver.verified)


async def test_a_dead_delivery_is_listed_and_redelivered_by_the_api(
    hooks_app: FastAPI,
    hooks_runtime: Runtime,
    admin_token: str,
    receiver: Receiver,
    subscriptions: Subscriptions,
    deliverer: WebhookDeliverer,
    clock: ManualClock,
) -> None:
    sub = await subscriptions.create(receiver, ["risk.report_created"])
    receiver.script = [(503, {})] * 3  # max_attempts is 3 in these tests
    await emit_risk(hooks_runtime, 3)
    for _ in range(3):
        await drain(deliverer)
        clock.advance(seconds=60)
    assert [r.status for r in receiver.requests] == [503, 503, 503]
    async with client(hooks_app, admin_token) as http:
        listed = await http.get(f"/api/v1/admin/webhooks/{sub['id']}/deliveries?status=dead")
        assert listed.status_code == 200
        [dead] = listed.json()["items"]
        assert (dead["attempts"], dead["last_status_code"]) == (3, 503)
        assert "HTTP 503" in dead["last_error"]
        again = await http.post(
            f"/api/v1/admin/webhooks/{sub['id']}/deliveries/{dead['delivery_id']}/redeliver"
        )
        assert again.status_code == 202, again.text
        assert again.json()["status"] == "pending"
        missing = await http.post(
            f"/api/v1/admin/webhooks/{sub['id']}/deliveries/00000000-0000-0000-0000-000000000000/redeliver"
        )
        assert missing.status_code == 404
    await drain(deliverer)
    assert [r.status for r in receiver.requests] == [503, 503, 503, 200]
    assert {r.headers["x-parley-delivery"] for r in receiver.requests} == {dead["delivery_id"]}
    async with client(hooks_app, admin_token) as http:
        sent = await http.get(f"/api/v1/admin/webhooks/{sub['id']}/deliveries?status=sent")
        assert [d["delivery_id"] for d in sent.json()["items"]] == [dead["delivery_id"]]
        events = await http.get("/api/v1/me")
        assert events.status_code == 200


async def test_one_tickets_events_wait_for_its_failed_first_event(
    hooks_app: FastAPI,
    hooks_runtime: Runtime,
    receiver: Receiver,
    subscriptions: Subscriptions,
    deliverer: WebhookDeliverer,
    clock: ManualClock,
    unique: str,
) -> None:
    await subscriptions.create(receiver, ["message.created"])
    queue = f"order-{unique}"
    token = await make_agent(hooks_runtime, [queue])
    slow = await new_ticket(hooks_runtime, queue)  # its first event will fail once
    other = await new_ticket(hooks_runtime, queue)
    async with client(hooks_app, token) as http:
        for i in range(4):
            for ref in (slow.ticket_ref, other.ticket_ref):
                response = await http.post(
                    f"/api/v1/tickets/{ref}/replies", json={"text": f"{ref} part {i}"}
                )
                assert response.status_code == 201
    receiver.script = [(500, {})]  # the oldest pending delivery is the slow ticket's
    await drain(deliverer)
    assert json.loads(receiver.requests[0].body)["data"]["ticket"]["ref"] == slow.ticket_ref
    assert events_of(receiver, slow.ticket_ref) == [], "held back behind its first event"
    assert len(events_of(receiver, other.ticket_ref)) == 5, "another ticket is not held up"
    clock.advance(seconds=30)
    await drain(deliverer)
    texts = [e["data"]["message"]["text"] for e in events_of(receiver, slow.ticket_ref)]
    assert texts == [texts[0]] + [f"{slow.ticket_ref} part {i}" for i in range(4)]
    assert all(receiver.verified)


async def test_a_rotated_secret_and_its_predecessor_both_sign_during_the_grace(
    hooks_app: FastAPI,
    hooks_runtime: Runtime,
    admin_token: str,
    receiver: Receiver,
    subscriptions: Subscriptions,
    deliverer: WebhookDeliverer,
) -> None:
    sub = await subscriptions.create(receiver, ["risk.report_created"])
    old_secret = receiver.secrets[0]
    async with client(hooks_app, admin_token) as http:
        rotated = await http.post(f"/api/v1/admin/webhooks/{sub['id']}/rotate-secret")
    assert rotated.status_code == 200
    new_secret = rotated.json()["secret"]
    assert new_secret != old_secret and rotated.json()["rotating"] is True
    await emit_risk(hooks_runtime, 4)
    await drain(deliverer)
    [request] = receiver.requests
    header, body = request.headers["x-parley-signature"], request.body
    from tests.gateway.webhooks.conftest import readme_verify

    verify = readme_verify()
    assert verify(new_secret, header, body) and verify(old_secret, header, body)
    assert not verify("whsec_someone-else", header, body)
    assert not verify(new_secret, header, body + b" ")
    stale = header.replace(header.split(",")[0], "t=1000000000")
    assert not verify(new_secret, stale, body), "an old timestamp is refused"


async def test_a_deactivated_subscriber_gets_nothing_new(
    hooks_app: FastAPI,
    hooks_runtime: Runtime,
    admin_token: str,
    receiver: Receiver,
    subscriptions: Subscriptions,
    deliverer: WebhookDeliverer,
) -> None:
    sub = await subscriptions.create(receiver, ["risk.report_created"])
    async with client(hooks_app, admin_token) as http:
        off = await http.patch(f"/api/v1/admin/webhooks/{sub['id']}", json={"active": False})
    assert off.status_code == 200 and off.json()["active"] is False
    assert await emit_risk_maybe(hooks_runtime) is None
    await drain(deliverer)
    assert receiver.requests == []


async def emit_risk_maybe(runtime: Runtime) -> str | None:
    async with runtime.sessionmaker.begin() as session:
        return await emit(session, "risk.report_created", data={"report": 0})


async def test_triage_changes_and_attachments_reach_the_receiver(
    hooks_app: FastAPI,
    hooks_runtime: Runtime,
    receiver: Receiver,
    subscriptions: Subscriptions,
    deliverer: WebhookDeliverer,
    unique: str,
) -> None:
    await subscriptions.create(receiver, ["ticket.updated", "message.created"])
    queue = f"triage-{unique}"
    boss = await make_agent(hooks_runtime, [queue], role=Role.supervisor)
    ticket = await new_ticket(hooks_runtime, queue)
    ref = ticket.ticket_ref
    receipt = base64.b64encode(b"%PDF-1.4 bank receipt").decode()
    async with client(hooks_app, boss) as http:
        patched = await http.patch(f"/api/v1/tickets/{ref}", json={"severity": "critical"})
        assert patched.status_code == 200, patched.text
        reply = await http.post(
            f"/api/v1/tickets/{ref}/replies",
            json={
                "text": "Our receipt",
                "attachments": [
                    {
                        "filename": "receipt.pdf",
                        "content_type": "application/pdf",
                        "content_base64": receipt,
                    }
                ],
            },
        )
        assert reply.status_code == 201, reply.text
    await drain(deliverer)
    events = events_of(receiver, ref)
    [triage] = [
        e for e in events if e["type"] == "ticket.updated" and "severity" in e["data"]["changes"]
    ]
    assert triage["data"]["changes"]["severity"] == {"old": "normal", "new": "critical"}
    assert triage["data"]["by"] == "triage_correction"
    [sent] = [
        e for e in events if e["type"] == "message.created" and e["data"]["message"]["attachments"]
    ]
    [file] = sent["data"]["message"]["attachments"]
    assert file["filename"] == "receipt.pdf" and file["size"] == len(b"%PDF-1.4 bank receipt")
    assert file["download_url"].startswith(
        f"https://desk.example/api/v1/tickets/{ref}/attachments/"
    )
    path = file["download_url"].removeprefix("https://desk.example")
    async with client(hooks_app, boss) as http:
        fetched = await http.get(path)
    async with client(hooks_app) as http:
        anonymous = await http.get(path)
    assert fetched.status_code == 200 and fetched.content == b"%PDF-1.4 bank receipt"
    assert anonymous.status_code == 401, "the download URL needs a token"
    assert all(receiver.verified)
