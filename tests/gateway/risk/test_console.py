"""Risk in the console, on both databases: the riskiest accounts with their reasons, one
account's signals with the cases behind each, the report form; risk reviewers only."""

from __future__ import annotations

import html
import re
from urllib.parse import quote

import httpx
import pytest

from tests.gateway.cases.conftest import Desk
from tests.gateway.console.browser import axe_violations, chromium
from tests.gateway.console.helpers import CSRF
from tests.gateway.risk.conftest import account, dispute, plain_agent, risk_agent, supervisor, tag


def console(desk: Desk) -> httpx.AsyncClient:
    """A cookie-keeping browser on the desk's server, sending Origin on its form posts."""
    return httpx.AsyncClient(base_url=desk.http, headers={"Origin": desk.http}, timeout=60)


async def signed_in(http: httpx.AsyncClient, token: str) -> None:
    response = await http.post("/console/sign-in", data={"token": token})
    assert response.status_code == 303, response.text


async def seller_with_cases(desk: Desk) -> tuple[str, list[str]]:
    """A seller three buyers dispute against: (user id, the three order refs)."""
    t = tag()
    seller = f"seller-{t}"
    opened = [await dispute(desk, f"buyer-{t}-{i}", seller) for i in range(3)]
    return seller, [ref for ref, _ticket in opened]


async def test_a_supervisor_opens_the_riskiest_accounts_and_the_cases_behind(
    desk: Desk,
) -> None:
    seller, orders = await seller_with_cases(desk)
    boss = await supervisor(desk)
    body = await account(desk, boss, seller)
    async with console(desk) as http:
        await signed_in(http, boss)
        nav = (await http.get("/console/supervisor")).text
        assert 'href="/console/risk"' in nav
        listed = await http.get("/console/risk", params={"min_score": body["score"]})
        assert listed.status_code == 200, listed.text
        page = html.unescape(listed.text)
        assert f'href="/console/risk/{quote(seller, safe="")}"' in page
        assert f"{body['score']:.1f}" in page
        assert "named as counterparty by 3 different complainants" in page
        detail = await http.get(f"/console/risk/{quote(seller, safe='')}")
    assert detail.status_code == 200, detail.text
    text = html.unescape(detail.text)
    for signal in body["signals"]:
        assert signal["sentence"] in text and f"{signal['weight']:.1f}" in text
    cases = {c["ref"]: c for s in body["signals"] for c in s["cases"]}
    assert sorted(c["order_ref"] for c in cases.values()) == sorted(orders)
    for ref in cases:
        assert f'<a href="/console/cases/{ref}">{ref}</a>' in text
    assert 'name="csrf"' in text and "Report this account" in text


async def test_a_plain_agent_is_refused_the_pages_and_the_form(desk: Desk) -> None:
    seller, _orders = await seller_with_cases(desk)
    agent = await plain_agent(desk)
    async with console(desk) as http:
        await signed_in(http, agent)
        csrf = CSRF.search((await http.get("/console/queues")).text)
        assert csrf
        assert 'href="/console/risk"' not in (await http.get("/console/queues")).text
        assert (await http.get("/console/risk")).status_code == 403
        detail = await http.get(f"/console/risk/{seller}")
        assert detail.status_code == 403 and "counterparty" not in detail.text
        posted = await http.post(
            f"/console/risk/{seller}/report",
            data={"csrf": csrf.group(1), "reason": "looks like a mule", "cases": ""},
        )
        assert posted.status_code == 403
    boss = await supervisor(desk)
    assert (await account(desk, boss, seller))["reports"] == []


async def test_the_report_form_opens_a_risk_report_with_its_cases(desk: Desk) -> None:
    seller, _orders = await seller_with_cases(desk)
    path = f"/console/risk/{quote(seller, safe='')}"
    # A risk-queue agent opens the account, its cases named but not linked: they sit in
    # the general queue, whose case pages would not open for them.
    async with console(desk) as http:
        await signed_in(http, await risk_agent(desk))
        shown = (await http.get(path)).text
    assert shown.count('<a href="/console/cases/') == 0 and "C-" in shown
    reviewer = await supervisor(desk)
    async with console(desk) as http:
        await signed_in(http, reviewer)
        page = (await http.get(path)).text
        csrf = CSRF.search(page)
        assert csrf
        prefilled = re.search(r'id="report-cases" name="cases" type="text" value="([^"]*)"', page)
        assert prefilled and prefilled.group(1).startswith("C-")
        # Without the CSRF token: refused, nothing reported.
        refused = await http.post(f"{path}/report", data={"reason": "mule", "cases": ""})
        assert refused.status_code == 403
        # Too short a reason: the API's own rule, shown on the page with a 4xx.
        short = await http.post(f"{path}/report", data={"csrf": csrf.group(1), "reason": "x"})
        assert short.status_code == 422 and "reason" in short.text
        posted = await http.post(
            f"{path}/report",
            data={
                "csrf": csrf.group(1),
                "reason": "asks buyers to pay a third party",
                "cases": prefilled.group(1),
            },
        )
        assert posted.status_code == 303 and posted.headers["location"] == path
        after = html.unescape((await http.get(path)).text)
    body = await account(desk, await supervisor(desk), seller)
    [report] = body["reports"]
    assert report["status"] == "open" and report["reason"] == "asks buyers to pay a third party"
    assert report["cases"] == prefilled.group(1).split()
    assert f'href="/console/tickets/{report["ticket"]}"' in after
    async with desk.api(reviewer) as api:
        ticket = (await api.get(f"/api/v1/tickets/{report['ticket']}")).json()
    assert ticket["queue"] == "risk"


@pytest.mark.slow
async def test_the_risk_pages_pass_axe(desk: Desk) -> None:
    seller, _orders = await seller_with_cases(desk)
    boss = await supervisor(desk)
    async with chromium() as chrome:
        context = await chrome.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
        page = await context.new_page()
        await page.goto(f"{desk.http}/console/sign-in")
        await page.fill("#token", boss)
        await page.click("form button.primary")
        await page.wait_for_url("**/console/queues")
        for path in ("/console/risk", f"/console/risk/{quote(seller, safe='')}"):
            await page.goto(f"{desk.http}{path}")
            assert await axe_violations(page) == [], path
        await context.close()
