"""The webhook through real HTTP handling into a real database, files from the Bot API double."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa

import channels.telegram
from channels.telegram.greetings import GREETINGS
from channels.telegram.tokens import sign_start_token
from gateway import notify
from gateway.app import create_app
from gateway.audit import AuditEvent
from gateway.db import utcnow
from gateway.outbox.models import Outbox
from gateway.ports import Channel, OutboundMessage
from gateway.runtime import Runtime
from gateway.tickets.models import (
    Attachment,
    ChannelIdentity,
    Customer,
    DeadLetter,
    Message,
    Ticket,
)
from tests.channels.telegram.conftest import (
    SECRET,
    START_SECRET,
    Telegram,
    member_update,
    new_chat,
    private_message,
)
from tests.conftest import make_settings


async def messages(tg: Telegram, chat_id: int) -> list[Message]:
    async with tg.runtime.sessionmaker() as session:
        rows = await session.scalars(
            sa.select(Message)
            .where(Message.channel == "telegram", Message.external_id.like(f"{chat_id}:%"))
            .order_by(Message.id)
        )
        return list(rows)


async def attachments(tg: Telegram, message_id: int) -> list[Attachment]:
    async with tg.runtime.sessionmaker() as session:
        rows = await session.scalars(
            sa.select(Attachment).where(Attachment.message_id == message_id)
        )
        return list(rows)


async def test_wrong_or_missing_secret_is_401_and_stores_nothing(tg: Telegram) -> None:
    chat = new_chat()
    for secret in (None, "wrong", SECRET + "x", ""):
        response = await tg.post(private_message(chat, 1), secret=secret)
        assert response.status_code == 401
        assert "X-Telegram-Bot-Api-Secret-Token" in response.json()["detail"]
    # Not even a body that is no JSON gets parsed before the secret is checked.
    response = await tg.client.post("/channels/telegram/webhook", content=b"{not json")
    assert response.status_code == 401
    assert await messages(tg, chat) == []


async def test_the_same_update_twice_is_one_message(tg: Telegram) -> None:
    chat = new_chat()
    update = private_message(chat, 7, text="Seller did not release 250 USDT, order 55812")
    first, second = await asyncio.gather(tg.post(update), tg.post(update))
    assert first.status_code == second.status_code == 200
    assert {first.json()["outcome"], second.json()["outcome"]} == {"stored", "duplicate"}
    stored = await messages(tg, chat)
    assert [m.text for m in stored] == ["Seller did not release 250 USDT, order 55812"]
    assert first.json()["ticket"] == second.json()["ticket"]


async def test_messages_of_one_chat_thread_onto_one_ticket_with_language_hint(tg: Telegram) -> None:
    chat = new_chat()
    await tg.post(private_message(chat, 1, language="pt-br", text="Olá"))
    await tg.post(private_message(chat, 2, language="pt-br", text="Paguei e nada"))
    stored = await messages(tg, chat)
    assert len({m.ticket_id for m in stored}) == 1
    async with tg.runtime.sessionmaker() as session:
        identity = await session.scalar(
            sa.select(ChannelIdentity).where(ChannelIdentity.address == str(chat))
        )
    assert identity is not None and identity.language_hint == "pt"


async def test_groups_channels_and_unknown_kinds_are_acknowledged_and_ignored(
    tg: Telegram,
) -> None:
    chat = new_chat()
    group = private_message(chat, 1)
    group["message"]["chat"] = {"id": -chat, "title": "P2P traders", "type": "group"}
    channel_post = {
        "update_id": 1,
        "channel_post": group["message"] | {"chat": {"id": -5, "type": "channel"}},
    }
    future_kind = {"update_id": 2, "brand_new_kind_2030": {"id": "x", "payload": [1, 2]}}
    for update in (group, channel_post, future_kind):
        response = await tg.post(update)
        assert response.status_code == 200
        assert response.json()["outcome"] == "ignored"
    assert await messages(tg, chat) == []


async def test_bodies_that_are_no_update_are_400(tg: Telegram) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    for body in (b"{not json", b"[1, 2]", b'{"message": {}}', b'{"update_id": "7"}'):
        response = await tg.client.post("/channels/telegram/webhook", content=body, headers=headers)
        assert response.status_code == 400, body


async def test_photo_only_message_is_stored_then_its_file_fetched(tg: Telegram) -> None:
    chat = new_chat()
    image = b"\xff\xd8\xff\xe0 receipt of bank transfer " + bytes(range(256))
    tg.api.add_file(f"photo-{chat}", image)
    photo = [
        {"file_id": f"thumb-{chat}", "file_unique_id": f"t{chat}", "width": 90, "height": 90},
        {"file_id": f"photo-{chat}", "file_unique_id": f"p{chat}", "width": 900, "height": 1200},
    ]
    response = await tg.post(private_message(chat, 3, photo=photo))
    assert response.status_code == 200
    [message] = await messages(tg, chat)
    assert message.text == ""
    [attachment] = await attachments(tg, message.id)  # type: ignore[arg-type]
    # ASGITransport runs the background task before the response returns.
    assert attachment.state == "stored"
    assert attachment.size == len(image)
    assert attachment.blob_key is not None
    assert await tg.runtime.blobs.get(attachment.blob_key) == image


async def test_caption_document_voice_video_and_too_large_files(tg: Telegram) -> None:
    chat = new_chat()
    tg.api.add_file(f"doc-{chat}", b"%PDF-1.7 statement")
    tg.api.add_file(f"big-{chat}", b"x" * 10, reported_size=5 * 1024 * 1024)
    tg.api.add_file(f"voice-{chat}", b"OggS voice")
    await tg.post(
        private_message(
            chat,
            1,
            caption="Bank statement attached",
            document={
                "file_id": f"doc-{chat}",
                "file_unique_id": f"d{chat}",
                "file_name": "statement.pdf",
                "mime_type": "application/pdf",
            },
        )
    )
    await tg.post(
        private_message(
            chat,
            2,
            video={
                "file_id": f"big-{chat}",
                "file_unique_id": f"b{chat}",
                "width": 1,
                "height": 1,
                "duration": 1,
            },
        )
    )
    await tg.post(
        private_message(
            chat, 3, voice={"file_id": f"voice-{chat}", "file_unique_id": f"v{chat}", "duration": 2}
        )
    )
    doc, video, voice = await messages(tg, chat)
    assert doc.text == "Bank statement attached"
    [doc_file] = await attachments(tg, doc.id)  # type: ignore[arg-type]
    assert (doc_file.filename, doc_file.content_type, doc_file.state) == (
        "statement.pdf",
        "application/pdf",
        "stored",
    )
    [video_file] = await attachments(tg, video.id)  # type: ignore[arg-type]
    assert video_file.state == "too_large" and video_file.blob_key is None
    [voice_file] = await attachments(tg, voice.id)  # type: ignore[arg-type]
    assert (voice_file.content_type, voice_file.state) == ("audio/ogg", "stored")


async def test_a_pending_file_left_by_a_crash_is_fetched_by_the_sweeper(tg: Telegram) -> None:
    chat = new_chat()
    # The Bot API is down when the message arrives: the message is stored, the file waits.
    tg.api.fail("getFile", 502, times=1)
    await tg.post(
        private_message(
            chat,
            1,
            document={
                "file_id": f"late-{chat}",
                "file_unique_id": f"l{chat}",
                "file_name": "proof.png",
            },
        )
    )
    [message] = await messages(tg, chat)
    [attachment] = await attachments(tg, message.id)  # type: ignore[arg-type]
    assert attachment.state == "pending"
    tg.api.add_file(f"late-{chat}", b"\x89PNG proof")
    sweeper = next(s for s in tg.plugin.services if s.name == "telegram-attachments")
    stop = asyncio.Event()
    task = asyncio.create_task(sweeper.run(stop))
    for _ in range(100):
        [attachment] = await attachments(tg, message.id)  # type: ignore[arg-type]
        if attachment.state != "pending":
            break
        await asyncio.sleep(0.05)
    stop.set()
    await task
    assert attachment.state == "stored"
    assert await tg.runtime.blobs.get(attachment.blob_key) == b"\x89PNG proof"  # type: ignore[arg-type]


async def test_an_edit_updates_the_text_and_keeps_the_original_in_the_audit(tg: Telegram) -> None:
    chat = new_chat()
    await tg.post(private_message(chat, 5, text="I paid 100 EUR"))
    edit = private_message(chat, 5, text="I paid 1000 EUR")
    edit["edited_message"] = edit.pop("message") | {"edit_date": 1767225700}
    for _ in range(2):  # a repeated edit changes nothing more
        response = await tg.post(edit)
        assert response.json()["outcome"] == "edited"
    [message] = await messages(tg, chat)
    assert message.text == "I paid 1000 EUR"
    assert message.edited_at is not None
    async with tg.runtime.sessionmaker() as session:
        events = list(
            await session.scalars(
                sa.select(AuditEvent).where(
                    AuditEvent.action == "message.edited", AuditEvent.ticket_id == message.ticket_id
                )
            )
        )
    assert [e.data["original_text"] for e in events] == ["I paid 100 EUR"]


async def test_start_greets_in_the_users_language_through_the_outbox(tg: Telegram) -> None:
    chat = new_chat()
    response = await tg.post(private_message(chat, 1, language="ru", text="/start"))
    assert response.json()["outcome"] == "stored"
    async with tg.runtime.sessionmaker() as session:
        rows = (
            await session.execute(
                sa.select(Message, Outbox)
                .join(Outbox, Outbox.message_id == Message.id)
                .join(Ticket, Ticket.id == Message.ticket_id)
                .where(Ticket.thread_key == str(chat))
            )
        ).all()
    [(greeting, outbox)] = rows
    assert greeting.direction == "outbound" and greeting.text == GREETINGS["ru"]
    assert outbox.channel == "telegram" and outbox.state == "pending"


async def test_the_greeting_wakes_the_delivery_workers(tg: Telegram) -> None:
    """A greeting is a reply like any other: it does not wait for the worker's next poll."""
    chat = new_chat()
    async with tg.runtime.notifier.subscribe(notify.OUTBOX) as signals:
        await tg.post(private_message(chat, 1, text="/start"))
        async with tg.runtime.sessionmaker() as session:
            outbox_id = await session.scalar(
                sa.select(Outbox.id)
                .join(Ticket, Ticket.id == Outbox.ticket_id)
                .where(Ticket.thread_key == str(chat))
            )
        seen: set[str] = set()
        async with asyncio.timeout(10):
            while str(outbox_id) not in seen:
                seen.add(await signals.get())


