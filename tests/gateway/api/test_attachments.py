"""Files both ways: agents download what customers sent, and attach files to replies."""

from __future__ import annotations

import base64

import sqlalchemy as sa
from fastapi import FastAPI

from gateway.outbox.worker import DeliveryWorker
from gateway.ports import Channel, InboundAttachment, InboundMessage
from gateway.queues import repository as queues_repo
from gateway.runtime import Runtime
from gateway.tickets.models import Ticket
from tests.desk import client, make_agent
from tests.gateway.outbox.test_worker import RecordingChannel

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def ticket_with_screenshot(runtime: Runtime, queue: str, unique: str) -> str:
    async with runtime.sessionmaker.begin() as session:
        result = await runtime.ingest(
            session,
            InboundMessage(
                channel=Channel.webchat,
                external_id=f"shot-{unique}",
                sender=f"v-{unique}",
                text="here is the bank transfer",
                thread_key=f"v-{unique}",
                attachments=(InboundAttachment("transfer.png", "image/png", data=PNG),),
            ),
        )
        target = await queues_repo.ensure_queue(session, queue)
        await session.execute(
            sa.update(Ticket).where(Ticket.id == result.ticket_id).values(queue_id=target.id)
        )
    return result.ticket_ref


async def test_agent_downloads_a_customer_file_as_a_download(
    app: FastAPI, runtime: Runtime, unique: str
) -> None:
    queue = f"files-{unique}"
    ref = await ticket_with_screenshot(runtime, queue, unique)
    async with client(app, await make_agent(runtime, [queue])) as http:
        ticket = (await http.get(f"/api/v1/tickets/{ref}")).json()
        attachment = ticket["messages"][0]["attachments"][0]
        assert (attachment["filename"], attachment["size"], attachment["state"]) == (
            "transfer.png",
            len(PNG),
            "stored",
        )
        got = await http.get(f"/api/v1/tickets/{ref}/attachments/{attachment['id']}")
        assert got.status_code == 200 and got.content == PNG
        assert got.headers["content-disposition"].startswith("attachment;")
        assert got.headers["x-content-type-options"] == "nosniff"
        assert (
            await http.get(f"/api/v1/tickets/{ref}/attachments/{attachment['id'] + 10_000}")
        ).status_code == 404
    async with client(app, await make_agent(runtime, [f"elsewhere-{unique}"])) as http:
        assert (
            await http.get(f"/api/v1/tickets/{ref}/attachments/{attachment['id']}")
        ).status_code == 404


async def test_reply_files_reach_the_channel(app: FastAPI, runtime: Runtime, unique: str) -> None:
    queue = f"files-{unique}"
    ref = await ticket_with_screenshot(runtime, queue, unique)
    recorder = RecordingChannel()
    runtime.adapters[Channel.webchat] = recorder
    try:
        async with client(app, await make_agent(runtime, [queue])) as http:
            pdf = b"%PDF-1.4 receipt"
            sent = await http.post(
                f"/api/v1/tickets/{ref}/replies",
                json={
                    "text": "Our receipt is attached.",
                    "attachments": [
                        {
                            "filename": "../../etc/receipt.pdf",
                            "content_type": "application/pdf",
                            "content_base64": base64.b64encode(pdf).decode(),
                        }
                    ],
                },
            )
            assert sent.status_code == 201, sent.text
            await DeliveryWorker(runtime).run_once()
            ticket = (await http.get(f"/api/v1/tickets/{ref}")).json()
        outbound = ticket["messages"][1]
        assert [a["filename"] for a in outbound["attachments"]] == ["receipt.pdf"]
        delivered = next(m for m in recorder.sent if m.ticket_ref == ref)
        assert [(a.filename, a.content_type) for a in delivered.attachments] == [
            ("receipt.pdf", "application/pdf")
        ]
        assert await runtime.blobs.get(delivered.attachments[0].blob_key) == pdf
    finally:
        del runtime.adapters[Channel.webchat]


async def test_bad_reply_files_are_refused_and_nothing_written(
    app: FastAPI, runtime: Runtime, unique: str
) -> None:
    queue = f"files-{unique}"
    ref = await ticket_with_screenshot(runtime, queue, unique)
    limit = runtime.settings.outbox.max_attachment_bytes
    one = {"filename": "a.txt", "content_type": "text/plain", "content_base64": "aGk="}
    cases = [
        ({"content_base64": "not base64!"}, 422),
        ({"content_base64": "ä" * 8}, 422),
        ({"content_type": "text"}, 422),
        ({"content_base64": base64.b64encode(b"x" * (limit + 1)).decode()}, 413),
    ]
    async with client(app, await make_agent(runtime, [queue])) as http:
        for change, status in cases:
            response = await http.post(
                f"/api/v1/tickets/{ref}/replies",
                json={"text": "see file", "attachments": [one | change]},
            )
            assert response.status_code == status, (change.keys(), response.text)
        too_many = await http.post(
            f"/api/v1/tickets/{ref}/replies", json={"text": "x", "attachments": [one] * 6}
        )
        assert too_many.status_code == 422
        ticket = (await http.get(f"/api/v1/tickets/{ref}")).json()
    assert len(ticket["messages"]) == 1


async def test_oversized_body_is_413_before_it_is_read(app: FastAPI, runtime: Runtime) -> None:
    async with client(app, await make_agent(runtime, [])) as http:
        response = await http.post(
            "/api/v1/tickets/D-1/notes",
            content=b"{" + b" " * (runtime.settings.http.max_body_bytes + 1) + b"}",
            headers={"Content-Type": "application/json"},
        )
    assert (
        response.status_code == 413 and "GATEWAY_HTTP_MAX_BODY_BYTES" in response.json()["detail"]
    )
