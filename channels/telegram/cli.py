"""`gateway telegram ...` commands."""

from __future__ import annotations

from channels.telegram.bot import ALLOWED_UPDATES, make_bot
from gateway.errors import GatewayError
from gateway.settings import TelegramSettings


async def set_webhook(settings: TelegramSettings, url: str) -> None:
    """Register `url` as the webhook, with the secret Telegram must send back."""
    if settings.token is None:
        raise GatewayError("GATEWAY_TELEGRAM_TOKEN is not set")
    if settings.webhook_secret is None:
        raise GatewayError("GATEWAY_TELEGRAM_WEBHOOK_SECRET is not set: the webhook would be open")
    bot = make_bot(settings)
    try:
        await bot.set_webhook(
            url,
            secret_token=settings.webhook_secret.get_secret_value(),
            allowed_updates=ALLOWED_UPDATES,
        )
    finally:
        await bot.shutdown()
