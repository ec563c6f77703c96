"""The risk tests run on the case tests' desk: HTTP with the web chat, SMTP, an exchange
integration token, both databases."""

from __future__ import annotations

import uuid
from typing import Any

from gateway.agents.models import Role
from tests.desk import make_agent
from tests.gateway.cases import conftest as cases
from tests.gateway.cases.conftest import Desk, new_order_ref, order_facts
from tests.gateway.webhooks import conftest as hooks

desk = cases.desk  # the case tests' desk fixture, shared
# The webhook tests' receiver on loopback and a deliverer that may call it.
hooks_runtime, hooks_app, admin_token = hooks.hooks_runtime, hooks.hooks_app, hooks.admin_token
receiver, clock, deliverer, subscriptions = (
    hooks.receiver,
    hooks.clock,
    hooks.deliverer,
    hooks.subscriptions,
)

RISK_QUEUE = "risk"


async def risk_agent(desk: Desk) -> str:
    """An agent of the risk queue: a risk reviewer."""
    return await make_agent(desk.runtime, [RISK_QUEUE])


async def plain_agent(desk: Desk) -> str:
    return await make_agent(desk.runtime, ["general"])


async def supervisor(desk: Desk) -> str:
    return await make_agent(desk.runtime, ["general"], role=Role.supervisor)


def tag() -> str:
    return uuid.uuid4().hex[:8]


async def push(desk: Desk, buyer: str, seller: str, **overrides: Any) -> str:
    ref = new_order_ref()
    # The buyer's own payer name (the shared desk database has other tests' orders).
    overrides.setdefault("payer_account_name", f"PAYER {buyer}")
    response = await desk.push_order(ref, order_facts(buyer, seller, **overrides))
    assert response.status_code == 201, response.text
    return ref


async def dispute(desk: Desk, buyer: str, seller: str, **overrides: Any) -> tuple[str, str]:
    """An order, then its verified buyer complaining in the widget: (order ref, ticket)."""
    ref = await push(desk, buyer, seller, **overrides)
    visitor = await desk.visitor(buyer)
    ack = await desk.chat(visitor, f"I paid for order {ref} but the seller did not release")
    return ref, str(ack["ticket"])


async def account(desk: Desk, token: str, user_id: str) -> dict[str, Any]:
    async with desk.api(token) as api:
        response = await api.get(f"/api/v1/risk/accounts/{user_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def kinds(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["kind"]: s for s in body["signals"]}
