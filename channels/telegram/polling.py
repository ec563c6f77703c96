"""Polling mode for local development: getUpdates in a loop, the offset in the database.

Each update is handled and its offset saved in one transaction, so a crash re-reads at
most the update that was in flight (and ingest stores that once).
"""

from __future__ import annotations

import asyncio

import structlog
from telegram import Bot, Update
from telegram.error import TelegramError

from channels.telegram.bot import ALLOWED_UPDATES
from channels.telegram.files import AttachmentFetcher
from channels.telegram.service import answer_callback, handle_update, set_aside
from gateway.channel_ports import ChannelPorts
from gateway.errors import InvalidInbound

log = structlog.get_logger()

OFFSET_KEY = "telegram.polling.offset"


class TelegramPoller:
    name = "telegram-polling"

    def __init__(self, bot: Bot, ports: ChannelPorts, fetcher: AttachmentFetcher) -> None:
        self.bot = bot
        self.ports = ports
        self.fetcher = fetcher
        self.timeout = ports.settings.telegram.polling_timeout_seconds

    async def run(self, stop: asyncio.Event) -> None:
        # getUpdates is refused while a webhook is set.
        await self.bot.delete_webhook()
        log.info("telegram.polling_started")
        while not stop.is_set():
            try:
                updates = await self._get_updates(await self.offset(), stop)
            except TelegramError as exc:
                log.warning("telegram.polling_failed", error=str(exc))
                await _pause(stop, 2.0)
                continue
            for update in updates:
                await self._handle(update)

    async def offset(self) -> int | None:
        """The first update_id not yet stored (None before the first update)."""
        async with self.ports.sessionmaker() as session:
            value = await self.ports.state.get(session, OFFSET_KEY)
        return int(value) if value else None

    async def _get_updates(self, offset: int | None, stop: asyncio.Event) -> tuple[Update, ...]:
        fetch = asyncio.ensure_future(
            self.bot.get_updates(
                offset=offset, timeout=self.timeout, allowed_updates=ALLOWED_UPDATES
            )
        )
        stopped = asyncio.ensure_future(stop.wait())
        await asyncio.wait({fetch, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if not fetch.done():
            fetch.cancel()
            await asyncio.gather(fetch, return_exceptions=True)
            return ()
        return fetch.result()

    async def _handle(self, update: Update) -> None:
        try:
            async with self.ports.sessionmaker.begin() as session:
                handled = await handle_update(session, update, self.ports)
                await self.ports.state.put(session, OFFSET_KEY, str(update.update_id + 1))
        except InvalidInbound as exc:
            await set_aside(
                self.ports, update.to_json().encode(), reason="invalid", error=exc.detail
            )
            async with self.ports.sessionmaker.begin() as session:
                await self.ports.state.put(session, OFFSET_KEY, str(update.update_id + 1))
            return
        await self.fetcher.fetch_many(handled.pending_attachments)
        await answer_callback(self.bot, handled)


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass
