"""Admins replace and read the routing rules over HTTP; a bad file changes nothing."""

from __future__ import annotations

from fastapi import FastAPI

from gateway.agents.models import Role
from gateway.routing.rules import RuleSet
from gateway.routing.service import load_rules
from gateway.runtime import Runtime
from tests.desk import client, make_agent
from tests.gateway.routing.test_service import SAMPLE


async def test_admin_replaces_and_reads_rules(app: FastAPI, runtime: Runtime) -> None:
    admin = await make_agent(runtime, [], role=Role.admin)
    try:
        async with client(app, admin) as http:
            loaded = await http.put(
                "/api/v1/admin/rules",
                content=SAMPLE.read_bytes(),
                headers={"Content-Type": "application/toml"},
            )
            assert loaded.status_code == 200, loaded.text
            assert loaded.json()["rules"] > 0
            shown = await http.get("/api/v1/admin/rules")
            assert shown.status_code == 200 and "critical" in shown.text

            broken = await http.put("/api/v1/admin/rules", content=b"[[rules]]\nname = 1\n")
            assert broken.status_code == 422 and broken.json()["detail"].startswith("rules file:")
            assert (await http.put("/api/v1/admin/rules", content=b"\xff\xfe")).status_code == 422
            assert (await http.get("/api/v1/admin/rules")).text == shown.text  # unchanged
    finally:
        async with runtime.sessionmaker.begin() as session:
            await load_rules(session, RuleSet(queues=(), rules=()))


async def test_agents_may_not_touch_rules(app: FastAPI, runtime: Runtime) -> None:
    async with client(app, await make_agent(runtime, [], role=Role.supervisor)) as http:
        assert (await http.get("/api/v1/admin/rules")).status_code == 403
        assert (await http.put("/api/v1/admin/rules", content=b"")).status_code == 403
