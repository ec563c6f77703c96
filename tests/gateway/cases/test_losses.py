"""Loss figures set with a decision: converted into the reporting currency at the loaded
rate of the day, audited, shown on the case; bad figures refuse the decision with 422."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from gateway.audit import AuditEvent
from gateway.cases.models import CaseDecision
from gateway.reports import rates
from gateway.reports.models import CaseLoss
from tests.gateway.cases.conftest import Desk, new_order_ref, order_facts
from tests.gateway.cases.helpers import Dispute, case_json, open_dispute, supervisor

EUR_USD = Decimal("1.08")


async def load_rates(desk: Desk, *entries: tuple[str, str, str, date]) -> None:
    async with desk.runtime.sessionmaker.begin() as session:
        await rates.load(session, [rates.Rate(c, q, Decimal(r), d) for c, q, r, d in entries])


async def eur_rates(desk: Desk) -> None:
    await load_rates(desk, ("EUR", "USD", str(EUR_USD), date(2026, 1, 1)))


async def decide(desk: Desk, token: str, case_id: int, loss: dict[str, Any]) -> Any:
    async with desk.api(token) as api:
        return await api.post(
            f"/api/v1/cases/{case_id}/decision",
            json={"outcome": "return_to_seller", "reason": "no payment arrived", "loss": loss},
        )


async def test_the_figures_are_converted_audited_and_shown(desk: Desk) -> None:
    await eur_rates(desk)
    token = await supervisor(desk)
    dispute = await open_dispute(desk, token)
    loss = {
        "lost": {"seller": "400.00", "exchange": "60"},
        "recovered": "100.50",
        "chargeback": {"network": "visa", "reason_code": "10.4", "due_by": "2026-12-20"},
    }
    response = await decide(desk, token, dispute.case_id, loss)
    assert response.status_code == 201, response.text
    figures = response.json()["decision"]["loss"]
    # The order's amount (460.00 EUR) is the amount in dispute when none is given.
    assert figures["order_currency"] == {
        "currency": "EUR",
        "in_dispute": "460.00",
        "lost_buyer": "0.00",
        "lost_seller": "400.00",
        "lost_exchange": "60.00",
        "lost": "460.00",
        "recovered": "100.50",
        "net_loss": "359.50",
    }
    reporting = figures["reporting"]
    assert reporting["currency"] == "USD"
    assert Decimal(reporting["in_dispute"]) == Decimal("496.80")
    assert Decimal(reporting["lost_seller"]) == Decimal("432.00")
    assert Decimal(reporting["lost_exchange"]) == Decimal("64.80")
    assert Decimal(reporting["recovered"]) == Decimal("108.54")
    assert Decimal(reporting["net_loss"]) == Decimal("388.26")
    assert Decimal(figures["rate"]) == EUR_USD and figures["rate_date"] == "2026-01-01"
    assert figures["chargeback"] == {
        "network": "visa",
        "reason_code": "10.4",
        "due_by": "2026-12-20",
    }

    case = await case_json(desk, token, dispute.case_id)
    assert case["decisions"][0]["loss"] == figures
    async with desk.runtime.sessionmaker() as session:
        row = await session.scalar(sa.select(CaseLoss).where(CaseLoss.case_id == dispute.case_id))
        assert row is not None
        assert (row.category, row.payment_method, row.asset, row.channel) == (
            "crypto_not_released",
            "SEPA",
            "USDT",
            "webchat",
        )
        assert row.week.weekday() == 0 and row.lost_exchange_minor == 6480
        [event] = (
            await session.execute(
                sa.select(AuditEvent).where(
                    AuditEvent.case_id == dispute.case_id, AuditEvent.action == "case.loss_set"
                )
            )
        ).scalars()
    assert event.actor_agent_id is not None
    assert event.data["lost_seller"] == "400.00" and event.data["rate"] == "1.08"
    assert event.data["chargeback"]["reason_code"] == "10.4"


async def _still_open(desk: Desk, dispute: Dispute) -> None:
    decided = await desk.scalar(
        sa.select(sa.func.count()).where(CaseDecision.case_id == dispute.case_id)
    )
    assert decided == 0


async def test_bad_figures_refuse_the_decision_with_the_reason(desk: Desk) -> None:
    await eur_rates(desk)
    token = await supervisor(desk)
    dispute = await open_dispute(desk, token)
    cases = [
        ({"lost": {"buyer": "500"}}, "more than the amount in dispute"),
        ({"lost": {"buyer": "10"}, "recovered": "11"}, "recovered (11) is more than"),
        ({"lost": {"buyer": "-1"}}, "greater than or equal to 0"),
        ({"currency": "GBP"}, "not the order's currency EUR"),
        ({"lost": {"thief": "1"}}, "thief"),
        (
            {"chargeback": {"network": "visa", "reason_code": "14.1", "due_by": "2026-12-20"}},
            "Visa reason code '14.1' is not one of",
        ),
        (
            {
                "chargeback": {
                    "network": "mastercard",
                    "reason_code": "4937",
                    "due_by": "2026-12-20",
                }
            },
            "48xx",
        ),
        (
            {"chargeback": {"network": "amex", "reason_code": "4837", "due_by": "2026-12-20"}},
            "network",
        ),
        ({"chargeback": {"network": "visa", "reason_code": "10.4"}}, "due_by"),
    ]
    for loss, reason in cases:
        response = await decide(desk, token, dispute.case_id, loss)
        assert response.status_code == 422, (loss, response.text)
        assert reason in response.json()["detail"], (loss, response.text)
    await _still_open(desk, dispute)
    ok = {
        "lost": {"buyer": "5"},
        "chargeback": {"network": "mastercard", "reason_code": "4837", "due_by": "2026-12-20"},
    }
    response = await decide(desk, token, dispute.case_id, ok)
    assert response.status_code == 201, response.text
    assert response.json()["decision"]["loss"]["chargeback"]["reason_code"] == "4837"


async def test_a_missing_rate_names_the_fix_and_decides_nothing(desk: Desk) -> None:
    token = await supervisor(desk)
    dispute = await open_dispute(desk, token)
    # An order in a currency nobody loaded a rate for.
    facts = order_facts(dispute.buyer_id, dispute.seller_id, fiat_currency="CHF")
    assert (await desk.push_order(dispute.order_ref, facts)).status_code == 200
    response = await decide(desk, token, dispute.case_id, {"lost": {"buyer": "10"}})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "no CHF->USD exchange rate effective on" in detail
    assert "gateway rates load FILE" in detail
    await _still_open(desk, dispute)
    # A rate that takes effect only later does not count either; one in force does.
    await load_rates(desk, ("CHF", "USD", "1.2", date(2099, 1, 1)))
    assert (await decide(desk, token, dispute.case_id, {})).status_code == 422
    await load_rates(desk, ("CHF", "USD", "1.25", date(2026, 6, 1)))
    response = await decide(desk, token, dispute.case_id, {"lost": {"buyer": "10"}})
    assert response.status_code == 201, response.text
    loss = response.json()["decision"]["loss"]
    assert Decimal(loss["reporting"]["lost_buyer"]) == Decimal("12.50")
    assert loss["rate_date"] == "2026-06-01"


async def test_a_decision_without_figures_still_decides(desk: Desk) -> None:
    token = await supervisor(desk)
    ref = new_order_ref()
    assert ref  # a dispute of its own
    dispute = await open_dispute(desk, token)
    async with desk.api(token) as api:
        response = await api.post(
            f"/api/v1/cases/{dispute.case_id}/decision",
            json={"outcome": "no_action", "reason": "both sides withdrew"},
        )
    assert response.status_code == 201, response.text
    assert response.json()["decision"]["loss"] is None
    assert (
        await desk.scalar(sa.select(sa.func.count()).where(CaseLoss.case_id == dispute.case_id))
        == 0
    )


async def test_a_decided_loss_reaches_the_loss_report(desk: Desk) -> None:
    await eur_rates(desk)
    token = await supervisor(desk)

    async def totals() -> dict[str, Any]:
        async with desk.api(token) as api:
            response = await api.get("/api/v1/reports/losses", params={"group_by": "category"})
        assert response.status_code == 200, response.text
        return dict(response.json()["totals"])

    before = await totals()
    for lost in ("100", "250.50"):
        dispute = await open_dispute(desk, token)
        assert (
            await decide(desk, token, dispute.case_id, {"lost": {"exchange": lost}})
        ).status_code == 201
    after = await totals()
    assert after["cases"] - before["cases"] == 2
    # 350.50 EUR at 1.08 = 108.00 + 270.54 USD
    assert Decimal(after["lost_exchange"]) - Decimal(before["lost_exchange"]) == Decimal("378.54")
