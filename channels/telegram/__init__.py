"""The Telegram channel: verified webhook (or polling), media, paced replies.

`install(runtime)` is all the composition root calls. Without GATEWAY_TELEGRAM_TOKEN the
webhook route still exists (so it is in the OpenAPI document) and answers 503 with the
reason; no adapter is registered, so Telegram replies wait in the outbox.
"""

from __future__ import annotations

from channels.telegram.adapter import TelegramAdapter
from channels.telegram.bot import make_bot
from channels.telegram.files import AttachmentFetcher, AttachmentSweeper
from channels.telegram.polling import TelegramPoller
from channels.telegram.ratelimit import SendLimiter
from channels.telegram.router import build_router
from gateway.ports import BackgroundService, Channel, ChannelPlugin
from gateway.runtime import Runtime


def install(runtime: Runtime) -> ChannelPlugin:
    """Build the channel against the runtime: route, adapter and services."""
    settings = runtime.settings.telegram
    if settings.token is None:
        return ChannelPlugin(Channel.telegram, router=build_router(runtime, None))
    bot = make_bot(settings)
    fetcher = AttachmentFetcher(
        bot, runtime.sessionmaker, runtime.blobs, max_bytes=settings.max_file_bytes
    )
    limiter = SendLimiter(
        runtime.sessionmaker,
        global_per_second=settings.global_per_second,
        per_chat_per_second=settings.per_chat_per_second,
    )
    services: list[BackgroundService] = [
        AttachmentSweeper(fetcher, interval=settings.attachment_sweep_seconds)
    ]
    if settings.mode == "polling":
        services.append(TelegramPoller(bot, runtime, fetcher))
    return ChannelPlugin(
        Channel.telegram,
        router=build_router(runtime, fetcher),
        adapter=TelegramAdapter(bot, limiter, runtime.sessionmaker, runtime.blobs),
        services=services,
    )