async def test_start_with_a_signed_token_links_the_exchange_account(tg: Telegram) -> None:
    chat, other_chat = new_chat(), new_chat()
    user_id = f"ex-{chat}"
    token = sign_start_token(START_SECRET.encode(), user_id, utcnow() + timedelta(hours=1))
    await tg.post(private_message(chat, 1, text=f"/start {token}"))
    # Someone else with a forged token links nothing.
    await tg.post(private_message(other_chat, 1, text=f"/start {token[:-2]}AA"))
    [start] = await messages(tg, chat)
    assert start.text == "/start"  # the credential is not kept
    async with tg.runtime.sessionmaker() as session:
        linked = await session.scalar(
            sa.select(Customer).join(ChannelIdentity).where(ChannelIdentity.address == str(chat))
        )
        other = await session.scalar(
            sa.select(Customer)
            .join(ChannelIdentity)
            .where(ChannelIdentity.address == str(other_chat))
        )
    assert linked is not None and linked.exchange_user_id == user_id
    assert other is not None and other.exchange_user_id is None


async def test_blocking_the_bot_marks_unreachable_flags_tickets_and_replies_fail_at_once(
    tg: Telegram,
) -> None:
    chat = new_chat()
    await tg.post(private_message(chat, 1))
    assert (await tg.post(member_update(chat, "kicked"))).json()["outcome"] == "member"
    [message] = await messages(tg, chat)
    async with tg.runtime.sessionmaker() as session:
        identity = await session.scalar(
            sa.select(ChannelIdentity).where(ChannelIdentity.address == str(chat))
        )
        ticket = await session.get(Ticket, message.ticket_id)
    assert identity is not None and identity.unreachable
    assert ticket is not None and ticket.needs_attention
    calls_before = len(tg.api.calls)
    reply = OutboundMessage(
        outbox_id=1,
        message_id=1,
        ticket_ref=ticket.ref,
        channel=Channel.telegram,
        recipient=str(chat),
        text="Hello",
        idempotency_key=f"blocked-{chat}",
    )
    try:
        await tg.adapter.deliver(reply)
    except Exception as exc:
        assert getattr(exc, "retryable", None) is False
    else:
        raise AssertionError("delivery to a user who blocked the bot must fail")
    assert len(tg.api.calls) == calls_before  # not even tried
    await tg.post(member_update(chat, "member"))
    async with tg.runtime.sessionmaker() as session:
        identity = await session.scalar(
            sa.select(ChannelIdentity).where(ChannelIdentity.address == str(chat))
        )
    assert identity is not None and not identity.unreachable


