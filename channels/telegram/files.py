"""Telegram files into the blob store, after the message that carries them is committed.

The webhook stores an attachment as `pending` with its file_id and answers 200; the bytes
are fetched afterwards (getFile, then download), so a slow file never delays the ack.
A crash in between leaves the row pending, and `AttachmentSweeper` fetches it again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import structlog
from telegram import Bot
from telegram.error import BadRequest, TelegramError

from channels.telegram import metrics
from gateway.channel_ports import ChannelPorts
from gateway.ports import Channel

log = structlog.get_logger()

PENDING = "pending"


class AttachmentFetcher:
    """Fetches pending Telegram attachments by id; safe to run twice on one row."""

    def __init__(self, bot: Bot, ports: ChannelPorts, *, max_bytes: int) -> None:
        self.bot = bot
        self.ports = ports
        self.max_bytes = max_bytes

    async def fetch_many(self, attachment_ids: Iterable[int]) -> None:
        for attachment_id in attachment_ids:
            await self.fetch(attachment_id)

    async def fetch(self, attachment_id: int) -> str:
        """Fetch one attachment; returns its state afterwards (pending = try again later)."""
        async with self.ports.sessionmaker() as session:
            attachment = await self.ports.intake.file(session, attachment_id)
        if attachment is None or attachment.state != PENDING or not attachment.source_ref:
            return attachment.state if attachment else "missing"
        try:
            file = await self.bot.get_file(attachment.source_ref)
            if file.file_size is not None and file.file_size > self.max_bytes:
                return await self._finish(attachment_id, "too_large", size=file.file_size)
            data = bytes(await file.download_as_bytearray())
        except BadRequest as exc:
            # Telegram says no for good: an unknown file_id, or a file over the Bot API's
            # own download limit.
            state = "too_large" if "too big" in exc.message.lower() else "failed"
            log.warning(
                "telegram.attachment_refused", attachment_id=attachment_id, error=exc.message
            )
            return await self._finish(attachment_id, state)
        except (TelegramError, OSError) as exc:
            log.warning(
                "telegram.attachment_fetch_failed", attachment_id=attachment_id, error=str(exc)
            )
            return PENDING
        if len(data) > self.max_bytes:
            return await self._finish(attachment_id, "too_large", size=len(data))
        key = await self.ports.blobs.put(data)
        return await self._finish(attachment_id, "stored", size=len(data), key=key, data=data)

    async def _finish(
        self,
        attachment_id: int,
        state: str,
        *,
        size: int | None = None,
        key: str | None = None,
        data: bytes | None = None,
    ) -> str:
        async with self.ports.sessionmaker.begin() as session:
            # Only a pending row moves: a concurrent fetch of the same row changes nothing.
            await self.ports.intake.file_fetched(
                session, attachment_id, state, size=size, blob_key=key, data=data
            )
        metrics.attachments.labels(state).inc()
        log.info("telegram.attachment_fetched", attachment_id=attachment_id, state=state)
        return state

    async def pending_ids(self, limit: int = 100) -> list[int]:
        """Telegram attachments still waiting for their bytes, oldest first."""
        async with self.ports.sessionmaker() as session:
            return await self.ports.intake.pending_file_ids(session, Channel.telegram, limit)

    async def sweep(self) -> int:
        """Fetch every pending attachment once; returns how many are still pending."""
        ids = await self.pending_ids()
        states = [await self.fetch(i) for i in ids]
        return states.count(PENDING)


class AttachmentSweeper:
    """Fetches attachments a crash (or a Telegram outage) left pending: at start, then
    every `interval` seconds."""

    name = "telegram-attachments"

    def __init__(self, fetcher: AttachmentFetcher, *, interval: float):
        self.fetcher = fetcher
        self.interval = interval

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            left = await self.fetcher.sweep()
            if left:
                log.info("telegram.attachments_still_pending", count=left)
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.interval)
            except TimeoutError:
                pass
