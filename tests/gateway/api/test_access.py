"""Nobody sees what is not theirs: agents of one queue against tickets of another."""

from __future__ import annotations

from fastapi import FastAPI

from gateway.agents.models import Role
from gateway.runtime import Runtime
from tests.desk import client, make_agent, new_ticket


async def test_agent_of_queue_a_cannot_touch_a_ticket_of_queue_b(
    app: FastAPI, runtime: Runtime, unique: str
) -> None:
    queue_a, queue_b = f"a-{unique}", f"b-{unique}"
    token_a = await make_agent(runtime, [queue_a])
    secret = await new_ticket(runtime, queue_b, text="my card number is in here")
    ref = secret.ticket_ref
    missing = f"D-{secret.ticket_id + 100_000}"
    async with client(app, token_a) as http:
        listed = await http.get(f"/api/v1/queues/{queue_b}/tickets")
        assert listed.status_code == 403
        assert (await http.post(f"/api/v1/queues/{queue_b}/claim")).status_code == 403
        assert (await http.post("/api/v1/claim")).status_code == 204  # never B's ticket
        queues = (await http.get("/api/v1/queues")).json()["items"]
        assert [q["name"] for q in queues] == [queue_a]
        # A foreign ticket and a ticket that does not exist look exactly alike.
        for target in (ref, missing):
            for method, path, body in [
                ("GET", "", None),
                ("GET", "/events", None),
                ("POST", "/replies", {"text": "hi"}),
                ("POST", "/notes", {"text": "hi"}),
                ("POST", "/status", {"status": "resolved"}),
                ("POST", "/transfer", {"queue": queue_a}),
                ("POST", "/escalate", {"reason": "x"}),
                ("POST", "/release", None),
            ]:
                response = await http.request(method, f"/api/v1/tickets/{target}{path}", json=body)
                assert response.status_code == 404, (target, path, response.text)
                assert response.json() == {"detail": f"no ticket {target} in your queues"}
                assert "card" not in response.text
    async with client(app, await make_agent(runtime, [queue_b])) as http:
        ticket = (await http.get(f"/api/v1/tickets/{ref}")).json()
        assert len(ticket["messages"]) == 1  # nothing the intruder tried was written


async def test_supervisor_sees_every_queue(app: FastAPI, runtime: Runtime, unique: str) -> None:
    ref = (await new_ticket(runtime, f"far-{unique}")).ticket_ref
    async with client(app, await make_agent(runtime, [], role=Role.supervisor)) as http:
        assert (await http.get(f"/api/v1/tickets/{ref}")).status_code == 200
        assert (await http.get(f"/api/v1/queues/far-{unique}/tickets")).json()["items"][0][
            "ref"
        ] == ref


async def test_missing_wrong_and_revoked_tokens_are_401(
    app: FastAPI, runtime: Runtime, unique: str
) -> None:
    admin = await make_agent(runtime, [], role=Role.admin)
    async with client(app, admin) as http:
        created = await http.post(
            "/api/v1/admin/agents", json={"name": f"temp-{unique}", "queues": ["general"]}
        )
        assert created.status_code == 201
        token = created.json()["token"]
    async with client(app, token) as http:
        assert (await http.get("/api/v1/me")).status_code == 200
    async with client(app, admin) as http:
        assert (await http.delete(f"/api/v1/admin/agents/temp-{unique}")).status_code == 204
    for bad in (token, "prl_forged", None):
        async with client(app, bad) as http:
            response = await http.get("/api/v1/me")
            assert response.status_code == 401
            assert response.headers["www-authenticate"] == "Bearer"
    async with client(app, None) as http:
        basic = await http.get("/api/v1/me", headers={"Authorization": "Basic YTpi"})
        assert basic.status_code == 401


async def test_only_admins_manage_agents(app: FastAPI, runtime: Runtime, unique: str) -> None:
    supervisor = await make_agent(runtime, [], role=Role.supervisor)
    async with client(app, supervisor) as http:
        response = await http.post("/api/v1/admin/agents", json={"name": f"x-{unique}"})
        assert response.status_code == 403
        assert (await http.get("/api/v1/admin/agents")).status_code == 403


async def test_admin_changes_queues_and_language_validation(
    app: FastAPI, runtime: Runtime, unique: str
) -> None:
    admin = await make_agent(runtime, [], role=Role.admin)
    async with client(app, admin) as http:
        await http.post(
            "/api/v1/admin/agents", json={"name": f"li-{unique}", "queues": ["general"]}
        )
        changed = await http.patch(
            f"/api/v1/admin/agents/li-{unique}",
            json={"queues": [f"zh-{unique}"], "languages": ["zh", "en"]},
        )
        assert changed.status_code == 200
        assert changed.json()["queues"] == [f"zh-{unique}"] and changed.json()["languages"] == [
            "zh",
            "en",
        ]
        bad = await http.patch(
            f"/api/v1/admin/agents/li-{unique}", json={"languages": ["<script>"]}
        )
        assert bad.status_code == 422
        assert (
            await http.patch("/api/v1/admin/agents/nobody-x", json={"capacity": 3})
        ).status_code == 404
