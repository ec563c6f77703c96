"""A Telegram-enabled gateway against the Bot API double, one per database backend."""

from __future__ import annotations

import itertools
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

import channels.telegram
from channels.telegram.adapter import TelegramAdapter
from gateway.app import create_app
from gateway.ports import ChannelPlugin
from gateway.runtime import Runtime
from gateway.settings import Settings
from tests.channels.telegram.botapi import BotApiServer
from tests.conftest import make_settings

TOKEN = "123456:TEST-token"
SECRET = "webhook-secret_1"
START_SECRET = "exchange-start-secret"
_update_ids = itertools.count(random.randrange(10**6, 10**8))


@dataclass
class Telegram:
    settings: Settings
    runtime: Runtime
    plugin: ChannelPlugin
    app: FastAPI
    client: httpx.AsyncClient
    api: BotApiServer

    @property
    def adapter(self) -> TelegramAdapter:
        assert isinstance(self.plugin.adapter, TelegramAdapter)
        return self.plugin.adapter

    async def post(self, update: dict[str, Any], secret: str | None = SECRET) -> httpx.Response:
        headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
        return await self.client.post("/channels/telegram/webhook", json=update, headers=headers)


def telegram_settings(api: BotApiServer, **extra: Any) -> dict[str, Any]:
    return {
        "token": TOKEN,
        "webhook_secret": SECRET,
        "start_secret": START_SECRET,
        "api_base": api.base_url,
        "api_file_base": api.file_base_url,
        "max_file_bytes": 1024 * 1024,
        "polling_timeout_seconds": 1,
    } | extra


@pytest.fixture(scope="session")
async def botapi() -> AsyncIterator[BotApiServer]:
    async with BotApiServer(TOKEN) as api:
        yield api


@pytest.fixture(scope="session")
async def tg(database_url: str, tmp_root: Path, botapi: BotApiServer) -> AsyncIterator[Telegram]:
    settings = make_settings(database_url, tmp_root, telegram=telegram_settings(botapi))
    runtime = Runtime.from_settings(settings)
    plugin = channels.telegram.install(runtime)
    app = create_app(settings, runtime, [plugin])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
    ) as client:
        yield Telegram(settings, runtime, plugin, app, client, botapi)
    await plugin.adapter.close()  # type: ignore[union-attr]
    await runtime.close()


def new_chat() -> int:
    """A private chat id (= user id) no other test uses."""
    return random.randrange(10**9, 10**10)


def private_message(
    chat_id: int, message_id: int, language: str = "en", **content: Any
) -> dict[str, Any]:
    """An Update with a private message (text by default) from user `chat_id`."""
    user = {"id": chat_id, "is_bot": False, "first_name": "Ana", "language_code": language}
    message = {
        "message_id": message_id,
        "from": user,
        "chat": {"id": chat_id, "first_name": "Ana", "type": "private"},
        "date": 1767225600,
        **(content or {"text": "My USDT order 9912 was not released"}),
    }
    return {"update_id": next(_update_ids), "message": message}


def member_update(chat_id: int, status: str) -> dict[str, Any]:
    user = {"id": chat_id, "is_bot": False, "first_name": "Ana"}
    bot = {"id": 4242, "is_bot": True, "first_name": "Parley"}
    new: dict[str, Any] = {"status": status, "user": bot}
    if status == "kicked":
        new["until_date"] = 0
    return {
        "update_id": next(_update_ids),
        "my_chat_member": {
            "chat": {"id": chat_id, "first_name": "Ana", "type": "private"},
            "from": user,
            "date": 1767225600,
            "old_chat_member": {"status": "member", "user": bot},
            "new_chat_member": new,
        },
    }
