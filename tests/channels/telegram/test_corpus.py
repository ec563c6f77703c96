"""Every Update in the shared corpus through the webhook: 200, and a message exactly for
those that carry a private message (skipped when the corpus is absent)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from gateway.tickets.models import Message
from tests.channels.telegram.conftest import Telegram

CORPUS = Path(__file__).resolve().parents[4] / "shared" / "corpus" / "telegram"
if not CORPUS.is_dir():
    CORPUS = Path("/work/shared/corpus/telegram")
# What a customer can send us: text, a caption, a file, or content we show as text.
CONTENT = {
    "text",
    "caption",
    "photo",
    "document",
    "voice",
    "video",
    "audio",
    "animation",
    "video_note",
    "sticker",
    "location",
    "venue",
    "contact",
    "poll",
    "dice",
}


def carried_message(update: dict[str, Any]) -> str | None:
    """The external id of the private customer message this update carries, if any."""
    for kind in ("message", "edited_message"):
        message = update.get(kind)
        if isinstance(message, dict):
            sender = message.get("from") or {}
            private = message.get("chat", {}).get("type") == "private"
            has_content = any(message.get(key) for key in CONTENT)
            if private and has_content and sender and not sender.get("is_bot"):
                return f"{message['chat']['id']}:{message['message_id']}"
            return None
    return None


async def telegram_ids(tg: Telegram) -> set[str]:
    async with tg.runtime.sessionmaker() as session:
        rows = await session.scalars(
            sa.select(Message.external_id).where(
                Message.channel == "telegram", Message.direction == "inbound"
            )
        )
        return {r for r in rows if r is not None}


async def test_every_corpus_update_is_acknowledged_and_private_messages_stored(
    tg: Telegram,
) -> None:
    files = sorted(CORPUS.glob("*/*.json"))
    if not files:
        pytest.skip(f"no Telegram corpus at {CORPUS}")
    expected: set[str] = set()
    before = await telegram_ids(tg)
    for path in files:
        update = json.loads(path.read_text())
        response = await tg.post(update)
        assert response.status_code == 200, (path.name, response.text)
        carried = carried_message(update)
        if carried:
            expected.add(carried)
    stored = await telegram_ids(tg) - before
    assert stored == expected - before
    # Many samples share ids (12345:123456); still, a real spread of them got through.
    assert len(expected) >= 9
