"""Console sign-in, cookie flags, CSRF, expiry, sign-out and one-time links."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from fastapi import FastAPI

from gateway.agents.models import Agent, Role
from gateway.console import sessions
from gateway.console.models import ConsoleSession
from gateway.db import utcnow
from gateway.runtime import Runtime
from tests.desk import client, make_agent, new_ticket
from tests.gateway.console.helpers import browser, csrf_of, sign_in


async def test_sign_in_sets_a_strict_httponly_cookie_and_never_keeps_the_token(
    app: FastAPI, runtime: Runtime, unique: str
) -> None:
    token = await make_agent(runtime, [f"q-{unique}"], name=f"ana-{unique}")
    async with browser(app) as http:
        assert (await http.get("/console/queues")).headers["location"] == "/console/sign-in"
        response = await http.post("/console/sign-in", data={"token": token})
        assert response.status_code == 303
        cookie = response.headers["set-cookie"]
        assert cookie.startswith(f"{sessions.COOKIE}=")
        flags = {part.strip().lower() for part in cookie.split(";")}
        assert {"httponly", "samesite=strict", "path=/console"} <= flags
        assert "secure" not in flags  # plain HTTP here; over HTTPS the flag is set
        assert token not in cookie
        page = await http.get("/console/queues")
        assert page.status_code == 200
        assert f"ana-{unique}" in page.text and f"q-{unique}" in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY"


async def test_secure_flag_over_https(app: FastAPI, runtime: Runtime, unique: str) -> None:
    token = await make_agent(runtime, [f"q-{unique}"])
    import httpx

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="https://parley.test",
        headers={"Origin": "https://parley.test"},
    ) as http:
        response = await http.post("/console/sign-in", data={"token": token})
    assert "secure" in {p.strip().lower() for p in response.headers["set-cookie"].split(";")}


async def test_a_wrong_token_is_refused_with_a_page(app: FastAPI) -> None:
    async with browser(app) as http:
        response = await http.post("/console/sign-in", data={"token": "prl_nope"})
    assert response.status_code == 401
    assert "set-cookie" not in response.headers
    assert "not a valid API token" in response.text


async def test_state_changes_need_the_csrf_token_and_our_origin(
    app: FastAPI, runtime: Runtime, unique: str
) -> None:
    queue = f"q-{unique}"
    token = await make_agent(runtime, [queue])
    ref = (await new_ticket(runtime, queue)).ticket_ref
    async with browser(app) as http:
        csrf = await sign_in(http, token)
        # A cross-site form post: the browser sends its own Origin and no token.
        forged = await http.post(
            f"/console/tickets/{ref}/note",
            data={"text": "forged"},
            headers={"Origin": "https://evil.example"},
        )
        assert forged.status_code == 403
        # Same origin but without (or with a wrong) token.
        assert (
            await http.post(f"/console/tickets/{ref}/note", data={"text": "no token"})
        ).status_code == 403
        assert (
            await http.post(
                f"/console/tickets/{ref}/note", data={"text": "bad", "csrf": csrf + "x"}
            )
        ).status_code == 403
        # Sign-in itself refuses a cross-site post (login CSRF).
        cross = await http.post(
            "/console/sign-in", data={"token": token}, headers={"Origin": "https://evil.example"}
        )
        assert cross.status_code == 403
        ok = await http.post(f"/console/tickets/{ref}/note", data={"text": "real", "csrf": csrf})
        assert ok.status_code == 303
    async with client(app, token) as api:
        texts = [m["text"] for m in (await api.get(f"/api/v1/tickets/{ref}")).json()["messages"]]
    assert "real" in texts
    assert not {"forged", "no token", "bad"} & set(texts)


async def test_sign_out_and_expiry_end_the_session_on_the_server(
    app: FastAPI, runtime: Runtime, unique: str
) -> None:
    token = await make_agent(runtime, [f"q-{unique}"], name=f"bo-{unique}")
    async with browser(app) as http:
        csrf = await sign_in(http, token)
        cookie = http.cookies.get(sessions.COOKIE)
        out = await http.post("/console/sign-out", data={"csrf": csrf})
        assert out.status_code == 303
        http.cookies.set(sessions.COOKIE, cookie, domain="parley.test", path="/console")
        # The old cookie is worthless now, even replayed.
        assert (await http.get("/console/queues")).status_code == 303
        await sign_in(http, token)
        async with runtime.sessionmaker.begin() as session:
            agent_id = (
                await session.execute(sa.select(Agent.id).where(Agent.name == f"bo-{unique}"))
            ).scalar_one()
            await session.execute(
                sa.update(ConsoleSession)
                .where(ConsoleSession.agent_id == agent_id)
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )
        assert (await http.get("/console/queues")).headers["location"] == "/console/sign-in"


async def test_a_deactivated_agent_is_signed_out_at_once(
    app: FastAPI, runtime: Runtime, unique: str
) -> None:
    token = await make_agent(runtime, [f"q-{unique}"], name=f"cy-{unique}")
    async with browser(app) as http:
        await sign_in(http, token)
        async with runtime.sessionmaker.begin() as session:
            await session.execute(
                sa.update(Agent).where(Agent.name == f"cy-{unique}").values(active=False)
            )
        assert (await http.get("/console/queues")).status_code == 303


async def test_one_time_link_signs_in_once(app: FastAPI, runtime: Runtime, unique: str) -> None:
    admin = await make_agent(runtime, [], role=Role.admin)
    await make_agent(runtime, [f"q-{unique}"], name=f"di-{unique}")
    async with client(app, admin) as api:
        issued = await api.post(f"/api/v1/admin/agents/di-{unique}/console-link")
        assert issued.status_code == 201, issued.text
        link = issued.json()["path"]
    token = link.rsplit("/", 1)[1]
    async with browser(app) as http:
        page = await http.get(link)  # opening the link spends nothing (link previews)
        assert page.status_code == 200 and token in page.text
        first = await http.post("/console/link", data={"token": token})
        assert first.status_code == 303
        assert f"di-{unique}" in (await http.get("/console/queues")).text
    async with browser(app) as http:
        again = await http.post("/console/link", data={"token": token})
        assert again.status_code == 401
    async with client(app, await make_agent(runtime, [])) as api:
        refused = await api.post(f"/api/v1/admin/agents/di-{unique}/console-link")
        assert refused.status_code == 403


async def test_csrf_token_is_per_session(app: FastAPI, runtime: Runtime, unique: str) -> None:
    token = await make_agent(runtime, [f"q-{unique}"])
    async with browser(app) as one, browser(app) as two:
        first = await sign_in(one, token)
        second = await sign_in(two, token)
        assert first != second
        assert await csrf_of(one, "/console/queues") == first
