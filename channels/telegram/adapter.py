"""Agent replies out to Telegram: split, paced, uploaded, and never sent twice.

A reply becomes one or more Bot API calls (text parts, then each attachment). Which
parts went out is recorded on the reply's outbox row (the outbox port's progress), so
a retry after a failure (or a crash) continues with the first part not yet sent.
"""

from __future__ import annotations

import asyncio
import warnings

import structlog
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter, TelegramError

from channels.telegram import metrics
from channels.telegram.ratelimit import SendLimiter
from channels.telegram.service import set_reachability
from gateway.channel_ports import ChannelPorts
from gateway.ports import (
    Channel,
    Choice,
    DeliveryError,
    DeliveryReceipt,
    OutboundAttachment,
    OutboundMessage,
)

log = structlog.get_logger()

MAX_TEXT = 4096  # Telegram counts UTF-16 code units
PHOTO_TYPES = {"image/jpeg", "image/png", "image/webp"}
MAX_PHOTO_BYTES = 10 * 1024 * 1024


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cut a text into parts of at most `limit` UTF-16 units: on paragraph boundaries,
    else on line breaks, else on spaces, else anywhere (never inside a character)."""
    if utf16_len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for paragraph in text.split("\n\n"):
        candidate = f"{current}\n\n{paragraph}" if current else paragraph
        if utf16_len(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        if utf16_len(paragraph) <= limit:
            current = paragraph
        else:
            *whole, current = _split_long(paragraph, limit)
            parts.extend(whole)
    if current:
        parts.append(current)
    return [part for part in parts if part.strip()]


def _split_long(text: str, limit: int) -> list[str]:
    for separator in ("\n", " "):
        pieces = text.split(separator)
        if len(pieces) > 1 and all(utf16_len(p) <= limit for p in pieces):
            out: list[str] = []
            current = ""
            for piece in pieces:
                candidate = f"{current}{separator}{piece}" if current else piece
                if utf16_len(candidate) <= limit:
                    current = candidate
                else:
                    out.append(current)
                    current = piece
            out.append(current)
            return out
    out, current, units = [], "", 0
    for char in text:
        width = utf16_len(char)
        if units + width > limit:
            out.append(current)
            current, units = "", 0
        current += char
        units += width
    out.append(current)
    return out


class TelegramAdapter:
    """Delivers OutboundMessages to a private chat (recipient = the Telegram user id)."""

    channel = Channel.telegram

    def __init__(self, bot: Bot, limiter: SendLimiter, ports: ChannelPorts) -> None:
        self.bot = bot
        self.limiter = limiter
        self.ports = ports
        self.sessionmaker = ports.sessionmaker
        self.blobs = ports.blobs

    async def deliver(self, message: OutboundMessage) -> DeliveryReceipt:
        chat_id = message.recipient
        if await self._unreachable(chat_id):
            raise DeliveryError("the customer blocked the Telegram bot", retryable=False)
        items: list[str | OutboundAttachment] = [*split_text(message.text), *message.attachments]
        # Choices (a survey's ratings) ride on the last part as an inline keyboard.
        markup = keyboard(message.choices)
        sent = await self._progress(message.outbox_id)
        for index, item in enumerate(items[len(sent) :], start=len(sent)):
            last = index == len(items) - 1
            await self.limiter.acquire(chat_id)
            try:
                message_id = await self._send(chat_id, item, markup if last else None)
            except BaseException:
                await self.limiter.release(chat_id)
                raise
            returned_at = asyncio.get_running_loop().time()
            sent.append(message_id)
            await self._sent(message.outbox_id, sent, chat_id, returned_at)
        log.info("telegram.delivered", chat=chat_id, outbox_id=message.outbox_id, parts=len(sent))
        return DeliveryReceipt(provider_id=f"{chat_id}:{sent[0]}" if sent else None)

    async def _send(
        self,
        chat_id: str,
        item: str | OutboundAttachment,
        markup: InlineKeyboardMarkup | None = None,
    ) -> int:
        try:
            if isinstance(item, str):
                sent = await self.bot.send_message(chat_id, item, reply_markup=markup)
            else:
                data = await self.blobs.get(item.blob_key)
                upload = InputFile(data, filename=item.filename)
                if item.content_type in PHOTO_TYPES and item.size <= MAX_PHOTO_BYTES:
                    sent = await self.bot.send_photo(chat_id, upload, reply_markup=markup)
                else:
                    sent = await self.bot.send_document(chat_id, upload, reply_markup=markup)
        except RetryAfter as exc:
            seconds = _retry_after_seconds(exc)
            metrics.sends.labels("retry_after").inc()
            await self.limiter.hold_chat(chat_id, seconds)
            raise DeliveryError(str(exc), retryable=True, retry_after=seconds) from exc
        except Forbidden as exc:
            metrics.sends.labels("forbidden").inc()
            async with self.sessionmaker.begin() as session:
                await set_reachability(session, self.ports, chat_id, blocked=True)
            raise DeliveryError(f"Telegram refused: {exc.message}", retryable=False) from exc
        except InvalidToken as exc:
            # A configuration fault: the reply waits in the outbox until it is fixed.
            metrics.sends.labels("error").inc()
            raise DeliveryError(f"Telegram rejected the bot token: {exc}", retryable=True) from exc
        except BadRequest as exc:
            metrics.sends.labels("rejected").inc()
            raise DeliveryError(
                f"Telegram rejected the message: {exc.message}", retryable=False
            ) from exc
        except (TelegramError, OSError) as exc:
            metrics.sends.labels("error").inc()
            raise DeliveryError(f"Telegram unavailable: {exc}", retryable=True) from exc
        metrics.sends.labels("sent").inc()
        return sent.message_id

    async def _unreachable(self, chat_id: str) -> bool:
        async with self.sessionmaker() as session:
            identity = await self.ports.identities.identity(session, Channel.telegram, chat_id)
        return identity is not None and identity.unreachable

    async def _progress(self, outbox_id: int) -> list[int]:
        async with self.sessionmaker() as session:
            return [int(i) for i in await self.ports.outbox.progress(session, outbox_id)]

    async def _sent(
        self, outbox_id: int, sent: list[int], chat_id: str, returned_at: float
    ) -> None:
        """Keep the progress and free the chat (an interval from the call's return) in
        one transaction. Should it fail, the hold runs out on its own (`IN_FLIGHT_SECONDS`)."""
        async with self.sessionmaker.begin() as session:
            await self.ports.outbox.record_progress(session, outbox_id, sent)
            await self.limiter.release_in(session, chat_id, returned_at=returned_at)

    async def close(self) -> None:
        await self.bot.shutdown()


def keyboard(choices: tuple[Choice, ...]) -> InlineKeyboardMarkup | None:
    """One button a row: a tap sends the choice's value back as a callback_query."""
    if not choices:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(c.label, callback_data=c.value)] for c in choices]
    )


def _retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        # PTB warns that the int form of retry_after will become a timedelta.
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)
