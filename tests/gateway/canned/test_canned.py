"""Canned replies: the admin API, the starter set, and what the ticket page offers."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from fastapi import FastAPI

from gateway.agents.models import Role
from gateway.canned import placeholders, starter
from gateway.runtime import Runtime
from gateway.tickets.models import Customer, Ticket
from tests.desk import client, make_agent, new_ticket
from tests.gateway.console.helpers import browser, sign_in
from tests.processes import gateway_env, run_cli


async def test_admin_api_validates_and_manages_canned_replies(
    app: FastAPI, runtime: Runtime, unique: str
) -> None:
    admin = await make_agent(runtime, [], role=Role.admin)
    body = {
        "name": f"proof-{unique}",
        "category": "chargeback",
        "bodies": {"en": "Hi {customer_name}"},
    }
    async with client(app, admin) as api:
        created = await api.post("/api/v1/admin/canned", json=body)
        assert created.status_code == 201, created.text
        reply_id = created.json()["id"]
        assert (await api.post("/api/v1/admin/canned", json=body)).status_code == 409
        no_english = body | {"name": f"x-{unique}", "bodies": {"ru": "Привет"}}
        assert (await api.post("/api/v1/admin/canned", json=no_english)).status_code == 422
        typo = body | {"name": f"y-{unique}", "bodies": {"en": "Hi {custmer}"}}
        refused = await api.post("/api/v1/admin/canned", json=typo)
        assert refused.status_code == 422 and "custmer" in refused.text
        bad_category = body | {"name": f"z-{unique}", "category": "nope"}
        assert (await api.post("/api/v1/admin/canned", json=bad_category)).status_code == 422
        put = await api.put(
            f"/api/v1/admin/canned/{reply_id}",
            json={"category": None, "bodies": {"en": "Hello", "ru": "Здравствуйте"}},
        )
        assert put.status_code == 200 and put.json()["bodies"]["ru"] == "Здравствуйте"
        names = [r["name"] for r in (await api.get("/api/v1/admin/canned")).json()["items"]]
        assert f"proof-{unique}" in names
        assert (await api.delete(f"/api/v1/admin/canned/{reply_id}")).status_code == 204
        assert (await api.get(f"/api/v1/admin/canned/{reply_id}")).status_code == 404
    async with client(app, await make_agent(runtime, [])) as api:
        assert (await api.get("/api/v1/admin/canned")).status_code == 403


def test_fill_leaves_missing_values_visible() -> None:
    text = placeholders.fill(
        "{customer_name}: {order_ref} {amount} {deadline} {agent_name} {other}",
        {"customer_name": "Иван", "order_ref": None, "amount": "500 USDT", "agent_name": "ana"},
    )
    assert text == "Иван: {order_ref} 500 USDT {deadline} ana {other}"


def test_the_starter_set_covers_the_desk_languages() -> None:
    replies = starter.parse(starter.SAMPLE.read_text("utf-8"))
    assert {r.name for r in replies} == {
        "Payment proof request",
        "Release instructions",
        "Chargeback steps",
        "Frozen account steps",
        "Scam warning",
    }
    for reply in replies:
        assert {"en", "ru", "zh", "vi", "id", "tr", "es", "pt", "ar"} <= set(reply.bodies)


def test_gateway_canned_load_creates_then_refreshes(tmp_path: Path) -> None:
    env = gateway_env(f"sqlite+aiosqlite:///{tmp_path / 'canned.db'}", tmp_path)
    first = run_cli(["canned", "load"], env, tmp_path)
    assert first.returncode == 0, first.stderr
    assert "5 created, 0 updated" in first.stdout
    again = run_cli(["canned", "load"], env, tmp_path)
    assert "0 created, 5 updated" in again.stdout
    broken = tmp_path / "broken.toml"
    broken.write_text('[[canned]]\nname = "x"\n[canned.bodies]\nru = "только русский"\n')
    refused = run_cli(["canned", "load", str(broken)], env, tmp_path)
    assert refused.returncode == 2 and "English" in refused.stderr


async def test_ticket_page_offers_the_customers_language_first_and_warns_on_fallback(
    app: FastAPI, runtime: Runtime, unique: str
) -> None:
    queue = f"q-{unique}"
    admin = await make_agent(runtime, [queue], role=Role.admin, name=f"ad-{unique}")
    category = "account_takeover"
    async with client(app, admin) as api:
        for name, bodies in [
            (
                f"ru-{unique}",
                {
                    "en": "EN {customer_name}",
                    "ru": "Здравствуйте, {customer_name}! Ордер {order_ref}, {amount}. "
                    "{agent_name}",
                },
            ),
            (f"en-{unique}", {"en": "Only English for {customer_name}"}),
        ]:
            created = await api.post(
                "/api/v1/admin/canned", json={"name": name, "category": category, "bodies": bodies}
            )
            assert created.status_code == 201
    ticket = await new_ticket(runtime, queue, text="Мой аккаунт взломали")
    async with runtime.sessionmaker.begin() as session:
        row = await session.get_one(Ticket, ticket.ticket_id)
        row.category, row.language = category, "ru"
        row.order_ref, row.amount, row.currency = "P2P-77", Decimal("500.00"), "USDT"
        customer = await session.get_one(Customer, row.customer_id)
        customer.display_name, customer.language = "Иван", "ru"
    async with browser(app) as http:
        await sign_in(http, admin)
        page = (await http.get(f"/console/tickets/{ticket.ticket_ref}")).text
    russian = page.index(f"ru-{unique}")
    english = page.index(f"en-{unique}")
    assert russian < english
    assert f"Здравствуйте, Иван! Ордер P2P-77, 500 USDT. ad-{unique}" in page
    assert "Only English for Иван" in page
    assert page.count("this is the English text") == 1


async def test_console_canned_page_lets_admins_write_and_agents_read(
    app: FastAPI, runtime: Runtime, unique: str
) -> None:
    admin = await make_agent(runtime, [], role=Role.admin)
    agent = await make_agent(runtime, [f"q-{unique}"])
    async with browser(app) as http:
        csrf = await sign_in(http, admin)
        saved = await http.post(
            "/console/canned",
            data={
                "csrf": csrf,
                "name": f"page-{unique}",
                "category": "other",
                "body_en": "Hi {agent_name}",
                "body_ru": "",
            },
        )
        assert saved.status_code == 303, saved.text
        bad = await http.post(
            "/console/canned", data={"csrf": csrf, "name": f"bad-{unique}", "body_ru": "нет"}
        )
        assert bad.status_code == 422 and "English" in bad.text
    async with browser(app) as http:
        csrf = await sign_in(http, agent)
        page = await http.get("/console/canned")
        assert f"page-{unique}" in page.text and "Hi {agent_name}" in page.text
        refused = await http.post(
            "/console/canned", data={"csrf": csrf, "name": f"x-{unique}", "body_en": "x"}
        )
        assert refused.status_code == 403
