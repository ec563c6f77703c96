"""CSAT on Telegram: the survey arrives with a 1-5 inline keyboard through the Bot API
double, and a tap (callback_query) on the webhook records the rating once."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa

from gateway.agents.models import Role
from gateway.csat.models import CsatSurvey
from gateway.outbox.worker import DeliveryWorker
from gateway.ports import Channel
from gateway.tickets.models import Message
from tests.channels.telegram.conftest import Telegram, _update_ids, new_chat, private_message
from tests.desk import client, make_agent


@pytest.fixture
async def delivering(tg: Telegram) -> AsyncIterator[DeliveryWorker]:
    tg.runtime.adapters[Channel.telegram] = tg.adapter
    worker = DeliveryWorker(tg.runtime, "tg-csat-worker")
    yield worker
    del tg.runtime.adapters[Channel.telegram]
    await worker.webhooks.close()


def tap(chat_id: int, message_id: int, data: str, *, user_id: int | None = None) -> dict[str, Any]:
    user = {"id": user_id or chat_id, "is_bot": False, "first_name": "Ana"}
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": f"cb-{chat_id}-{data}-{user_id}",
            "from": user,
            "message": {
                "message_id": message_id,
                "from": {"id": 4242, "is_bot": True, "first_name": "Parley"},
                "chat": {"id": chat_id, "first_name": "Ana", "type": "private"},
                "date": 1767225600,
                "text": "How satisfied are you?",
            },
            "chat_instance": "1",
            "data": data,
        },
    }


async def test_a_rating_tapped_on_the_inline_keyboard_is_stored_once(
    tg: Telegram, delivering: DeliveryWorker
) -> None:
    chat = new_chat()
    stored = await tg.post(
        private_message(chat, 1, language="ru", text="Продавец не отпустил USDT")
    )
    assert stored.status_code == 200, stored.text
    ref = stored.json()["ticket"]
    boss = await make_agent(tg.runtime, [], role=Role.supervisor)
    async with client(tg.app, boss) as http:
        resolved = await http.post(f"/api/v1/tickets/{ref}/status", json={"status": "resolved"})
        assert resolved.status_code == 200, resolved.text
    for _ in range(5):
        if await delivering.run_once() == 0:
            break

    [survey_call] = [
        c
        for c in tg.api.sent("sendMessage")
        if c.chat_id == str(chat) and "reply_markup" in c.params
    ]
    assert "Насколько вы довольны" in survey_call.params["text"], "in the customer's language"
    markup = survey_call.params["reply_markup"]
    markup = json.loads(markup) if isinstance(markup, str) else markup
    buttons = [row[0] for row in markup["inline_keyboard"]]
    assert [b["text"].split()[0] for b in buttons] == ["1", "2", "3", "4", "5"]
    four = buttons[3]["callback_data"]

    stranger = await tg.post(tap(chat, 99, four, user_id=new_chat()))
    assert stranger.status_code == 200
    first = await tg.post(tap(chat, 99, four))
    assert first.status_code == 200 and first.json()["outcome"] == "choice"
    again = await tg.post(tap(chat, 99, buttons[0]["callback_data"]))
    assert again.status_code == 200
    forged = await tg.post(tap(chat, 99, "csat:not-a-survey:5"))
    assert forged.status_code == 200

    async with tg.runtime.sessionmaker() as session:
        survey = (
            await session.execute(
                sa.select(CsatSurvey)
                .join(Message, Message.id == CsatSurvey.message_id)
                .where(Message.text == survey_call.params["text"])
            )
        ).scalar_one()
    assert (survey.rating, survey.channel, survey.language) == (4, "telegram", "ru")
    answers = [
        c.params.get("text")
        for c in tg.api.sent("answerCallbackQuery")
        if str(c.params.get("callback_query_id", "")).startswith(f"cb-{chat}-")
    ]
    assert "Спасибо за вашу оценку." in answers
    assert "Эта ссылка уже использована. Спасибо, ваш ответ сохранён." in answers
    assert answers.count("Эта ссылка недействительна.") == 1, "the stranger's tap"
    assert "This rating link is not valid." in answers, "the forged value"
    edits = [c for c in tg.api.sent("editMessageReplyMarkup") if c.chat_id == str(chat)]
    assert edits, "the keyboard is taken off after the rating"
