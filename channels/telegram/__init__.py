"""The Telegram channel: verified webhook (or polling), media, paced replies.

`install(ports)` is all the composition root calls. Without GATEWAY_TELEGRAM_TOKEN the
webhook route still exists (so it is in the OpenAPI document) and answers 503 with the
reason; no adapter is registered, so Telegram replies wait in the outbox. Its pure
modules (normalise, tokens, greetings) import alone: nothing here is loaded before
`install` or `commands` runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

    from gateway.channel_ports import ChannelPorts, OpenPorts
    from gateway.ports import ChannelPlugin


def install(ports: ChannelPorts) -> ChannelPlugin:
    """Build the channel against the ports: route, adapter and services."""
    from channels.telegram.adapter import TelegramAdapter
    from channels.telegram.bot import make_bot
    from channels.telegram.files import AttachmentFetcher, AttachmentSweeper
    from channels.telegram.polling import TelegramPoller
    from channels.telegram.ratelimit import SendLimiter
    from channels.telegram.webhook import build_routes
    from gateway.ports import BackgroundService, Channel, ChannelPlugin

    settings = ports.settings.telegram
    if settings.token is None:
        return ChannelPlugin(Channel.telegram, routes=build_routes(ports, None))
    bot = make_bot(settings)
    fetcher = AttachmentFetcher(bot, ports, max_bytes=settings.max_file_bytes)
    limiter = SendLimiter(
        ports,
        global_per_second=settings.global_per_second,
        per_chat_per_second=settings.per_chat_per_second,
    )
    services: list[BackgroundService] = [
        AttachmentSweeper(fetcher, interval=settings.attachment_sweep_seconds)
    ]
    if settings.mode == "polling":
        services.append(TelegramPoller(bot, ports, fetcher))
    return ChannelPlugin(
        Channel.telegram,
        routes=build_routes(ports, fetcher),
        adapter=TelegramAdapter(bot, limiter, ports),
        services=services,
    )


def commands(subcommands: argparse._SubParsersAction[Any], open_ports: OpenPorts) -> None:
    """Add the channel's `gateway telegram ...` commands (channels/telegram/cli.py)."""
    from channels.telegram.cli import add_commands

    add_commands(subcommands, open_ports)
