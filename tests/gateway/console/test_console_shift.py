"""A shift in the console, in headless Chromium against real `gateway serve` processes:
sign in, claim next, read Russian tickets, answer with the Russian canned reply filled
in, and see the answers delivered by the worker to the web chat visitor and by mail; a
customer message shows up live, also when a second gateway process ingested it."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import httpx
import pytest

from gateway.canned import starter
from gateway.runtime import Runtime
from tests.channels.email.conftest import mail, smtp_send
from tests.channels.webchat.processes import GatewayProcess
from tests.conftest import make_settings
from tests.desk import make_agent
from tests.e2e.test_email_desk import Relay, start_relay, wait_until
from tests.gateway.console.browser import chromium, pg_database, screenshot
from tests.processes import free_port

pytestmark = pytest.mark.slow

CHAT_TEXT = (
    "Здравствуйте! Я оплатил 500 USDT по ордеру 123456789, но продавец не отпускает "
    "криптовалюту уже два часа."
)
MAIL_TEXT = "Продавец не отпускает USDT по ордеру 987654321, я перевёл 300 EUR вчера."
IVAN = "ivan.petrov@example.com"


async def visitor_session(base: str, name: str) -> str:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        session = await http.post(
            "/channels/webchat/sessions", json={"name": name, "language": "ru"}
        )
        assert session.status_code == 200, session.text
        return str(session.json()["token"])


async def visitor_says(base: str, token: str, text: str) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        sent = await http.post(
            "/channels/webchat/messages",
            json={"client_id": str(uuid.uuid4()), "text": text},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert sent.status_code == 200, sent.text


async def visitor_history(base: str, token: str) -> list[dict[str, object]]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        history = await http.get(
            "/channels/webchat/messages",
            params={"after": 0},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert history.status_code == 200, history.text
        body = history.json()
        return list(body["items"] if isinstance(body, dict) else body)


async def answer_with_payment_proof_request(page: object) -> str:
    """On an open ticket: pick the Russian canned reply, send it; returns the text sent."""
    offer = page.locator(".canned li", has_text="Payment proof request")  # type: ignore[attr-defined]
    assert (await offer.locator(".badge").text_content()) == "ru"
    assert await offer.locator(".flash.warn").count() == 0  # Russian exists: no fallback
    await offer.locator("button[data-canned]").click()
    text = await page.locator("#reply-text").input_value()  # type: ignore[attr-defined]
    assert text.startswith("Здравствуйте, Иван Петров! Это anna"), text
    assert "{" not in text.split("{deadline}")[0]  # everything before the deadline filled
    async with page.expect_navigation():  # type: ignore[attr-defined]
        await page.locator("form.compose button.primary").click()  # type: ignore[attr-defined]
    return text


async def test_a_shift_in_the_console(tmp_path: Path) -> None:
    relay = Relay()
    server, relay_port = await start_relay(relay)
    smtp_port = free_port()
    async with pg_database() as database:
        runtime = Runtime.from_settings(make_settings(database, tmp_path))
        async with runtime.sessionmaker.begin() as session:
            await starter.load(session, starter.parse(starter.SAMPLE.read_text("utf-8")))
        token = await make_agent(runtime, ["general"], name="anna")
        main = GatewayProcess(
            database,
            free_port(),
            tmp_path,
            GATEWAY_SMTP_PORT=str(smtp_port),
            GATEWAY_SMTP_RELAY_HOST="127.0.0.1",
            GATEWAY_SMTP_RELAY_PORT=str(relay_port),
            GATEWAY_MAIL_FROM="support@desk.test",
            GATEWAY_OUTBOX_POLL_SECONDS="0.2",
        )
        second = GatewayProcess(database, free_port(), tmp_path)
        await main.start()
        await second.start()
        try:
            visitor = await visitor_session(main.url, "Иван Петров")
            await visitor_says(main.url, visitor, CHAT_TEXT)
            sent = mail(f"Иван Петров <{IVAN}>", "Ордер 987654321", MAIL_TEXT)
            assert (await smtp_send(smtp_port, sent, IVAN))[0] == 250

            async with chromium() as browser:
                page = await browser.new_page(viewport={"width": 1280, "height": 900})
                await page.goto(f"{main.url}/console")
                assert page.url.endswith("/console/sign-in")
                await page.fill("#token", token)
                await page.click("form button.primary")
                await page.wait_for_url("**/console/queues")
                row = page.locator("tr", has_text="general")
                assert (await row.locator("td").nth(1).text_content()) == "2"  # unassigned
                await screenshot(page, "queues")

                answered: dict[str, str] = {}
                for _ in range(2):
                    await page.goto(f"{main.url}/console/queues")
                    await page.keyboard.press("c")  # the claim-next shortcut
                    await page.wait_for_url("**/console/tickets/D-*", timeout=40000)
                    assert (await page.locator(".lang-badge").text_content()) == "ru"
                    channel = (
                        await page.locator(".facts div", has_text="Channel")
                        .locator("dd")
                        .text_content()
                    )
                    convo = await page.locator("#messages").text_content() or ""
                    assert (CHAT_TEXT if channel == "webchat" else MAIL_TEXT) in convo
                    assert "crypto_not_released" in (
                        await page.locator(".reasons").text_content() or ""
                    )
                    answered[str(channel)] = await answer_with_payment_proof_request(page)
                    assert await page.locator(".msg-outbound").count() == 1
                assert set(answered) == {"webchat", "email"}
                assert "123456789" in answered["webchat"] and "500 USDT" in answered["webchat"]
                assert "987654321" in answered["email"]
                await screenshot(page, "ticket")

                async def chat_delivered() -> bool:
                    items = await visitor_history(main.url, visitor)
                    return any(i.get("text") == answered["webchat"] for i in items)

                deadline = time.monotonic() + 30
                while not await chat_delivered():
                    assert time.monotonic() < deadline, "the web chat visitor never got it"
                    await asyncio.sleep(0.2)
                await wait_until(lambda: relay.received, 30, "the reply at the relay")
                delivered = relay.received[0]
                assert delivered["To"].addresses[0].addr_spec == IVAN
                body = delivered.get_body(("plain",))
                assert body is not None and answered["email"] in body.get_content()

                # Live: the chat ticket stays open; the visitor writes through each process.
                await page.goto(f"{main.url}/console/queues/general?assignee=me&channel=webchat")
                async with page.expect_navigation():
                    await page.locator("[data-open]").first.click()
                await page.locator("#messages[data-live=open]").wait_for()
                for gateway, words in ((main, "ещё раз: жду"), (second, "через второй")):
                    await visitor_says(gateway.url, visitor, words)
                    await page.locator(".msg-inbound", has_text=words).wait_for(timeout=2000)
        finally:
            await second.stop()
            await main.stop()
            await runtime.close()
            server.close()
            await server.wait_closed()