async def test_without_a_token_the_webhook_says_telegram_is_off(
    database_url: str, tmp_root: Path
) -> None:
    settings = make_settings(database_url, tmp_root)
    runtime = Runtime.from_settings(settings)
    plugin = channels.telegram.install(runtime)
    assert plugin.adapter is None and plugin.services == []
    app = create_app(settings, runtime, [plugin])
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://x"
        ) as c:
            response = await c.post(
                "/channels/telegram/webhook",
                json={"update_id": 1},
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            )
            schema = (await c.get("/openapi.json")).json()
    finally:
        await runtime.close()
    assert response.status_code == 503
    assert "GATEWAY_TELEGRAM_TOKEN" in response.json()["detail"]
    assert "/channels/telegram/webhook" in schema["paths"]


async def test_an_update_telegram_posts_again_is_set_aside_once(tg: Telegram, unique: str) -> None:
    # Telegram re-posts an update until it gets a 200 (and after a 200 that timed out):
    # the dead letter is one, however often it comes.
    count = (
        sa.select(sa.func.count()).select_from(DeadLetter).where(DeadLetter.channel == "telegram")
    )
    async with tg.runtime.sessionmaker() as session:
        before = await session.scalar(count)
    broken = {"update_id": 98, "message": {"message_id": unique, "chat": "not an object"}}
    for _ in range(3):
        response = await tg.post(broken)
        assert response.status_code == 200 and response.json()["outcome"] == "set_aside"
    async with tg.runtime.sessionmaker() as session:
        assert await session.scalar(count) == (before or 0) + 1


async def test_an_update_python_telegram_bot_cannot_parse_is_set_aside(tg: Telegram) -> None:
    broken = {"update_id": 99, "message": {"message_id": "x", "chat": "not an object"}}
    response = await tg.post(broken)
    assert response.status_code == 200 and response.json()["outcome"] == "set_aside"
    async with tg.runtime.sessionmaker() as session:
        letter = await session.scalar(
            sa.select(DeadLetter)
            .where(DeadLetter.channel == "telegram")
            .order_by(DeadLetter.id.desc())
        )
    assert letter is not None and letter.reason == "unparseable"
    assert letter.raw_blob_key and b"not an object" in await tg.runtime.blobs.get(
        letter.raw_blob_key
    )
