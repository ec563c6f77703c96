"""Hostile updates with the right secret: Telegram re-posts every non-2xx answer for a
day, so each of these must get 200, with what can be stored stored (cut, cleaned) and
the rest set aside where operators see it."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from gateway.tickets.models import Attachment, ChannelIdentity, DeadLetter
from tests.channels.telegram.conftest import SECRET, Telegram, new_chat, private_message
from tests.channels.telegram.test_webhook import messages


async def _post_raw(tg: Telegram, body: bytes) -> tuple[int, dict[str, object]]:
    response = await tg.client.post(
        "/channels/telegram/webhook",
        content=body,
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"},
    )
    return response.status_code, response.json()


async def _letters(tg: Telegram, external_id: str) -> list[DeadLetter]:
    async with tg.runtime.sessionmaker() as session:
        rows = await session.scalars(
            sa.select(DeadLetter).where(
                DeadLetter.channel == "telegram", DeadLetter.external_id == external_id
            )
        )
        return list(rows)


async def test_deeply_nested_json_is_set_aside_with_200(tg: Telegram) -> None:
    depth = 100_000
    body = b'{"update_id": 1, "x": ' + b"[" * depth + b"]" * depth + b"}"
    code, answer = await _post_raw(tg, body)
    assert code == 200 and answer["outcome"] == "set_aside", answer
    async with tg.runtime.sessionmaker() as session:
        letter = await session.scalar(
            sa.select(DeadLetter)
            .where(DeadLetter.channel == "telegram", DeadLetter.error.like("%nested%"))
            .order_by(DeadLetter.id.desc())
        )
    assert letter is not None and letter.raw_blob_key
    assert tg.runtime.blobs.exists(letter.raw_blob_key)


async def test_moderately_nested_fields_keep_the_message(tg: Telegram) -> None:
    chat = new_chat()
    update = private_message(chat, 1, text="help me")
    nested: object = "end"
    for _ in range(900):
        nested = [nested]
    update["message"]["unknown_field"] = nested
    code, answer = await _post_raw(tg, json.dumps(update).encode())
    assert code == 200, answer
    assert answer["outcome"] == "stored"
    assert [m.text for m in await messages(tg, chat)] == ["help me"]


@pytest.mark.parametrize(
    ("text", "stored_text"),
    [("a\ud800b", "a\ufffdb"), ("nul\x00here", "nulhere")],
)
async def test_text_that_cannot_be_stored_is_cleaned_and_the_raw_kept(
    tg: Telegram, text: str, stored_text: str
) -> None:
    chat = new_chat()
    update = private_message(chat, 1, text=text)
    code, answer = await _post_raw(tg, json.dumps(update).encode())
    assert code == 200 and answer["outcome"] == "stored", answer
    [message] = await messages(tg, chat)
    assert message.text == stored_text
    [letter] = await _letters(tg, f"{chat}:1")
    assert letter.reason == "scrubbed" and letter.resolved_message_id == message.id
    assert "text" in (letter.error or "")
    # Telegram re-posts the same update: stored once, no second letter.
    code, again = await _post_raw(tg, json.dumps(update).encode())
    assert code == 200 and again["outcome"] == "duplicate"
    assert len(await messages(tg, chat)) == 1 and len(await _letters(tg, f"{chat}:1")) == 1


@pytest.mark.parametrize(
    "user",
    [
        {"first_name": "A\x00na\ud800"},
        {"first_name": "N" * 300, "last_name": "L" * 300},
        {"first_name": "Ana", "language_code": "x" * 40},
        {"first_name": "Ana", "language_code": "e\x00n"},
        {"first_name": "\u202eevil\r\nAdmin"},
    ],
)
async def test_hostile_names_and_language_codes_are_stored_cleaned(
    tg: Telegram, user: dict[str, str]
) -> None:
    chat = new_chat()
    update = private_message(chat, 1, text="my order")
    update["message"]["from"].update(user)
    code, answer = await _post_raw(tg, json.dumps(update).encode())
    assert code == 200 and answer["outcome"] == "stored", answer
    async with tg.runtime.sessionmaker() as session:
        identity = await session.scalar(
            sa.select(ChannelIdentity).where(
                ChannelIdentity.channel == "telegram", ChannelIdentity.address == str(chat)
            )
        )
    assert identity is not None
    name = identity.display_name or ""
    assert len(name) <= 200 and not any(c in name for c in "\x00\r\n\u202e")
    assert identity.language_hint is None or len(identity.language_hint) <= 3
    assert [letter.reason for letter in await _letters(tg, f"{chat}:1")] == ["scrubbed"]


async def test_a_hostile_file_name_does_not_fail_the_update(tg: Telegram) -> None:
    chat = new_chat()
    document = {
        "file_id": "doc-hostile",
        "file_unique_id": "u-doc-hostile",
        "file_name": "inv\x00oice\ud800.pdf",
        "mime_type": "application/pdf",
        "file_size": 10,
    }
    update = private_message(chat, 1, document=document, caption="statement")
    code, answer = await _post_raw(tg, json.dumps(update).encode())
    assert code == 200, answer
    assert answer["outcome"] == "stored"
    [message] = await messages(tg, chat)
    async with tg.runtime.sessionmaker() as session:
        names = list(
            await session.scalars(
                sa.select(Attachment.filename).where(Attachment.message_id == message.id)
            )
        )
    assert names == ["invoice\ufffd.pdf"]
