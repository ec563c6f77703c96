"""Property: the agent routes' path and query parameters, whatever they hold, get an
answer below 500."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from fastapi import FastAPI
from hypothesis import given
from hypothesis import strategies as st

from gateway.agents.models import Role
from gateway.runtime import Runtime
from tests.desk import client, make_agent, new_ticket
from tests.hostile import bounded, hostile_text, id_strings


@pytest.fixture
async def admin(runtime: Runtime, unique: str) -> tuple[str, str, str]:
    queue = f"prop-{unique}"
    token = await make_agent(runtime, [queue], role=Role.admin)
    ref = (await new_ticket(runtime, queue)).ticket_ref
    return token, queue, ref


def _path(value: str) -> str:
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


@bounded
@given(ref=st.one_of(id_strings.map(lambda s: f"D-{s}"), hostile_text), item=id_strings)
async def test_ticket_paths_never_fail(
    app: FastAPI, admin: tuple[str, str, str], ref: str, item: str
) -> None:
    token, _queue, _ref = admin
    async with client(app, token) as http:
        for path in (
            f"/api/v1/tickets/{_path(ref)}",
            f"/api/v1/tickets/{_path(ref)}/events",
            f"/api/v1/tickets/{_path(ref)}/attachments/{_path(item)}",
        ):
            response = await http.get(path)
            assert response.status_code < 500, (path, response.text)


@bounded
@given(
    name=hostile_text,
    cursor=id_strings,
    limit=id_strings,
    status=hostile_text,
    order_ref=hostile_text,
)
async def test_queue_and_admin_params_never_fail(
    app: FastAPI,
    admin: tuple[str, str, str],
    name: str,
    cursor: str,
    limit: str,
    status: str,
    order_ref: str,
) -> None:
    token, queue, _ref = admin
    query = {"cursor": cursor, "limit": limit, "status": status, "order_ref": order_ref}
    encoded = "&".join(f"{k}={_path(v)}" for k, v in query.items())
    async with client(app, token) as http:
        for method, path in (
            ("GET", f"/api/v1/queues/{queue}/tickets?{encoded}"),
            ("GET", f"/api/v1/queues/{_path(name)}/tickets?cursor={_path(cursor)}"),
            ("PATCH", f"/api/v1/admin/agents/{_path(name)}"),
            ("POST", f"/api/v1/queues/{_path(name)}/claim?wait=0"),
        ):
            response = await http.request(method, path, json={"capacity": 3})
            assert response.status_code < 500, (method, path, response.text)
