"""deliver() with the real python-telegram-bot client against the Bot API double."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import time
from collections import defaultdict
from pathlib import Path

import pytest
import sqlalchemy as sa

import channels.telegram
from channels.telegram.adapter import TelegramAdapter
from channels.telegram.ratelimit import SENT_CHAT_KEY, SENT_GLOBAL_KEY, SendLimiter, db_now
from gateway.outbox import service as outbox
from gateway.ports import Channel, DeliveryError, OutboundAttachment, OutboundMessage
from gateway.runtime import Runtime
from gateway.tickets.models import ChannelIdentity, Ticket
from tests.channels.telegram.conftest import Telegram, new_chat, private_message, telegram_settings
from tests.conftest import make_settings

# Replies handed to the adapter directly have no outbox row: their ids are ones no row
# can have. A positive one could be a real reply's row from another test in the same
# database, whose kept progress (parts already sent) would make deliver() skip the send.
_ids = itertools.count(-1, -1)


def reply(chat: int, text: str, *attachments: OutboundAttachment, key: str = "") -> OutboundMessage:
    n = next(_ids)
    return OutboundMessage(
        outbox_id=n,
        message_id=n,
        ticket_ref="D-1",
        channel=Channel.telegram,
        recipient=str(chat),
        text=text,
        idempotency_key=key or f"reply-{chat}-{n}",
        attachments=attachments,
    )


async def queued_reply(tg: Telegram, chat: int, text: str) -> OutboundMessage:
    """A reply to `chat`'s ticket queued through the outbox, as the worker would hand it."""
    async with tg.runtime.sessionmaker.begin() as session:
        ticket_id = await session.scalar(
            sa.select(Ticket.id)
            .join(ChannelIdentity, ChannelIdentity.id == Ticket.identity_id)
            .where(ChannelIdentity.address == str(chat))
        )
        assert ticket_id is not None
        queued = await outbox.enqueue(
            session,
            ticket_id=ticket_id,
            channel=Channel.telegram,
            text=text,
            notifier=None,
            action="message.replied",
        )
        outbox_id = await session.scalar(
            sa.select(outbox.OutboxRow.id).where(outbox.OutboxRow.message_id == queued.id)
        )
    assert outbox_id is not None and queued.id is not None
    return dataclasses.replace(reply(chat, text), outbox_id=outbox_id, message_id=queued.id)


def to_chat(tg: Telegram, chat: int, method: str | None = None) -> list[str]:
    return [
        c.params.get("text") or c.method
        for c in tg.api.sent(method)
        if c.chat_id == str(chat) and c.method.startswith("send")
    ]


async def test_a_reply_arrives_as_text(tg: Telegram) -> None:
    chat = new_chat()
    receipt = await tg.adapter.deliver(reply(chat, "Your order 9912 is released."))
    assert to_chat(tg, chat) == ["Your order 9912 is released."]
    assert receipt.provider_id is not None and receipt.provider_id.startswith(f"{chat}:")


async def test_long_replies_are_split_on_paragraphs_in_order(tg: Telegram) -> None:
    chat = new_chat()
    paragraphs = [f"Step {i}. " + "Check the payment details. " * 60 for i in range(8)]
    await tg.adapter.deliver(reply(chat, "\n\n".join(paragraphs)))
    parts = to_chat(tg, chat)
    assert len(parts) > 1 and all(len(p) <= 4096 for p in parts)
    assert "\n\n".join(parts) == "\n\n".join(paragraphs)


async def test_attachments_are_uploaded(tg: Telegram) -> None:
    chat = new_chat()
    png = b"\x89PNG\r\n\x1a\n screenshot"
    pdf = b"%PDF-1.7 refund confirmation"
    png_key, pdf_key = await tg.runtime.blobs.put(png), await tg.runtime.blobs.put(pdf)
    await tg.adapter.deliver(
        reply(
            chat,
            "See attached.",
            OutboundAttachment("shot.png", "image/png", png_key, len(png)),
            OutboundAttachment("refund.pdf", "application/pdf", pdf_key, len(pdf)),
        )
    )
    calls = [c for c in tg.api.calls if c.chat_id == str(chat)]
    assert [c.method for c in calls] == ["sendMessage", "sendPhoto", "sendDocument"]
    assert calls[1].files["photo"] == png
    assert calls[2].files["document"] == pdf


