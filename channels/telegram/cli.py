"""`gateway telegram ...` commands."""

from __future__ import annotations

import argparse
from typing import Any

from channels.telegram.bot import ALLOWED_UPDATES, make_bot
from gateway.channel_ports import OpenPorts
from gateway.errors import GatewayError
from gateway.settings import Settings, TelegramSettings


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


async def _set_webhook_command(settings: Settings, args: argparse.Namespace) -> int:
    await set_webhook(settings.telegram, args.url)
    print(f"Telegram webhook set to {args.url} (with the secret token)")
    return 0


def add_commands(subcommands: argparse._SubParsersAction[Any], _open_ports: OpenPorts) -> None:
    p = subcommands.add_parser(
        "set-webhook",
        help="register URL as the bot's webhook, with GATEWAY_TELEGRAM_WEBHOOK_SECRET",
    )
    p.add_argument("url", help="public HTTPS URL of /channels/telegram/webhook")
    p.set_defaults(func=_set_webhook_command)
