"""The widget in headless Chromium on a page of another origin, against a real gateway."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from gateway import migrate
from gateway.agents.models import Role
from gateway.csat.models import CsatSurvey
from gateway.csat.texts import texts_for
from gateway.runtime import Runtime
from gateway.tickets.models import Message, Ticket
from tests.channels.webchat.processes import GatewayProcess, origins
from tests.channels.webchat.test_multiprocess import free_port
from tests.conftest import _pg_available, create_pg_database, drop_pg_database, make_settings
from tests.desk import make_agent

pytestmark = pytest.mark.slow

CHROMIUM = Path(os.environ.get("PARLEY_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_PRESENT = CHROMIUM.exists()
XSS_IN = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
XSS_OUT = '<svg onload="window.__xss=3"></svg><b>bold</b>&lt;'
# Host CSS that would wreck an unshielded widget.
PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Exchange</title>
<style>button, textarea {{ display: none !important; }} div {{ color: red !important; }}</style>
</head><body><h1>P2P order 7781</h1>
<script src="{gateway}/widget.js" data-gateway="{gateway}" data-language="pt"
        data-open="true"></script></body></html>"""


@pytest.fixture
def page_server(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """The exchange's page, on its own origin. Yields (origin, slot for the gateway URL)."""
    gateway_url: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = PAGE.format(gateway=gateway_url[0]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", gateway_url
    server.shutdown()
    server.server_close()


@pytest.fixture
async def database() -> AsyncIterator[str]:
    # PostgreSQL, so the test process's replies wake the gateway process (NOTIFY).
    reason = await _pg_available()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    url = await create_pg_database()
    await asyncio.to_thread(migrate.upgrade, url)
    yield url
    await drop_pg_database(url)


async def reply_over_api(base_url: str, token: str, ref: str, text: str) -> None:
    """The agent answers as agents do: over the API; the gateway's worker delivers."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        response = await http.post(
            f"/api/v1/tickets/{ref}/replies",
            json={"text": text},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 201, response.text


async def test_customer_and_agent_chat_through_the_widget(
    page_server: tuple[str, list[str]], database: str, tmp_path: Path
) -> None:
    if not CHROMIUM_PRESENT:
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} missing: .ci/install-chromium.sh installs it")
        pytest.skip(f"{CHROMIUM} missing: run .ci/install-chromium.sh (apt-get install chromium)")
    from playwright.async_api import async_playwright

    page_origin, gateway_slot = page_server
    gw = GatewayProcess(
        database,
        free_port(),
        tmp_path,
        GATEWAY_WEBCHAT_ALLOWED_ORIGINS=origins(page_origin),
    )
    gateway_slot.append(gw.url)
    runtime = Runtime.from_settings(make_settings(database, tmp_path))
    await gw.start()
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=str(CHROMIUM),
                args=[
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                ],
            )
            try:
                page = await browser.new_page()
                await page.goto(page_origin + "/")
                status = page.locator("[data-parley-widget] .status")
                await status.and_(page.locator("[data-state=online]")).wait_for(timeout=15000)
                assert await status.text_content() == "Conectado"  # labels follow data-language

                box = page.locator("[data-parley-widget] textarea")
                assert await box.is_visible()  # the host page's CSS did not hide it
                await box.fill(XSS_IN)
                await box.press("Enter")
                mine = page.locator("[data-parley-widget] .msg.customer[data-message-id]")
                await mine.first.wait_for(timeout=15000)
                assert XSS_IN in (await mine.first.text_content() or "")

                async with runtime.sessionmaker() as db:
                    ticket = await db.scalar(
                        sa.select(Ticket).where(Ticket.channel == "webchat").order_by(Ticket.id)
                    )
                assert ticket is not None
                agent = await make_agent(runtime, ["general"], role=Role.supervisor)
                await reply_over_api(gw.url, agent, ticket.ref, XSS_OUT)
                theirs = page.locator("[data-parley-widget] .msg.agent")
                await theirs.first.wait_for(timeout=15000)
                assert XSS_OUT in (await theirs.first.text_content() or "")

                # Restart the server mid-chat; the customer writes while it is down.
                await gw.stop()
                await page.locator("[data-parley-widget] [data-state=offline]").wait_for(
                    timeout=15000
                )
                await box.fill("written while you were down")
                await box.press("Enter")
                await page.wait_for_timeout(500)
                await gw.start()
                await mine.nth(1).wait_for(timeout=30000)
                await reply_over_api(gw.url, agent, ticket.ref, "back after the restart")
                await theirs.nth(1).wait_for(timeout=30000)

                # A reload continues the same conversation from localStorage.
                await page.reload()
                await theirs.nth(1).wait_for(timeout=15000)
                texts = await page.locator("[data-parley-widget] .msg").all_text_contents()
                assert len(texts) == 4
                assert sum(XSS_IN in t for t in texts) == 1
                assert sum("written while you were down" in t for t in texts) == 1
                assert sum("back after the restart" in t for t in texts) == 1

                assert await page.evaluate("window.__xss") is None
                injected = await page.evaluate(
                    "document.querySelector('[data-parley-widget]').shadowRoot"
                    ".querySelectorAll('img, script:not([src]), svg, b').length"
                )
                assert injected == 0
            finally:
                await browser.close()
            async with runtime.sessionmaker() as db:
                stored = list(
                    (
                        await db.execute(
                            sa.select(Message.text)
                            .where(Message.ticket_id == ticket.id)
                            .order_by(Message.id)
                        )
                    ).scalars()
                )
            assert stored == [
                XSS_IN,
                XSS_OUT,
                "written while you were down",
                "back after the restart",
            ]
    finally:
        await gw.stop()
        await runtime.close()


async def test_the_customer_rates_on_the_widget_card(
    page_server: tuple[str, list[str]], database: str, tmp_path: Path
) -> None:
    if not CHROMIUM_PRESENT:
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} missing: .ci/install-chromium.sh installs it")
        pytest.skip(f"{CHROMIUM} missing: run .ci/install-chromium.sh (apt-get install chromium)")
    from playwright.async_api import async_playwright

    page_origin, gateway_slot = page_server
    gw = GatewayProcess(
        database, free_port(), tmp_path, GATEWAY_WEBCHAT_ALLOWED_ORIGINS=origins(page_origin)
    )
    gateway_slot.append(gw.url)
    runtime = Runtime.from_settings(make_settings(database, tmp_path))
    await gw.start()
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=str(CHROMIUM),
                args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-sync"],
            )
            try:
                page = await browser.new_page()
                await page.goto(page_origin + "/")
                widget = "[data-parley-widget]"
                await page.locator(f"{widget} [data-state=online]").wait_for(timeout=15000)
                box = page.locator(f"{widget} textarea")
                await box.fill("Paguei 200 USDT e o vendedor não liberou a moeda")
                await box.press("Enter")
                await page.locator(f"{widget} .msg.customer[data-message-id]").wait_for(
                    timeout=15000
                )
                async with runtime.sessionmaker() as db:
                    ticket = await db.scalar(
                        sa.select(Ticket).where(Ticket.channel == "webchat").order_by(Ticket.id)
                    )
                assert ticket is not None
                agent = await make_agent(runtime, [], role=Role.supervisor)
                async with httpx.AsyncClient(base_url=gw.url, timeout=30) as http:
                    resolved = await http.post(
                        f"/api/v1/tickets/{ticket.ref}/status",
                        json={"status": "resolved"},
                        headers={"Authorization": f"Bearer {agent}"},
                    )
                assert resolved.status_code == 200, resolved.text

                buttons = page.locator(f"{widget} .msg.agent .choice")
                await buttons.nth(4).wait_for(timeout=30000)
                assert await buttons.count() == 5
                await buttons.nth(3).click()
                notice = page.locator(f"{widget} .msg.agent .notice")
                await notice.wait_for(timeout=15000)
                async with runtime.sessionmaker() as db:
                    survey = await db.scalar(
                        sa.select(CsatSurvey).where(CsatSurvey.ticket_id == ticket.id)
                    )
                assert survey is not None and survey.rating == 4
                assert survey.channel == "webchat"
                words = texts_for(survey.language)[1]
                assert await notice.text_content() == words.thanks
                assert await buttons.count() == 0, "the card closes once answered"

                # The optional comment: the card asks in the customer's language.
                card = page.locator(f"{widget} .msg.agent .comment")
                await card.wait_for(timeout=15000)
                assert await card.locator("label").text_content() == words.comment_prompt
                assert await card.locator(".comment-skip").text_content() == words.skip
                await card.locator("textarea").fill("  Rápido, obrigado!  ")
                await card.locator(".comment-send").click()
                await card.wait_for(state="detached", timeout=15000)
                assert await notice.text_content() == words.comment_thanks
                async with runtime.sessionmaker() as db:
                    survey = await db.scalar(
                        sa.select(CsatSurvey).where(CsatSurvey.ticket_id == ticket.id)
                    )
                assert survey is not None
                assert (survey.rating, survey.comment) == (4, "Rápido, obrigado!")
                async with runtime.sessionmaker() as db:
                    inbound = await db.scalars(
                        sa.select(Message.text).where(
                            Message.ticket_id == ticket.id, Message.direction == "inbound"
                        )
                    )
                    assert list(inbound) == ["Paguei 200 USDT e o vendedor não liberou a moeda"]

                # After a reload the answered card stays closed.
                await page.reload()
                await page.locator(f"{widget} .msg.agent").wait_for(timeout=15000)
                await page.wait_for_timeout(500)
                assert await page.locator(f"{widget} .msg.agent .choice").count() == 0
            finally:
                await browser.close()
    finally:
        await gw.stop()
        await runtime.close()


async def test_the_widget_says_which_replies_it_showed(
    page_server: tuple[str, list[str]], database: str, tmp_path: Path
) -> None:
    # The email fallback mails replies nobody saw: the widget's seen frame is what
    # records that a reply reached the visitor (a history read records nothing).
    if not CHROMIUM_PRESENT:
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} missing: .ci/install-chromium.sh installs it")
        pytest.skip(f"{CHROMIUM} missing: run .ci/install-chromium.sh (apt-get install chromium)")
    from playwright.async_api import async_playwright

    page_origin, gateway_slot = page_server
    gw = GatewayProcess(
        database, free_port(), tmp_path, GATEWAY_WEBCHAT_ALLOWED_ORIGINS=origins(page_origin)
    )
    gateway_slot.append(gw.url)
    runtime = Runtime.from_settings(make_settings(database, tmp_path))
    await gw.start()
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
            )
            try:
                page = await browser.new_page()
                await page.goto(page_origin + "/")
                online = page.locator("[data-parley-widget] .status[data-state=online]")
                await online.wait_for(timeout=15000)
                box = page.locator("[data-parley-widget] textarea")
                await box.fill("the seller went quiet")
                await box.press("Enter")
                await page.locator("[data-parley-widget] .msg.customer[data-message-id]").wait_for(
                    timeout=15000
                )
                async with runtime.sessionmaker() as db:
                    ticket = await db.scalar(sa.select(Ticket).where(Ticket.channel == "webchat"))
                assert ticket is not None
                agent = await make_agent(runtime, ["general"], role=Role.supervisor)
                await reply_over_api(gw.url, agent, ticket.ref, "We are on it.")
                await page.locator("[data-parley-widget] .msg.agent").wait_for(timeout=15000)
                async with runtime.sessionmaker() as db:
                    reply_id = await db.scalar(
                        sa.select(sa.func.max(Message.id)).where(Message.ticket_id == ticket.id)
                    )
                marker = f"webchat.seen.{ticket.identity_id}"
                seen = None
                for _ in range(150):  # the frame follows the render; wait for it, not on time
                    async with runtime.sessionmaker() as db:
                        seen = await runtime.state.get(db, marker)
                    if seen is not None:
                        break
                    await asyncio.sleep(0.1)
                assert seen == str(reply_id)
            finally:
                await browser.close()
    finally:
        await gw.stop()
        await runtime.close()
