"""The python-telegram-bot client, pointed at the configured Bot API base URL."""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import Bot
from telegram.request import HTTPXRequest

from gateway.settings import TelegramSettings

# Only what the desk handles; Telegram then does not even send the rest.
ALLOWED_UPDATES = ["message", "edited_message", "my_chat_member", "callback_query"]


def file_base_url(settings: TelegramSettings) -> str:
    """Where getFile paths are downloaded: set, or derived from the API base URL."""
    if settings.api_file_base:
        return settings.api_file_base
    base = settings.api_base.rstrip("/")
    if base.endswith("/bot"):
        return base[: -len("/bot")] + "/file/bot"
    return base + "/file/bot"


class ParleyBot(Bot):
    """A Bot used without initialize() (no getMe at start-up, so a Bot API outage never
    blocks the gateway from starting) whose shutdown() still closes its connections."""

    def __init__(self, token: str, *, requests: tuple[HTTPXRequest, HTTPXRequest], **kw: Any):
        super().__init__(token, request=requests[0], get_updates_request=requests[1], **kw)
        self._owned_requests = requests

    async def shutdown(self) -> None:
        await asyncio.gather(*(request.shutdown() for request in self._owned_requests))
        await super().shutdown()


def make_bot(settings: TelegramSettings, *, read_timeout: float = 30.0) -> Bot:
    """A Bot for the configured token (the caller checked it is set); call shutdown()."""
    assert settings.token is not None
    return ParleyBot(
        settings.token.get_secret_value(),
        base_url=settings.api_base,
        base_file_url=file_base_url(settings),
        requests=(
            HTTPXRequest(connection_pool_size=64, read_timeout=read_timeout),
            # getUpdates long-polls: its own connection, a read timeout beyond the wait.
            HTTPXRequest(
                connection_pool_size=1, read_timeout=settings.polling_timeout_seconds + 10.0
            ),
        ),
    )
