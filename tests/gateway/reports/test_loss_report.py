"""GET /api/v1/reports/losses: figures that add up, week-over-week change, top movers,
CSV, bad input as 422 with the reason, supervisors only."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI

from gateway.agents.models import Role
from gateway.runtime import Runtime
from tests.desk import client, make_agent
from tests.gateway.reports.seed import Loss, fresh_monday, seed

# Three weeks: chargebacks grow on SEPA, scams fall on cards; one week-1 case was
# converted into another reporting currency and must not be added in.
LOSSES = [
    Loss(0, "chargeback", "SEPA", lost_exchange=10_000, reason_code="10.4"),
    Loss(1, "fraud_or_scam", "card", lost_buyer=50_000, recovered=5_000),
    Loss(2, "fraud_or_scam", "card", lost_seller=20_000),
    Loss(3, "chargeback", "SEPA", lost_exchange=1, reporting_currency="EUR"),
    Loss(7, "chargeback", "SEPA", lost_exchange=30_000, reason_code="10.4"),
    Loss(8, "fraud_or_scam", "card", lost_buyer=40_000),
    # week 3 (days 14-20) has nothing; week 4:
    Loss(21, "chargeback", "SEPA", lost_exchange=90_000, recovered=10_000, reason_code="13.1"),
    Loss(22, "fraud_or_scam", "card", lost_buyer=5_000, in_dispute=9_000),
]


@pytest.fixture
async def window(runtime: Runtime) -> tuple[datetime, datetime]:
    start = fresh_monday()
    await seed(runtime, start, LOSSES)
    return start, start + timedelta(weeks=4)


async def report(app: FastAPI, token: str, start: datetime, end: datetime, **params: Any) -> Any:
    async with client(app, token) as api:
        response = await api.get(
            "/api/v1/reports/losses",
            params={"from": start.isoformat(), "to": end.isoformat(), **params},
        )
    assert response.status_code == 200, response.text
    return response.json()


def money(value: str) -> Decimal:
    return Decimal(value)


async def test_totals_weeks_and_groups_add_up(
    app: FastAPI, runtime: Runtime, window: tuple[datetime, datetime]
) -> None:
    token = await make_agent(runtime, [], role=Role.supervisor)
    start, end = window
    body = await report(app, token, start, end, group_by="category")
    assert body["reporting_currency"] == "USD" and body["group_by"] == ["category"]
    totals = body["totals"]
    assert totals["cases"] == 7 and body["other_currency_cases"] == 1
    assert money(totals["lost_buyer"]) == Decimal("950.00")
    assert money(totals["lost_seller"]) == Decimal("200.00")
    assert money(totals["lost_exchange"]) == Decimal("1300.00")
    assert money(totals["lost"]) == Decimal("2450.00")
    assert money(totals["recovered"]) == Decimal("150.00")
    assert money(totals["net_loss"]) == Decimal("2300.00")
    assert money(totals["in_dispute"]) == Decimal("2490.00")

    by_category = {i["key"]["category"]: i for i in body["items"]}
    assert list(by_category) == ["chargeback", "fraud_or_scam"]  # biggest net loss first
    assert money(by_category["chargeback"]["net_loss"]) == Decimal("1200.00")
    assert money(by_category["fraud_or_scam"]["net_loss"]) == Decimal("1100.00")
    assert sum(i["cases"] for i in body["items"]) == totals["cases"]

    # Every week of the window, the empty one too, each against the week before.
    weeks = body["weeks"]
    assert [w["week"] for w in weeks] == [
        (start + timedelta(weeks=n)).date().isoformat() for n in range(4)
    ]
    assert [money(w["net_loss"]) for w in weeks] == [
        Decimal("750.00"),
        Decimal("700.00"),
        Decimal("0.00"),
        Decimal("850.00"),
    ]
    assert weeks[0]["change"] is None
    assert weeks[1]["change"] == {
        "previous_net_loss": "750.00",
        "net_loss_change": "-50.00",
        "net_loss_change_pct": -6.7,
    }
    assert weeks[3]["change"]["net_loss_change_pct"] is None  # nothing the week before
    assert body["week_over_week"] == weeks[3]["change"]

    # Top movers from week 3 (empty) to week 4: chargebacks +800, scams +50.
    movers = body["top_movers"]
    assert [(m["key"], m["change"]["net_loss_change"]) for m in movers] == [
        ({"category": "chargeback"}, "800.00"),
        ({"category": "fraud_or_scam"}, "50.00"),
    ]


async def test_several_dimensions_with_week_carry_each_groups_change(
    app: FastAPI, runtime: Runtime, window: tuple[datetime, datetime]
) -> None:
    token = await make_agent(runtime, [], role=Role.admin)
    start, end = window
    body = await report(
        app, token, start, end, group_by=["week,payment_method", "reason_code"], top=1
    )
    assert body["group_by"] == ["week", "payment_method", "reason_code"]
    keys = [tuple(i["key"].values()) for i in body["items"]]
    w = [(start + timedelta(weeks=n)).date().isoformat() for n in range(4)]
    assert keys == [
        (w[0], "card", None),
        (w[0], "SEPA", "10.4"),
        (w[1], "card", None),
        (w[1], "SEPA", "10.4"),
        (w[3], "SEPA", "13.1"),
        (w[3], "card", None),
    ]
    sepa_week_2 = body["items"][3]
    assert sepa_week_2["change"]["previous_net_loss"] == "100.00"
    assert sepa_week_2["change"]["net_loss_change"] == "200.00"
    assert sepa_week_2["change"]["net_loss_change_pct"] == 200.0
    assert sum(money(i["net_loss"]) for i in body["items"]) == money(body["totals"]["net_loss"])
    [mover] = body["top_movers"]
    assert mover["key"] == {"payment_method": "SEPA", "reason_code": "13.1"}


async def test_every_dimension_groups(
    app: FastAPI, runtime: Runtime, window: tuple[datetime, datetime]
) -> None:
    token = await make_agent(runtime, [], role=Role.supervisor)
    start, end = window
    for dimension, expected in [
        ("fiat_currency", {"EUR"}),
        ("asset", {"USDT"}),
        ("channel", {"webchat"}),
        ("language", {"en"}),
        ("queue", {"general"}),
        ("reason_code", {"10.4", "13.1", None}),
    ]:
        body = await report(app, token, start, end, group_by=dimension)
        assert {i["key"][dimension] for i in body["items"]} == expected, dimension
        assert body["totals"]["cases"] == 7


async def test_csv_by_parameter_or_accept_header(
    app: FastAPI, runtime: Runtime, window: tuple[datetime, datetime]
) -> None:
    token = await make_agent(runtime, [], role=Role.supervisor)
    start, end = window
    params = {"from": start.isoformat(), "to": end.isoformat(), "group_by": "week,category"}
    async with client(app, token) as api:
        by_param = await api.get("/api/v1/reports/losses", params={**params, "format": "csv"})
        by_header = await api.get(
            "/api/v1/reports/losses", params=params, headers={"Accept": "text/csv"}
        )
        as_json = await api.get(
            "/api/v1/reports/losses", params=params, headers={"Accept": "application/json"}
        )
    assert by_param.status_code == 200 and by_param.text == by_header.text
    assert by_param.headers["content-type"].startswith("text/csv")
    assert "attachment" in by_param.headers["content-disposition"]
    assert as_json.headers["content-type"].startswith("application/json")
    rows = list(csv.DictReader(io.StringIO(by_param.text)))
    assert list(rows[0]) == [
        "week",
        "category",
        "cases",
        "in_dispute",
        "lost_buyer",
        "lost_seller",
        "lost_exchange",
        "recovered",
        "lost",
        "net_loss",
        "net_loss_change",
    ]
    assert len(rows) == len(as_json.json()["items"]) == 6
    assert sum(Decimal(r["net_loss"]) for r in rows) == Decimal("2300.00")
    assert rows[0]["category"] in ("chargeback", "fraud_or_scam") and rows[0]["net_loss_change"]


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"group_by": "colour"}, "group_by colour is not one of week, category"),
        ({"group_by": ","}, "is not one of"),
        ({"from": "2026-12-01", "to": "2026-11-01"}, "from must be before to"),
        ({"from": "yesterday"}, "from 'yesterday' is not a date"),
        ({"from": "2000-01-01", "to": "2026-01-01"}, "narrow from/to"),
        ({"format": "xml"}, "format 'xml' is not json or csv"),
        ({"top": "0"}, "top"),
    ],
)
async def test_bad_input_is_a_422_with_the_reason(
    app: FastAPI, runtime: Runtime, params: dict[str, str], reason: str
) -> None:
    token = await make_agent(runtime, [], role=Role.supervisor)
    async with client(app, token) as api:
        response = await api.get("/api/v1/reports/losses", params=params)
    assert response.status_code == 422, response.text
    assert reason in response.json()["detail"]


async def test_only_supervisors_and_admins_read_it(app: FastAPI, runtime: Runtime) -> None:
    agent = await make_agent(runtime, ["general"])
    async with client(app, agent) as api:
        refused = await api.get("/api/v1/reports/losses")
    assert refused.status_code == 403 and "supervisors" in refused.json()["detail"]
    async with client(app) as api:
        assert (await api.get("/api/v1/reports/losses")).status_code == 401
    for role in (Role.supervisor, Role.admin):
        token = await make_agent(runtime, [], role=role)
        async with client(app, token) as api:
            assert (await api.get("/api/v1/reports/losses")).status_code == 200


@pytest.mark.parametrize(
    "params",
    [{"to": "0001-01-01"}, {"to": "9999-12-31"}, {"from": "9999-12-31T23:59:59"}],
)
async def test_dates_at_the_ends_of_the_calendar_are_a_422(
    app: FastAPI, runtime: Runtime, params: dict[str, str]
) -> None:
    token = await make_agent(runtime, [], role=Role.supervisor)
    async with client(app, token) as api:
        response = await api.get("/api/v1/reports/losses", params=params)
    assert response.status_code == 422, response.text


async def test_limit_keeps_the_largest_groups_and_counts_them_all(
    app: FastAPI, runtime: Runtime, window: tuple[datetime, datetime]
) -> None:
    token = await make_agent(runtime, [], role=Role.supervisor)
    start, end = window
    body = await report(app, token, start, end, group_by="week,category", limit=2)
    assert body["groups"] == 6
    # The two largest net losses (chargebacks 800.00 in week 4, scams 650.00 in week 1),
    # shown in week order.
    assert [(i["key"]["category"], i["net_loss"]) for i in body["items"]] == [
        ("fraud_or_scam", "650.00"),
        ("chargeback", "800.00"),
    ]
    assert body["totals"]["cases"] == 7  # totals never depend on the limit
