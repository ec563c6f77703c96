"""Replies out through a relay on loopback, and the customer's answer threading back."""

from __future__ import annotations

import asyncio
import uuid
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy

import pytest
import sqlalchemy as sa

from channels.email.ids import external_id_for_reply
from channels.email.outbound import EmailAdapter
from gateway.outbox.models import Outbox
from gateway.ports import Channel, DeliveryError, OutboundMessage
from gateway.runtime import Runtime
from gateway.settings import SmtpSettings
from gateway.tickets.models import (
    ActorType,
    DeliveryState,
    Direction,
    Message,
    Ticket,
    parse_ticket_ref,
)
from tests.channels.email.conftest import DESK, Sink, mail, smtp_send


def adapter(runtime: Runtime, port: int) -> EmailAdapter:
    smtp = SmtpSettings(relay_host="127.0.0.1", relay_port=port, relay_timeout=5)
    return EmailAdapter(smtp, runtime.settings.mail, runtime.blobs)


async def agent_reply(runtime: Runtime, ticket_ref: str, text: str) -> tuple[Message, Outbox]:
    """What the agent API writes for a reply: a message row and its outbox row."""
    ticket_id = parse_ticket_ref(ticket_ref)
    async with runtime.sessionmaker.begin() as session:
        key = uuid.uuid4().hex
        message = Message(
            ticket_id=ticket_id,  # type: ignore[arg-type]
            channel="email",
            external_id=external_id_for_reply(key),
            direction=Direction.outbound,
            author_type=ActorType.agent,
            text=text,
            delivery_state=DeliveryState.pending,
        )
        session.add(message)
        await session.flush()
        row = Outbox(message_id=message.id, ticket_id=ticket_id, channel="email")  # type: ignore[arg-type]
        session.add(row)
    return message, row


async def thread_ids(runtime: Runtime, ticket_ref: str) -> tuple[str, ...]:
    async with runtime.sessionmaker() as session:
        result = await session.execute(
            sa.select(Message.external_id)
            .where(Message.ticket_id == parse_ticket_ref(ticket_ref), Message.channel == "email")
            .order_by(Message.id)
        )
        return tuple(eid for eid in result.scalars() if eid)


async def test_reply_reaches_the_customer_and_their_answer_threads_back(
    smtp_port: int, email_runtime: Runtime, sink: Sink, unique: str
) -> None:
    customer = f"cust-{unique}@customer.example"
    code, text = await smtp_send(
        smtp_port,
        mail(customer, "Payment not received", "Buyer says paid", message_id=f"<q-{unique}@c>"),
        customer,
    )
    ref = text.rsplit(" ", 1)[-1]
    message, row = await agent_reply(email_runtime, ref, "Please send the bank statement.")
    out = OutboundMessage(
        outbox_id=row.id,  # type: ignore[arg-type]
        message_id=message.id,  # type: ignore[arg-type]
        ticket_ref=ref,
        channel=Channel.email,
        recipient=customer,
        text=message.text,
        idempotency_key=message.external_id,  # type: ignore[arg-type]
        subject="Payment not received",
        thread_ids=await thread_ids(email_runtime, ref),
    )
    receipt = await adapter(email_runtime, sink.port).deliver(out)
    await asyncio.wait_for(sink.arrived.wait(), 10)
    [envelope] = sink.received
    assert envelope.rcpt_tos == [customer]
    sent = BytesParser(policy=default_policy).parsebytes(envelope.original_content or b"")
    assert sent["Message-ID"] == f"<{message.external_id}@desk.test>"
    assert receipt.provider_id == f"{message.external_id}@desk.test"
    assert sent["In-Reply-To"] == f"<q-{unique}@c>"
    assert sent["Subject"] == f"Re: Payment not received [{ref}]"
    assert sent["Reply-To"] == f"support+{ref}@desk.test"
    assert sent.get_body(("plain",)).get_content().strip() == "Please send the bank statement."  # type: ignore[union-attr]
    assert sent.get_body(("html",)) is not None

    # A crash after sending: the resend carries the same Message-ID.
    sink.arrived.clear()
    await adapter(email_runtime, sink.port).deliver(out)
    await asyncio.wait_for(sink.arrived.wait(), 10)
    resent = BytesParser(policy=default_policy).parsebytes(sink.received[1].original_content or b"")
    assert resent["Message-ID"] == sent["Message-ID"]

    # The customer answers from a client that keeps only In-Reply-To, new subject, no token.
    answer = EmailMessage()
    answer["From"] = customer
    answer["To"] = DESK
    answer["Subject"] = "statement"
    answer["Message-ID"] = f"<a-{unique}@c>"
    answer["In-Reply-To"] = sent["Message-ID"]
    answer.set_content(f"Here it is.\n\nOn Mon, Desk <{DESK}> wrote:\n> Please send it")
    code, text = await smtp_send(smtp_port, answer, customer)
    assert code == 250 and text.endswith(ref)
    async with email_runtime.sessionmaker() as session:
        stored = (
            await session.execute(sa.select(Message).where(Message.external_id == f"a-{unique}@c"))
        ).scalar_one()
    assert stored.text == "Here it is."

    # The relay's bounce of our reply: the reply fails, the ticket is flagged, no new ticket.
    dsn = bounce_of(sent, customer)
    code, text = await smtp_send(smtp_port, dsn, "")
    assert code == 250 and "bounce" in text
    async with email_runtime.sessionmaker() as session:
        failed = await session.get_one(Message, message.id)
        outbox = await session.get_one(Outbox, row.id)
        ticket = await session.get_one(Ticket, parse_ticket_ref(ref))
    assert failed.delivery_state == DeliveryState.failed
    assert outbox.state == "failed"
    assert ticket.needs_attention and "bounced" in (ticket.attention_reason or "")


def bounce_of(original: EmailMessage, recipient: str) -> bytes:
    """A standard DSN (RFC 3464) as Postfix sends it for `original`."""
    headers = "".join(f"{k}: {v}\r\n" for k, v in original.items() if k != "Content-Type")
    return (
        "From: MAILER-DAEMON@mx.customer.example (Mail Delivery System)\r\n"
        f"To: {DESK}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\n"
        "I'm sorry to have to inform you that your message could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.customer.example\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"{headers}--B--\r\n"
    ).encode()


@pytest.mark.parametrize(
    ("reply", "retryable"),
    [("451 4.7.1 try later", True), ("550 5.1.1 no such user", False)],
)
async def test_relay_4xx_retries_and_5xx_does_not(
    email_runtime: Runtime, sink: Sink, reply: str, retryable: bool
) -> None:
    sink.reply = reply
    out = OutboundMessage(
        outbox_id=1,
        message_id=1,
        ticket_ref="D-1",
        channel=Channel.email,
        recipient="x@customer.example",
        text="hi",
        idempotency_key="k",
    )
    with pytest.raises(DeliveryError) as caught:
        await adapter(email_runtime, sink.port).deliver(out)
    assert caught.value.retryable is retryable
    assert sink.received == []


async def test_unreachable_relay_retries(email_runtime: Runtime) -> None:
    out = OutboundMessage(1, 1, "D-1", Channel.email, "x@customer.example", "hi", "k")
    with pytest.raises(DeliveryError) as caught:
        await adapter(email_runtime, 1).deliver(out)
    assert caught.value.retryable is True
