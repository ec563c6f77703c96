"""Property: every update with the right secret gets 200 (Telegram re-posts anything
else for a day), and whatever was stored reads back."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from gateway.tickets.models import ChannelIdentity, Message
from tests.channels.telegram.conftest import SECRET, Telegram, new_chat, private_message
from tests.hostile import bounded, json_values, text_values

user_fields = st.fixed_dictionaries(
    {},
    optional={
        "first_name": text_values,
        "last_name": text_values,
        "username": text_values,
        "language_code": text_values,
    },
)
message_fields = st.fixed_dictionaries(
    {},
    optional={
        "text": text_values,
        "caption": text_values,
        "unknown": json_values,
        "entities": json_values,
        "document": st.fixed_dictionaries(
            {"file_id": text_values, "file_unique_id": text_values},
            optional={"file_name": text_values, "mime_type": text_values},
        ),
    },
)


@bounded
@given(user=user_fields, message=message_fields, extra=json_values)
async def test_every_update_gets_200_and_what_is_stored_reads_back(
    tg: Telegram, user: dict[str, Any], message: dict[str, Any], extra: Any
) -> None:
    chat = new_chat()
    update = private_message(chat, 1)
    update["message"]["from"].update(user)
    update["message"].update(message)
    update["unknown_kind"] = extra
    response = await tg.client.post(
        "/channels/telegram/webhook",
        content=json.dumps(update).encode(),
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    async with tg.runtime.sessionmaker() as session:
        stored = list(
            await session.scalars(
                sa.select(Message).where(
                    Message.channel == "telegram", Message.external_id == f"{chat}:1"
                )
            )
        )
        identities = list(
            await session.scalars(
                sa.select(ChannelIdentity).where(ChannelIdentity.address == str(chat))
            )
        )
    for row in [*stored, *identities]:
        json.dumps(row.model_dump(mode="json"), ensure_ascii=False).encode("utf-8")
    assert len(stored) <= 1
