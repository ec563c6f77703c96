"""The Telegram desk through a real `gateway serve`: a customer's photo becomes a ticket,
the agent reads it over HTTP and answers with a document, the chat receives both, and
the customer's next message lands on the same ticket."""

from __future__ import annotations

import asyncio
import base64
import time
from pathlib import Path

import httpx
import pytest

from tests.channels.telegram.botapi import BotApiServer
from tests.channels.telegram.conftest import SECRET, TOKEN, new_chat, private_message
from tests.processes import free_port, gateway_env, gateway_process, run_cli

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
PDF = b"%PDF-1.4\n% refund confirmation\n"
pytestmark = pytest.mark.slow


async def poll(fetch: object, ok: object, seconds: float, what: str) -> object:
    deadline = time.monotonic() + seconds
    while True:
        value = await fetch()  # type: ignore[operator]
        if ok(value):  # type: ignore[operator]
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}: {value}")
        await asyncio.sleep(0.1)


async def test_photo_in_document_out_same_ticket(
    fresh_database_url: str, tmp_path: Path, unique: str
) -> None:
    database_url = fresh_database_url
    async with BotApiServer(TOKEN) as api:
        api.add_file(f"photo-{unique}", PNG)
        port = free_port()
        env = gateway_env(
            database_url,
            tmp_path,
            GATEWAY_TELEGRAM_TOKEN=TOKEN,
            GATEWAY_TELEGRAM_WEBHOOK_SECRET=SECRET,
            GATEWAY_TELEGRAM_API_BASE=api.base_url,
            GATEWAY_TELEGRAM_API_FILE_BASE=api.file_base_url,
            GATEWAY_OUTBOX_POLL_SECONDS="0.2",
        )
        queue = f"tg-{unique}"
        made = run_cli(
            ["agents", "create", "--name", f"tg-{unique}", "--queues", f"general,{queue}"],
            env,
            tmp_path,
        )
        token = made.stdout.strip().splitlines()[-1]
        chat = new_chat()
        photo = {
            "caption": "I paid, here is the bank screenshot",
            "photo": [
                {
                    "file_id": f"photo-{unique}",
                    "file_unique_id": f"u-{unique}",
                    "width": 90,
                    "height": 90,
                    "file_size": len(PNG),
                }
            ],
        }
        with gateway_process(env, tmp_path, port=port):
            base = f"http://127.0.0.1:{port}"
            async with httpx.AsyncClient(base_url=base, timeout=70) as http:
                hook = await http.post(
                    "/channels/telegram/webhook",
                    json=private_message(chat, 1, "ru", **photo),
                    headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
                )
                assert hook.status_code == 200
                http.headers["Authorization"] = f"Bearer {token}"
                claimed = await http.post("/api/v1/claim?wait=30")
                assert claimed.status_code == 200, claimed.text
                ref = claimed.json()["ref"]

                async def ticket() -> dict[str, object]:
                    return (await http.get(f"/api/v1/tickets/{ref}")).json()  # type: ignore[no-any-return]

                stored = await poll(
                    ticket,
                    lambda t: t["messages"][0]["attachments"][0]["state"] == "stored",
                    30,
                    "the photo",
                )
                first = stored["messages"][0]  # type: ignore[index]
                assert first["text"] == "I paid, here is the bank screenshot"
                attachment_id = first["attachments"][0]["id"]
                download = await http.get(f"/api/v1/tickets/{ref}/attachments/{attachment_id}")
                assert download.content == PNG

                sent = await http.post(
                    f"/api/v1/tickets/{ref}/replies",
                    json={
                        "text": "Refund confirmed, see the attached letter.",
                        "attachments": [
                            {
                                "filename": "refund.pdf",
                                "content_type": "application/pdf",
                                "content_base64": base64.b64encode(PDF).decode(),
                            }
                        ],
                    },
                )
                assert sent.status_code == 201

                def to_chat(method: str) -> list[object]:
                    return [c for c in api.sent(method) if c.chat_id == str(chat)]

                async def delivered() -> tuple[int, int]:
                    return len(to_chat("sendMessage")), len(to_chat("sendDocument"))

                await poll(delivered, lambda counts: counts == (1, 1), 30, "the reply in the chat")
                text_call = to_chat("sendMessage")[0]
                document_call = to_chat("sendDocument")[0]
                assert text_call.params["text"] == "Refund confirmed, see the attached letter."  # type: ignore[attr-defined]
                assert document_call.files["document"] == PDF  # type: ignore[attr-defined]

                follow_up = await http.post(
                    "/channels/telegram/webhook",
                    json=private_message(chat, 2, "ru", text="Спасибо, деньги пришли"),
                    headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
                )
                assert follow_up.status_code == 200
                # The Bot API has both calls; the worker records the send in its own
                # transaction just after, so wait for that record, not only the calls.
                final = await poll(
                    ticket,
                    lambda t: (
                        len(t["messages"]) == 3 and t["messages"][1]["delivery_state"] == "sent"
                    ),
                    30,
                    "the reply recorded as sent",
                )
                assert [m["direction"] for m in final["messages"]] == [
                    "inbound",
                    "outbound",
                    "inbound",
                ]  # type: ignore[index]
                assert final["messages"][1]["delivery_state"] == "sent"  # type: ignore[index]
