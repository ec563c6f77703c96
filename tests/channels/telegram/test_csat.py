"""CSAT on Telegram: the survey arrives with a 1-5 inline keyboard through the Bot API
double, a tap (callback_query) on the webhook or over long polling records the rating
once, and the bot then asks for the optional comment, which the next text answers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import channels.telegram
from channels.telegram.polling import TelegramPoller
from gateway.agents.models import Role
from gateway.clock import ManualClock
from gateway.csat.models import CsatSurvey
from gateway.outbox.worker import DeliveryWorker
from gateway.ports import Channel
from gateway.runtime import Runtime
from gateway.tickets.models import Message, Ticket, TicketStatus, parse_ticket_ref
from tests.channels.telegram.botapi import Call
from tests.channels.telegram.conftest import (
    Telegram,
    _update_ids,
    new_chat,
    private_message,
    telegram_settings,
)
from tests.conftest import make_settings
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


def _buttons(call: Call) -> list[dict[str, str]]:
    markup = call.params["reply_markup"]
    markup = json.loads(markup) if isinstance(markup, str) else markup
    return [row[0] for row in markup["inline_keyboard"]]


async def _deliver(worker: DeliveryWorker) -> None:
    for _ in range(5):
        if await worker.run_once() == 0:
            break


async def _surveyed(tg: Telegram, worker: DeliveryWorker, chat: int) -> tuple[str, Call]:
    """A new ticket from `chat`, resolved, its survey delivered: (ref, the survey's call)."""
    stored = await tg.post(private_message(chat, 1, text="The seller never released my USDT"))
    assert stored.status_code == 200, stored.text
    ref = stored.json()["ticket"]
    boss = await make_agent(tg.runtime, [], role=Role.supervisor)
    async with client(tg.app, boss) as http:
        resolved = await http.post(f"/api/v1/tickets/{ref}/status", json={"status": "resolved"})
        assert resolved.status_code == 200, resolved.text
    await _deliver(worker)
    [survey_call] = [
        c
        for c in tg.api.sent("sendMessage")
        if c.chat_id == str(chat) and "reply_markup" in c.params
    ]
    return ref, survey_call


def _to(tg: Telegram, chat: int) -> list[str]:
    """The texts the bot sent to `chat`, in order."""
    return [c.params["text"] for c in tg.api.sent("sendMessage") if c.chat_id == str(chat)]


async def _state(tg: Telegram, ref: str) -> tuple[CsatSurvey, Ticket, list[str]]:
    """The ticket's survey, the ticket, and the texts of its inbound messages."""
    async with tg.runtime.sessionmaker() as session:
        ticket_id = parse_ticket_ref(ref)
        ticket = await session.get_one(Ticket, ticket_id)
        survey = (
            await session.execute(sa.select(CsatSurvey).where(CsatSurvey.ticket_id == ticket.id))
        ).scalar_one()
        inbound = await session.scalars(
            sa.select(Message.text)
            .where(Message.ticket_id == ticket.id, Message.direction == "inbound")
            .order_by(Message.id)
        )
        return survey, ticket, list(inbound)


async def test_after_a_rating_the_next_text_is_the_comment_not_a_ticket_message(
    tg: Telegram, delivering: DeliveryWorker
) -> None:
    chat = new_chat()
    ref, survey_call = await _surveyed(tg, delivering, chat)
    three = _buttons(survey_call)[2]["callback_data"]
    assert (await tg.post(tap(chat, 99, three))).json()["outcome"] == "choice"
    await _deliver(delivering)

    # The bot asks for the comment in a message of its own, with one Skip button.
    prompt = [
        c
        for c in tg.api.sent("sendMessage")
        if c.chat_id == str(chat) and "reply_markup" in c.params and c is not survey_call
    ]
    assert len(prompt) == 1
    assert prompt[0].params["text"].startswith("Anything you would like to add?")
    assert [b["text"] for b in _buttons(prompt[0])] == ["Skip"]

    comment = private_message(chat, 2, text="The agent was quick, but the seller was not.")
    first = await tg.post(comment)
    assert first.status_code == 200 and first.json()["outcome"] == "comment"
    # Telegram re-posts an update it got no 200 for: the same comment is no new message.
    again = await tg.post(comment)
    assert again.status_code == 200 and again.json()["outcome"] == "comment"
    await _deliver(delivering)

    survey, ticket, inbound = await _state(tg, ref)
    assert (survey.rating, survey.comment) == (3, "The agent was quick, but the seller was not.")
    assert ticket.status == TicketStatus.resolved, "a comment does not reopen the ticket"
    assert inbound == ["The seller never released my USDT"]
    assert _to(tg, chat)[-1] == "Thank you, your comment is on record."

    # The window closes with the comment: the next text is an ordinary message again.
    later = await tg.post(private_message(chat, 3, text="One more thing about order 9912"))
    assert later.json()["outcome"] == "stored"
    survey, ticket, inbound = await _state(tg, ref)
    assert inbound[-1] == "One more thing about order 9912"
    assert survey.comment == "The agent was quick, but the seller was not."


async def test_skip_closes_the_comment_window(tg: Telegram, delivering: DeliveryWorker) -> None:
    chat = new_chat()
    ref, survey_call = await _surveyed(tg, delivering, chat)
    await tg.post(tap(chat, 99, _buttons(survey_call)[4]["callback_data"]))
    await _deliver(delivering)
    [prompt] = [
        c
        for c in tg.api.sent("sendMessage")
        if c.chat_id == str(chat) and "reply_markup" in c.params and c is not survey_call
    ]
    skip = _buttons(prompt)[0]["callback_data"]
    stranger = await tg.post(tap(chat, 100, skip, user_id=new_chat()))
    assert stranger.status_code == 200
    survey, _, _ = await _state(tg, ref)
    assert survey.comment_until is not None and survey.comment_until > tg.runtime.clock.now()

    assert (await tg.post(tap(chat, 100, skip))).json()["outcome"] == "choice"
    after = await tg.post(private_message(chat, 2, text="I still have a question"))
    assert after.json()["outcome"] == "stored"
    survey, _, inbound = await _state(tg, ref)
    assert (survey.rating, survey.comment) == (5, None)
    assert inbound[-1] == "I still have a question"


async def test_the_window_ends_and_files_or_commands_are_never_the_comment(
    tg: Telegram, delivering: DeliveryWorker
) -> None:
    chat = new_chat()
    ref, survey_call = await _surveyed(tg, delivering, chat)
    await tg.post(tap(chat, 99, _buttons(survey_call)[0]["callback_data"]))

    sticker = {
        "sticker": {
            "file_id": "st",
            "file_unique_id": "st",
            "width": 1,
            "height": 1,
            "is_animated": False,
            "is_video": False,
            "type": "regular",
            "emoji": "😡",
        }
    }
    assert (await tg.post(private_message(chat, 2, **sticker))).json()["outcome"] == "stored"
    assert (await tg.post(private_message(chat, 3, text="/start"))).json()["outcome"] == "stored"
    survey, _, _ = await _state(tg, ref)
    assert survey.comment is None and survey.comment_until is not None

    clock = ManualClock(tg.runtime.clock.now())
    saved, tg.runtime.clock = tg.runtime.clock, clock
    try:
        clock.advance(timedelta(seconds=tg.settings.csat.comment_window_seconds + 1))
        late = await tg.post(private_message(chat, 4, text="Too slow, this is a message"))
    finally:
        tg.runtime.clock = saved
    assert late.json()["outcome"] == "stored"
    survey, _, inbound = await _state(tg, ref)
    assert (survey.rating, survey.comment) == (1, None)
    assert inbound[-1] == "Too slow, this is a message"


async def test_a_rating_and_its_comment_arrive_over_long_polling(
    database_url: str, tmp_root: Path, tg: Telegram, delivering: DeliveryWorker
) -> None:
    """getUpdates through the real python-telegram-bot client: the tap and the comment
    are handled like the webhook's, and the tap is answered after commit."""
    chat = new_chat()
    ref, survey_call = await _surveyed(tg, delivering, chat)
    four = _buttons(survey_call)[3]["callback_data"]

    settings = make_settings(
        database_url, tmp_root, telegram=telegram_settings(tg.api, mode="polling")
    )
    runtime = Runtime.from_settings(settings)
    plugin = channels.telegram.install(runtime)
    [poller] = [s for s in plugin.services if isinstance(s, TelegramPoller)]
    tg.api.updates[:] = [tap(chat, 99, four)]
    stop = asyncio.Event()
    task = asyncio.create_task(poller.run(stop))

    async def until(check: Any) -> None:
        # A bound, not a timing claim: a loaded machine may take many long-poll rounds.
        for _ in range(1200):
            if await check():
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the poller did not get there")

    async def rated() -> bool:
        return (await _state(tg, ref))[0].rating == 4

    async def answered() -> bool:
        return any(
            c.params.get("callback_query_id") == f"cb-{chat}-{four}-None"
            for c in tg.api.sent("answerCallbackQuery")
        )

    async def commented() -> bool:
        return (await _state(tg, ref))[0].comment is not None

    async def edited() -> bool:
        return any(c.chat_id == str(chat) for c in tg.api.sent("editMessageReplyMarkup"))

    try:
        await until(rated)
        await until(answered)
        [answer] = [
            c
            for c in tg.api.sent("answerCallbackQuery")
            if c.params.get("callback_query_id") == f"cb-{chat}-{four}-None"
        ]
        assert answer.params["text"] == "Thank you for your rating."
        # The buttons are removed right after the answer, in a call of their own.
        await until(edited)
        await _deliver(delivering)
        assert _to(tg, chat)[-1].startswith("Anything you would like to add?")

        tg.api.updates[:] = [private_message(chat, 2, text="Polled comment: all good")]
        await until(commented)
    finally:
        stop.set()
        await task
        tg.api.updates.clear()
        await plugin.adapter.close()  # type: ignore[union-attr]
        await runtime.close()
    survey, ticket, inbound = await _state(tg, ref)
    assert (survey.rating, survey.comment) == (4, "Polled comment: all good")
    assert ticket.status == TicketStatus.resolved
    assert inbound == ["The seller never released my USDT"]
    await _deliver(delivering)
    assert _to(tg, chat)[-1] == "Thank you, your comment is on record."
