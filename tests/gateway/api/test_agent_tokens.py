"""Tokens end with the agent's deactivation and can be reissued, over the admin API."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import FastAPI

from gateway.agents.models import Role
from gateway.models import AuditEvent
from gateway.runtime import Runtime
from tests.desk import client, make_agent


async def _new_agent(app: FastAPI, admin: str, name: str) -> str:
    async with client(app, admin) as http:
        created = await http.post("/api/v1/admin/agents", json={"name": name})
        assert created.status_code == 201
        return str(created.json()["token"])


async def _me_status(app: FastAPI, token: str) -> int:
    async with client(app, token) as http:
        return (await http.get("/api/v1/me")).status_code


async def test_reactivating_a_deleted_agent_does_not_revive_its_old_token(
    app: FastAPI, runtime: Runtime, unique: str
) -> None:
    admin = await make_agent(runtime, [], role=Role.admin)
    name = f"leaver-{unique}"
    old = await _new_agent(app, admin, name)
    async with client(app, admin) as http:
        assert (await http.delete(f"/api/v1/admin/agents/{name}")).status_code == 204
        back = await http.patch(f"/api/v1/admin/agents/{name}", json={"active": True})
        assert back.status_code == 200 and back.json()["active"] is True
    assert await _me_status(app, old) == 401


async def test_switching_an_agent_off_by_patch_revokes_its_token_too(
    app: FastAPI, runtime: Runtime, unique: str
) -> None:
    admin = await make_agent(runtime, [], role=Role.admin)
    name = f"paused-{unique}"
    old = await _new_agent(app, admin, name)
    async with client(app, admin) as http:
        for active in (False, True):
            response = await http.patch(f"/api/v1/admin/agents/{name}", json={"active": active})
            assert response.status_code == 200
    assert await _me_status(app, old) == 401


async def test_rotating_a_token_shows_the_new_one_once_and_ends_the_old_one(
    app: FastAPI, runtime: Runtime, unique: str
) -> None:
    admin = await make_agent(runtime, [], role=Role.admin)
    name = f"rotor-{unique}"
    old = await _new_agent(app, admin, name)
    async with client(app, admin) as http:
        rotated = await http.post(f"/api/v1/admin/agents/{name}/token")
        assert rotated.status_code == 200
        body = rotated.json()
        assert body["name"] == name and body["token"].startswith("prl_")
        listed = (await http.get("/api/v1/admin/agents")).json()["items"]
        assert all("token" not in item for item in listed)
        missing = await http.post(f"/api/v1/admin/agents/nobody-{unique}/token")
        assert missing.status_code == 404
    assert await _me_status(app, old) == 401
    assert await _me_status(app, body["token"]) == 200
    async with runtime.sessionmaker() as session:
        rotations = list(
            await session.scalars(
                sa.select(AuditEvent.data).where(AuditEvent.action == "agent.token_rotated")
            )
        )
    assert body["id"] in [data["agent"] for data in rotations]


async def test_only_admins_rotate_tokens(app: FastAPI, runtime: Runtime, unique: str) -> None:
    admin = await make_agent(runtime, [], role=Role.admin)
    name = f"target-{unique}"
    token = await _new_agent(app, admin, name)
    supervisor = await make_agent(runtime, [], role=Role.supervisor)
    async with client(app, supervisor) as http:
        assert (await http.post(f"/api/v1/admin/agents/{name}/token")).status_code == 403
    assert await _me_status(app, token) == 200
