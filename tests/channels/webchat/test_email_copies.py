"""A visitor who left gets the agent's reply by email too, exactly once, and their
email answer lands on the same ticket; a visitor who saw it gets no email."""

from __future__ import annotations

import asyncio
import email
import email.policy
from datetime import timedelta

import sqlalchemy as sa
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi import FastAPI

from channels import webchat
from channels.email.outbound import EmailAdapter
from channels.email.service import EmailIntake
from channels.webchat import tokens
from channels.webchat.adapter import WebchatAdapter
from channels.webchat.service import WebchatService
from channels.webchat.sessions import Visitor
from gateway.app import create_app
from gateway.flows.seen import seen_key
from gateway.flows.unseen_webchat_replies import UnseenRepliesByEmail
from gateway.outbox.models import Outbox
from gateway.outbox.worker import DeliveryWorker
from gateway.ports import Channel, InboundMessage
from gateway.queues import repository as queues_repo
from gateway.runtime import Runtime
from gateway.settings import SmtpSettings
from gateway.tickets.models import Message, Ticket
from tests.desk import client, make_agent


class Relay:
    def __init__(self) -> None:
        self.received: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server: object, session: Session, envelope: Envelope) -> str:
        self.received.append(
            email.message_from_bytes(envelope.original_content or b"", policy=email.policy.default)  # type: ignore[arg-type]
        )
        return "250 OK"


async def visitor_ticket(
    runtime: Runtime, app: FastAPI, unique: str, *, with_email: bool = True
) -> tuple[str, int, str]:
    """A visitor's question answered by an agent; (ticket ref, reply id, agent token)."""
    visitor = f"visitor-{unique}"
    async with runtime.sessionmaker.begin() as session:
        result = await runtime.ingest(
            session,
            InboundMessage(
                channel=Channel.webchat,
                external_id=f"{visitor}:c1",
                sender=visitor,
                thread_key=visitor,
                text="Seller gone quiet, 150 USDT",
                contact_email=f"trader-{unique}@example.com" if with_email else None,
            ),
        )
        queue = await queues_repo.ensure_queue(session, f"chat-{unique}")
        await session.execute(
            sa.update(Ticket).where(Ticket.id == result.ticket_id).values(queue_id=queue.id)
        )
    token = await make_agent(runtime, [f"chat-{unique}"])
    async with client(app, token) as http:
        reply = await http.post(
            f"/api/v1/tickets/{result.ticket_ref}/replies", json={"text": "Released now."}
        )
        assert reply.status_code == 201
    return result.ticket_ref, int(reply.json()["id"]), token


def sweeper(runtime: Runtime) -> UnseenRepliesByEmail:
    copies = UnseenRepliesByEmail(runtime)
    copies.after = timedelta(0)  # the grace period has passed
    return copies


async def copies_of(runtime: Runtime, ref: str) -> list[Message]:
    async with runtime.sessionmaker() as session:
        rows = await session.execute(
            sa.select(Message)
            .where(Message.ticket_id == int(ref[2:]), Message.channel == "email")
            .order_by(Message.id)
        )
        return list(rows.scalars())


