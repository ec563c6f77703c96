"""Admins see what intake set aside, filtered and paged."""

from __future__ import annotations

import uuid

from fastapi import FastAPI

from gateway.agents.models import Role
from gateway.deadletters.repository import set_aside
from gateway.runtime import Runtime
from tests.desk import client, make_agent


async def _set_aside(runtime: Runtime, sender: str, reason: str) -> int:
    async with runtime.sessionmaker.begin() as session:
        letter = await set_aside(
            session,
            channel="email",
            external_id=f"<{uuid.uuid4().hex}@x.test>",
            reason=reason,
            error=f"a {reason}",
            raw_blob_key=None,
            sender=sender,
        )
    assert letter.id is not None
    return letter.id


async def test_admin_lists_dead_letters_by_reason_newest_first_in_pages(
    app: FastAPI, runtime: Runtime, unique: str
) -> None:
    sender = f"robot-{unique}@x.test"
    ids = [await _set_aside(runtime, sender, "auto_reply") for _ in range(3)]
    other = await _set_aside(runtime, f"bouncer-{unique}@x.test", "bounce")
    admin = await make_agent(runtime, [], role=Role.admin)
    async with client(app, admin) as http:
        first = await http.get(
            "/api/v1/admin/dead-letters", params={"reason": "auto_reply", "limit": 2}
        )
        assert first.status_code == 200
        page = first.json()
        assert page["next_cursor"] is not None
        second = await http.get(
            "/api/v1/admin/dead-letters",
            params={"reason": "auto_reply", "limit": 200, "cursor": page["next_cursor"]},
        )
        seen = [item["id"] for item in page["items"] + second.json()["items"]]
        assert seen == sorted(seen, reverse=True)
        assert set(ids) <= set(seen) and other not in seen
        mine = [i for i in page["items"] + second.json()["items"] if i["sender"] == sender]
        assert {i["reason"] for i in mine} == {"auto_reply"} and mine[0]["channel"] == "email"
        for bad in ({"cursor": "2147483648"}, {"reason": "DROP TABLE"}, {"limit": 0}):
            assert (await http.get("/api/v1/admin/dead-letters", params=bad)).status_code == 422


async def test_dead_letters_are_for_admins_only(app: FastAPI, runtime: Runtime) -> None:
    supervisor = await make_agent(runtime, [], role=Role.supervisor)
    async with client(app, supervisor) as http:
        assert (await http.get("/api/v1/admin/dead-letters")).status_code == 403
    async with client(app, None) as http:
        assert (await http.get("/api/v1/admin/dead-letters")).status_code == 401
