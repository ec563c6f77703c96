"""The console in Chromium under attack and under axe: script injection through every
field a customer controls, a cross-site form post, cookie flags, another queue's ticket
by URL; accessibility (axe-core) and a 390 px wide phone screen; screenshots."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from gateway.agents.models import Role
from gateway.ports import Channel, InboundAttachment, InboundMessage
from gateway.queues import repository as queues_repo
from gateway.runtime import Runtime
from gateway.tickets.intake import ingest
from gateway.tickets.models import Message, Ticket
from tests.desk import http_server, make_agent, new_ticket
from tests.gateway.console.browser import axe_violations, chromium, screenshot
from tests.gateway.console.xss import PAYLOADS

pytestmark = pytest.mark.slow
WATCH = """
window.__dialogs = 0; window.__csp = 0;
window.alert = window.confirm = window.prompt = () => { window.__dialogs += 1; };
document.addEventListener('securitypolicyviolation', () => { window.__csp += 1; });
"""
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


async def hostile_ticket(runtime: Runtime, queue: str, payload: str, n: int) -> str:
    """A mail whose text, sender name, subject and attachment names all carry `payload`."""
    sender = f"x{n}-{uuid.uuid4().hex[:8]}@example.com"
    async with runtime.sessionmaker.begin() as session:
        result = await ingest(
            session,
            InboundMessage(
                channel=Channel.email,
                external_id=f"<{uuid.uuid4().hex}@example.com>",
                sender=sender,
                sender_name=payload,
                subject=payload,
                text=f"text {payload}",
                html=f"<p>{payload}</p>",
                thread_key=sender,
                attachments=(
                    InboundAttachment(
                        filename=f"{payload}.png", content_type="image/png", data=PNG
                    ),
                    InboundAttachment(
                        filename=f"{payload}.svg",
                        content_type="image/svg+xml",
                        data=b'<svg xmlns="http://www.w3.org/2000/svg" onload="top.__xss=99"/>',
                    ),
                    InboundAttachment(
                        filename=f"{payload}.html",
                        content_type="text/html",
                        data=b"<script>top.__xss=98</script>",
                    ),
                ),
            ),
            limits=runtime.settings.ingest,
            blobs=runtime.blobs,
        )
        target = await queues_repo.ensure_queue(session, queue)
        await session.execute(
            sa.update(Ticket).where(Ticket.id == result.ticket_id).values(queue_id=target.id)
        )
    return result.ticket_ref


async def assert_nothing_ran(page: Any) -> None:
    assert await page.evaluate("window.__xss") is None
    assert await page.evaluate("window.__dialogs") == 0
    # Not even an attempt the CSP had to stop: the payloads arrived as text.
    assert await page.evaluate("window.__csp") == 0
    assert await page.evaluate("document.scripts.length") == 2  # htmx and console.js
    injected = await page.evaluate(
        "document.querySelectorAll('iframe, object, embed, svg, math, marquee, video, audio,"
        " [onerror], [onload], [onfocus], [onclick], [onmouseover], [ontoggle], base,"
        " meta[http-equiv]').length"
    )
    assert injected == 0


@pytest.fixture
def evil_site() -> Iterator[tuple[str, list[str]]]:
    """Another origin with a page that posts a form to the console on load."""
    form: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = form[0].encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://localhost:{server.server_address[1]}", form
    server.shutdown()
    server.server_close()


async def sign_in(page: Any, base: str, token: str) -> None:
    await page.goto(f"{base}/console/sign-in")
    await page.fill("#token", token)
    await page.click("form button.primary")
    await page.wait_for_url("**/console/queues")


async def test_injection_csrf_cookies_and_access_in_the_browser(
    app: FastAPI, runtime: Runtime, unique: str, evil_site: tuple[str, list[str]]
) -> None:
    assert len(PAYLOADS) >= 40
    queue = f"xss-{unique}"
    token = await make_agent(runtime, [queue], name=f"<b>agent-{unique}</b>")
    refs = [await hostile_ticket(runtime, queue, p, n) for n, p in enumerate(PAYLOADS)]
    foreign = (await new_ticket(runtime, f"far-{unique}", text=f"secret-{unique}")).ticket_ref
    async with http_server(app) as base, chromium() as browser:
        context = await browser.new_context()
        await context.add_init_script(WATCH)
        page = await context.new_page()
        await sign_in(page, base, token)

        cookie = next(c for c in await context.cookies() if c["name"] == "parley_console")
        assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
        assert cookie["secure"] is False and cookie["path"] == "/console"  # plain HTTP here
        assert "parley_console" not in await page.evaluate("document.cookie")

        await page.goto(f"{base}/console/queues/{queue}")
        assert await page.locator("[data-open]").count() == len(PAYLOADS)
        assert PAYLOADS[0] in (await page.locator("table.tickets").text_content() or "")
        await assert_nothing_ran(page)
        for ref, payload in zip(refs, PAYLOADS, strict=True):
            await page.goto(f"{base}/console/tickets/{ref}")
            convo = await page.locator("#messages").text_content() or ""
            assert f"text {payload}" in convo and f"{payload}.svg" in convo
            # Intake drops bidi overrides from subjects; the rest arrives as written.
            title = await page.locator("#ticket-title").text_content() or ""
            assert title.endswith(payload.replace("\u202e", ""))
            await page.hover(".msg-inbound")
            await assert_nothing_ran(page)
        # Files: a PNG shows as an image; the SVG and HTML are links to downloads only.
        assert await page.locator(".files img").count() == 1
        svg_link = page.locator(".files a", has_text=".svg")
        response = await page.request.get(base + str(await svg_link.get_attribute("href")))
        assert response.headers["content-type"] == "application/octet-stream"
        assert response.headers["content-disposition"].startswith("attachment;")
        assert "sandbox" in response.headers["content-security-policy"]

        # A live message with a payload arrives through the event stream as text too.
        await page.locator("#messages[data-live=open]").wait_for()
        live = await new_ticket_message(runtime, refs[-1], PAYLOADS[1])
        await page.locator(f"#m{live}").wait_for(timeout=10000)
        await assert_nothing_ran(page)

        # Another queue's ticket by URL: the same 404 as a ticket that does not exist.
        refused = await page.goto(f"{base}/console/tickets/{foreign}")
        assert refused is not None and refused.status == 404
        assert f"secret-{unique}" not in await page.content()

        # A cross-site page posts a note form to the console on load.
        target = refs[0]
        site, form = evil_site
        form.append(
            f'<form method="post" action="{base}/console/tickets/{target}/note">'
            '<input name="text" value="forged by another site"></form>'
            "<script>document.forms[0].submit()</script>"
        )
        evil = await context.new_page()
        posted = await evil.goto(site)
        await evil.wait_for_load_state()
        assert posted is not None
        async with runtime.sessionmaker() as session:
            texts = (
                await session.execute(
                    sa.select(Message.text).where(Message.ticket_id == int(target.split("-")[1]))
                )
            ).scalars()
            assert "forged by another site" not in list(texts)
        assert "cross-site request refused" in await evil.content() or "sign-in" in evil.url
        await context.close()


async def new_ticket_message(runtime: Runtime, ref: str, payload: str) -> int:
    """Another mail on the ticket (threaded by its reference), as the customer would."""
    async with runtime.sessionmaker.begin() as session:
        ticket = await session.get_one(Ticket, int(ref.split("-")[1]))
        identity = ticket.thread_key
        result = await ingest(
            session,
            InboundMessage(
                channel=Channel.email,
                external_id=f"<{uuid.uuid4().hex}@example.com>",
                sender=str(identity),
                text=f"live {payload}",
                thread_key=identity,
                ticket_ref=ref,
            ),
            limits=runtime.settings.ingest,
            notifier=runtime.notifier,
        )
    assert result.ticket_ref == ref
    return result.message_id


PAGES = ("queues", "queue", "ticket", "supervisor", "canned")


async def test_axe_and_a_390px_screen(app: FastAPI, runtime: Runtime, unique: str) -> None:
    queue = f"a11y-{unique}"
    supervisor = await make_agent(runtime, [queue], role=Role.admin, name=f"sup-{unique}")
    ref = await hostile_ticket(runtime, queue, "Оплатил 500 USDT, продавец не отпускает", 0)
    urls = {
        "queues": "/console/queues",
        "queue": f"/console/queues/{queue}",
        "ticket": f"/console/tickets/{ref}",
        "supervisor": "/console/supervisor",
        "canned": "/console/canned",
    }
    async with http_server(app) as base, chromium() as browser:
        # bypass_csp: only so the test can inject axe-core into our CSP-locked pages.
        wide = await browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
        page = await wide.new_page()
        await sign_in(page, base, supervisor)
        for name in ("queue", "ticket", "supervisor", "queues"):
            await page.goto(base + urls[name])
            assert await axe_violations(page) == [], name
        for lang in ("ar", "ru"):
            await page.goto(base + urls["ticket"])
            async with page.expect_navigation():
                await page.select_option("#lang-select", lang)
            if lang == "ar":
                assert await page.get_attribute("html", "dir") == "rtl"
                assert await axe_violations(page) == [], "ticket in Arabic"
                width = await page.evaluate("document.documentElement.scrollWidth")
                assert width <= 1280, f"the Arabic ticket page scrolls sideways ({width} px)"
                await screenshot(page, "ticket-ar")
        async with page.expect_navigation():
            await page.select_option("#lang-select", "en")
        await wide.close()

        phone = await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
        page = await phone.new_page()
        await sign_in(page, base, supervisor)
        for name in PAGES:
            await page.goto(base + urls[name])
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"{name} scrolls sideways at 390 px ({width} px)"
            await screenshot(page, f"{name}-390")
        await page.goto(base + urls["ticket"])
        async with page.expect_navigation():
            await page.select_option("#lang-select", "ar")
        assert await page.get_attribute("html", "dir") == "rtl"
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the Arabic ticket page scrolls sideways ({width} px)"
        await screenshot(page, "ticket-ar-390")
        reply = page.locator("#reply-text")
        box = await reply.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        await reply.fill("Проверяем перевод.")
        async with page.expect_navigation():
            await page.locator("form.compose button.primary").click()
        assert await page.locator(".msg-outbound", has_text="Проверяем перевод.").count() == 1
        await phone.close()
