"""The supervisor page shows the loss report as charts: a stacked bar per week by
category and a line per payment method, each with a text alternative, passing axe."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI

from gateway.agents.models import Role
from gateway.reports.service import week_of
from gateway.runtime import Runtime
from tests.desk import http_server, make_agent
from tests.gateway.console.browser import axe_violations, chromium, screenshot
from tests.gateway.console.helpers import browser, sign_in
from tests.gateway.reports.seed import Loss, seed


async def seed_last_week(runtime: Runtime, unique: str) -> tuple[str, str]:
    monday = week_of(runtime.clock.now()) - timedelta(weeks=1)
    start = datetime(monday.year, monday.month, monday.day, tzinfo=UTC)
    category, method = f"cat-{unique}", f"pm-{unique}"
    await seed(
        runtime,
        start,
        [
            Loss(0, category, method, lost_exchange=123_400),
            Loss(2, category, "SEPA", lost_buyer=10_000, recovered=2_500),
        ],
    )
    return category, method


async def test_the_supervisor_page_draws_both_charts_with_text_alternatives(
    app: FastAPI, runtime: Runtime, unique: str
) -> None:
    category, method = await seed_last_week(runtime, unique)
    supervisor = await make_agent(runtime, [], role=Role.supervisor)
    async with browser(app) as http:
        await sign_in(http, supervisor)
        page = (await http.get("/console/supervisor")).text
    svgs = re.findall(r"<svg [^>]*>", page)
    assert len(svgs) == 2
    for ident in ("losses-category", "losses-payment_method"):
        assert f'aria-labelledby="{ident}-title {ident}-desc"' in page
        assert f'<title id="{ident}-title">' in page and f'<desc id="{ident}-desc">' in page
    assert 'role="img"' in page
    assert "Net loss per week by category (USD)" in page
    assert "Net loss per week by payment method (USD)" in page
    # The legend and the figures table name the seeded groups with their amounts.
    assert f">{category}</text>" in page and f">{method}</text>" in page
    assert f'<th scope="col">{category}</th>' in page
    assert "<td>1,309.00</td>" in page  # the category's week: 1,234.00 + 100.00 - 25.00
    assert "<polyline" in page  # the lines chart


@pytest.mark.slow
async def test_the_charts_pass_axe_and_fit_a_phone(
    app: FastAPI, runtime: Runtime, unique: str
) -> None:
    await seed_last_week(runtime, unique)
    supervisor = await make_agent(runtime, [], role=Role.admin)
    async with http_server(app) as base, chromium() as chrome:
        for viewport, name in (
            ({"width": 1280, "height": 900}, "wide"),
            ({"width": 390, "height": 844}, "390"),
        ):
            context = await chrome.new_context(viewport=viewport, bypass_csp=True)
            page = await context.new_page()
            await page.goto(f"{base}/console/sign-in")
            await page.fill("#token", supervisor)
            await page.click("form button.primary")
            await page.wait_for_url("**/console/queues")
            await page.goto(f"{base}/console/supervisor")
            assert await page.locator("svg.chart").count() == 2
            if name == "wide":  # as the console's own axe test: the wide screen
                assert await axe_violations(page) == [], name
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"], f"the supervisor page scrolls sideways ({width} px)"
            await page.locator("#losses-title").scroll_into_view_if_needed()
            await screenshot(page, f"supervisor-losses-{name}")
            await context.close()