async def test_unseen_reply_is_mailed_once_and_the_answer_threads_back(
    app: FastAPI, runtime: Runtime, unique: str
) -> None:
    ref, _reply_id, token = await visitor_ticket(runtime, app, unique)
    copies = sweeper(runtime)
    assert await copies_of(runtime, ref) == [] and await copies.sweep() == 0  # not in the chat yet
    runtime.adapters[Channel.webchat] = WebchatAdapter(runtime)
    try:
        await DeliveryWorker(runtime).run_once()  # the reply reaches the chat; nobody is there
    finally:
        del runtime.adapters[Channel.webchat]
    assert await copies.sweep() >= 1
    await copies.sweep()  # and again, as another process would: still one copy
    mailed = await copies_of(runtime, ref)
    assert len(mailed) == 1 and mailed[0].text == "Released now."

    relay = Relay()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(relay, hostname="relay.test", loop=loop), "127.0.0.1", 0
    )
    port = server.sockets[0].getsockname()[1]
    runtime.adapters[Channel.email] = EmailAdapter(
        SmtpSettings(relay_host="127.0.0.1", relay_port=port, relay_timeout=5),
        runtime.settings.mail,
        runtime.blobs,
    )
    try:
        for _ in range(3):
            await DeliveryWorker(runtime).run_once()
    finally:
        del runtime.adapters[Channel.email]
        server.close()
        await server.wait_closed()
    sent = [m for m in relay.received if m["To"] == f"trader-{unique}@example.com"]
    assert len(sent) == 1 and f"[{ref}]" in sent[0]["Subject"]

    answer = email.message.EmailMessage()
    answer["From"] = f"trader-{unique}@example.com"
    answer["To"] = runtime.settings.mail.from_address
    answer["Subject"] = "Re: thanks"
    answer["Message-ID"] = f"<answer-{unique}@example.com>"
    answer["In-Reply-To"] = sent[0]["Message-ID"]
    answer.set_content("Got it, thank you!")
    outcome = await EmailIntake(runtime).receive(
        bytes(answer), envelope_from=f"trader-{unique}@example.com"
    )
    assert outcome.ticket_ref == ref
    async with client(app, token) as http:
        ticket = (await http.get(f"/api/v1/tickets/{ref}")).json()
    assert [(m["direction"], m["text"].strip()) for m in ticket["messages"]][-1] == (
        "inbound",
        "Got it, thank you!",
    )


async def test_a_reply_the_visitor_saw_or_without_email_is_not_mailed(
    app: FastAPI, runtime: Runtime, unique: str
) -> None:
    seen_ref, reply_id, _token = await visitor_ticket(runtime, app, f"{unique}a")
    # The visitor's widget showed the reply and said so (its seen frame; a history read
    # alone records nothing, since a GET never writes).
    chat = WebchatService(runtime).conversation
    identity = await chat.identity_id(f"visitor-{unique}a")
    assert [f.author for f in await chat.history(identity, 0)] == ["customer", "agent"]
    await chat.mark_seen(Visitor(visitor_id=f"visitor-{unique}a"), reply_id)
    no_mail_ref, _reply, _token = await visitor_ticket(runtime, app, f"{unique}b", with_email=False)
    runtime.adapters[Channel.webchat] = WebchatAdapter(runtime)
    try:
        await DeliveryWorker(runtime).run_once()
    finally:
        del runtime.adapters[Channel.webchat]
    await sweeper(runtime).sweep()
    assert await copies_of(runtime, seen_ref) == []
    assert await copies_of(runtime, no_mail_ref) == []
    async with runtime.sessionmaker() as session:
        outbox = await session.scalar(
            sa.select(sa.func.count())
            .select_from(Outbox)
            .where(Outbox.ticket_id == int(seen_ref[2:]), Outbox.channel == "email")
        )
    assert outbox == 0


async def test_reading_the_history_records_nothing_and_only_the_visitors_seen_counts(
    app: FastAPI, runtime: Runtime, unique: str
) -> None:
    _ref, reply_id, _token = await visitor_ticket(runtime, app, f"{unique}r")
    _other_ref, other_reply, _token = await visitor_ticket(runtime, app, f"{unique}o")
    service = WebchatService(runtime)
    identity = await service.conversation.identity_id(f"visitor-{unique}r")
    assert identity is not None
    token = tokens.sign(
        await service.sessions.key(), tokens.SESSION, {"v": f"visitor-{unique}r"}, ttl_seconds=600
    )

    async def marker() -> str | None:
        async with runtime.sessionmaker() as session:
            return await runtime.state.get(session, seen_key(identity))

    widget_side = create_app(runtime.settings, runtime, plugins=[webchat.install(runtime)])
    async with client(widget_side, token) as http:
        page = await http.get("/channels/webchat/messages")
        assert page.status_code == 200, page.text
        assert [item["author"] for item in page.json()["items"]] == ["customer", "agent"]
        assert await marker() is None  # a GET writes nothing
        refused = await http.post("/channels/webchat/seen", json={"message_id": other_reply})
        assert refused.status_code == 422, refused.text
        assert await marker() is None
        seen = await http.post("/channels/webchat/seen", json={"message_id": reply_id})
        assert seen.status_code == 204, seen.text
    assert await marker() == str(reply_id)
