"""The python-telegram-bot client, pointed at the configured Bot API base URL."""

from __future__ import annotations

from telegram import Bot
from telegram.request import HTTPXRequest

from gateway.settings import TelegramSettings

# Only what the desk handles; Telegram then does not even send the rest.
ALLOWED_UPDATES = ["message", "edited_message", "my_chat_member"]


def file_base_url(settings: TelegramSettings) -> str:
    """Where getFile paths are downloaded: set, or derived from the API base URL."""
    if settings.api_file_base:
        return settings.api_file_base
    base = settings.api_base.rstrip("/")
    if base.endswith("/bot"):
        return base[: -len("/bot")] + "/file/bot"
    return base + "/file/bot"


def make_bot(settings: TelegramSettings, *, read_timeout: float = 30.0) -> Bot:
    """A Bot for the configured token (the caller checked it is set); call shutdown()."""
    assert settings.token is not None
    return Bot(
        settings.token.get_secret_value(),
        base_url=settings.api_base,
        base_file_url=file_base_url(settings),
        request=HTTPXRequest(connection_pool_size=64, read_timeout=read_timeout),
        # getUpdates long-polls: its own connection and a read timeout beyond the wait.
        get_updates_request=HTTPXRequest(
            connection_pool_size=1, read_timeout=settings.polling_timeout_seconds + 10.0
        ),
    )