async def test_retry_after_is_retryable_with_telegrams_delay(tg: Telegram) -> None:
    chat = new_chat()
    tg.api.fail("sendMessage", 429, retry_after=3, chat_id=str(chat))
    with pytest.raises(DeliveryError) as caught:
        await tg.adapter.deliver(reply(chat, "hello"))
    assert caught.value.retryable and caught.value.retry_after == 3
    # Every process now keeps off this chat for those seconds.
    slot, now, _ = await tg.adapter.limiter.reserve(str(chat))
    assert slot >= now + 2.5


async def test_a_send_that_reaches_telegram_late_still_holds_the_chats_next_send_off(
    tg: Telegram,
) -> None:
    """Telegram counts a chat's messages when they reach it. A send that takes longer
    than the per-chat interval to get there (a slow uplink, a stalled event loop) must
    not let the chat's next send overtake it or land right behind it."""
    chat = new_chat()
    tg.api.delay("sendMessage", 1.5, chat_id=str(chat))
    await asyncio.gather(
        tg.adapter.deliver(reply(chat, "first")), tg.adapter.deliver(reply(chat, "second"))
    )
    arrivals = sorted(c.at for c in tg.api.sent("sendMessage") if c.chat_id == str(chat))
    assert len(arrivals) == 2
    assert arrivals[1] - arrivals[0] >= 1.0  # the fixture's 1 message a second per chat


async def test_senders_that_woke_late_never_put_more_than_the_limit_into_one_second(
    tg: Telegram,
) -> None:
    """Senders whose slots have all passed (a process that stalled) catch up, but no one
    second holds more sends than Telegram's global limit."""
    limiter = tg.adapter.limiter
    chats = [str(new_chat()) for _ in range(limiter.window_starts * 2)]
    starts = []
    for chat in chats:
        # Straight to the claim: every sender's reserved slot is long past.
        while wait := await limiter.claim(chat):
            assert wait > 0
            await asyncio.sleep(wait)
        await limiter.release(chat)
        # The start as the limiter took it, on the database's clock: the newest kept.
        async with tg.runtime.sessionmaker() as session:
            kept = await tg.runtime.state.get_many(session, [SENT_GLOBAL_KEY])
        starts.append(float(kept[SENT_GLOBAL_KEY].split()[-1]))
    busiest = max(sum(1 for t in starts if start <= t < start + 1.0) for start in starts)
    assert busiest <= limiter.window_starts == 30  # the fixture's 30 a second in total


async def test_a_limit_set_out_of_the_way_keeps_the_window_row_small(tg: Telegram) -> None:
    """Every claim reads and rewrites the window's row: limits set very high (a Bot API
    server of one's own) must not grow it with every send."""
    limiter = SendLimiter(tg.runtime, global_per_second=1_000_000, per_chat_per_second=1000)
    for _ in range(150):
        chat = str(new_chat())
        assert await limiter.claim(chat) == 0.0
        await limiter.release(chat)
    async with tg.runtime.sessionmaker() as session:
        kept = await tg.runtime.state.get_many(session, [SENT_GLOBAL_KEY])
    assert len(kept[SENT_GLOBAL_KEY].split()) == 100


async def test_forbidden_stops_retrying_and_marks_the_user_unreachable(tg: Telegram) -> None:
    chat = new_chat()
    await tg.post(private_message(chat, 1))
    tg.api.fail("sendMessage", 403, chat_id=str(chat))
    with pytest.raises(DeliveryError) as caught:
        await tg.adapter.deliver(reply(chat, "hello"))
    assert not caught.value.retryable
    async with tg.runtime.sessionmaker() as session:
        identity = await session.scalar(
            sa.select(ChannelIdentity).where(ChannelIdentity.address == str(chat))
        )
    assert identity is not None and identity.unreachable


async def test_a_server_error_is_retried_without_resending_parts_already_delivered(
    tg: Telegram,
) -> None:
    chat = new_chat()
    await tg.post(private_message(chat, 1))
    text = "First part. " + "a" * 4000 + "\n\nSecond part. " + "b" * 4000
    # Progress is kept on the reply's outbox row, so the reply has a real one.
    message = await queued_reply(tg, chat, text)
    # The first part goes out, the second meets a 502.
    tg.api.fail("sendMessage", 502, chat_id=str(chat), skip=1)
    with pytest.raises(DeliveryError) as caught:
        await tg.adapter.deliver(message)
    assert caught.value.retryable
    await tg.adapter.deliver(message)  # the worker's retry
    await tg.adapter.deliver(message)  # and a duplicate retry after a crash
    delivered = [
        c.params["text"][:6]
        for c in tg.api.calls
        if c.chat_id == str(chat) and c.method == "sendMessage"
    ]
    # First part once; second part: the failed attempt, then the retry; nothing more.
    assert delivered == ["First ", "Second", "Second"]


