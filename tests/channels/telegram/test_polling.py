"""Polling mode (getUpdates, offset in the database) and `gateway telegram set-webhook`."""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa

import channels.telegram
from channels.telegram.bot import ALLOWED_UPDATES
from channels.telegram.cli import set_webhook
from channels.telegram.polling import TelegramPoller
from gateway.__main__ import build_parser
from gateway.runtime import Runtime
from gateway.tickets.models import Message
from tests.channels.telegram.conftest import (
    SECRET,
    Telegram,
    new_chat,
    private_message,
    telegram_settings,
)
from tests.conftest import make_settings


async def test_polling_stores_updates_once_and_keeps_the_offset(
    database_url: str, tmp_root: Path, tg: Telegram
) -> None:
    settings = make_settings(
        database_url, tmp_root, telegram=telegram_settings(tg.api, mode="polling")
    )
    runtime = Runtime.from_settings(settings)
    plugin = channels.telegram.install(runtime)
    [poller] = [s for s in plugin.services if isinstance(s, TelegramPoller)]
    chat = new_chat()
    updates = [private_message(chat, i, text=f"poll {i}") for i in range(1, 4)]
    tg.api.updates[:] = updates
    tg.api.webhook = {"url": "https://old.example/hook"}

    async def stored() -> list[str]:
        async with runtime.sessionmaker() as session:
            rows = await session.scalars(
                sa.select(Message.text)
                .where(Message.external_id.like(f"{chat}:%"))
                .order_by(Message.id)
            )
            return list(rows)

    stop = asyncio.Event()
    task = asyncio.create_task(poller.run(stop))
    try:
        for _ in range(100):
            if len(await stored()) == 3:
                break
            await asyncio.sleep(0.05)
        # The same updates offered again (a restart before Telegram forgot them): no copies.
        await asyncio.sleep(0.3)
    finally:
        stop.set()
        await task
        await plugin.adapter.close()  # type: ignore[union-attr]
        await runtime.close()
    assert await stored() == ["poll 1", "poll 2", "poll 3"]
    assert tg.api.webhook == {}  # polling removed the webhook first
    assert await poller.offset() == updates[-1]["update_id"] + 1
    tg.api.updates.clear()


async def test_set_webhook_registers_the_url_with_the_secret(tg: Telegram) -> None:
    args = build_parser().parse_args(["telegram", "set-webhook", "https://desk.example/hook"])
    assert args.url == "https://desk.example/hook"
    await set_webhook(tg.settings.telegram, args.url)
    assert tg.api.webhook["url"] == "https://desk.example/hook"
    assert tg.api.webhook["secret_token"] == SECRET
    assert tg.api.webhook["allowed_updates"] == ALLOWED_UPDATES