# Telegram allows 30 messages a second in total and 1 a second per chat. The limiter's
# pacing does not depend on the figures, so the test runs them scaled down (10/s in
# total, 2/s per chat, 8 chats: the total binds, unlike 10 chats at 1/s against 30/s)
# and sees the same property in about 6 s instead of minutes on a busy PostgreSQL.
GLOBAL_PER_SECOND, PER_CHAT_PER_SECOND, CHATS, REPLIES = 10, 2, 8, 60


async def test_replies_to_many_chats_respect_the_rate_limits_across_processes(
    database_url: str, tmp_root: Path, tg: Telegram
) -> None:
    """Three gateway 'processes' (own engine, pool and bot each) share one database."""
    limits = {"global_per_second": GLOBAL_PER_SECOND, "per_chat_per_second": PER_CHAT_PER_SECOND}
    runtimes = [
        Runtime.from_settings(
            make_settings(database_url, tmp_root, telegram=telegram_settings(tg.api, **limits))
        )
        for _ in range(3)
    ]
    adapters = [channels.telegram.install(r).adapter for r in runtimes]
    assert all(isinstance(a, TelegramAdapter) for a in adapters)
    chats = [new_chat() for _ in range(CHATS)]
    replies = [reply(chats[i % CHATS], f"reply {i}") for i in range(REPLIES)]
    started = time.time()
    try:
        await asyncio.gather(
            *(adapters[i % 3].deliver(r) for i, r in enumerate(replies))  # type: ignore[union-attr]
        )
    finally:
        for adapter, runtime in zip(adapters, runtimes, strict=True):
            await adapter.close()  # type: ignore[union-attr]
            await runtime.close()
    arrivals = sorted(
        (c.at, c.chat_id)
        for c in tg.api.calls
        if c.method == "sendMessage" and c.at >= started and c.chat_id in {str(x) for x in chats}
    )
    assert len(arrivals) == REPLIES
    per_chat: dict[str | None, list[float]] = defaultdict(list)
    for at, chat in arrivals:
        per_chat[chat].append(at)
    for times in per_chat.values():
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert min(gaps) >= 1.0 / PER_CHAT_PER_SECOND, f"one chat got two {min(gaps):.3f}s apart"
    times = [at for at, _ in arrivals]
    busiest = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
    assert busiest <= GLOBAL_PER_SECOND
    print(
        f"{REPLIES} replies to {CHATS} chats in {times[-1] - times[0]:.1f}s; "
        f"busiest second: {busiest}"
    )


async def test_a_delivered_reply_frees_its_chat_an_interval_after_the_send(tg: Telegram) -> None:
    """The chat's hold ends in the transaction that records the reply's progress: once
    deliver() returns, the chat is free again one interval on, not held for a send in
    flight."""
    chat = new_chat()
    await tg.post(private_message(chat, 1))
    await tg.adapter.deliver(await queued_reply(tg, chat, "hello"))
    limiter = tg.adapter.limiter
    key = SENT_CHAT_KEY + str(chat)
    async with tg.runtime.sessionmaker() as session:
        free = float((await tg.runtime.state.get_many(session, [key]))[key])
        now = await db_now(session)
    assert free <= now + limiter.chat_interval


async def test_pacing_transactions_alone_commit_without_waiting_for_the_disk(
    tg: Telegram, backend: str
) -> None:
    """The limiter's own transactions hold only pacing state; the delivery's, with the
    progress of a reply, stay durable."""
    if backend != "postgresql":
        pytest.skip("a PostgreSQL setting")
    async with tg.runtime.sessionmaker.begin() as session:
        await db_now(session, pacing_only=True)
        assert await session.scalar(sa.text("SHOW synchronous_commit")) == "off"
    async with tg.runtime.sessionmaker.begin() as session:
        await db_now(session)
        assert await session.scalar(sa.text("SHOW synchronous_commit")) == "on"


async def test_reservations_never_book_more_into_a_window_than_the_claim_lets_go(
    tg: Telegram,
) -> None:
    """Senders that wake on their reserved slots find the window free: the reservations
    never put more than the window's starts into its span, so no sender on time pays a
    second claim."""
    limiter = tg.adapter.limiter
    slots = [(await limiter.reserve(str(new_chat())))[0] for _ in range(limiter.window_starts * 2)]
    spans = [b - a for a, b in zip(slots, slots[limiter.window_starts :], strict=False)]
    # Epoch seconds as floats: each slot is rounded to about 0.2 microseconds.
    assert min(spans) >= limiter.window_seconds - 1e-4
