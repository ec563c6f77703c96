"""Mail identity cannot be forged by headers: through the real SMTP listener.

The sender is the addr-spec of the raw From header; Message-IDs and ticket references
are not secrets, so neither dedupe nor threading may put one person's mail into another
person's ticket, and an SMTP reply never names another customer's ticket.
"""

from __future__ import annotations

import base64

import sqlalchemy as sa

from gateway.runtime import Runtime
from gateway.tickets.models import ChannelIdentity, Customer, Message, Ticket
from tests.channels.email.conftest import DESK, mail, smtp_send


def _encoded(text: str) -> str:
    return f"=?utf-8?b?{base64.b64encode(text.encode()).decode()}?="


def _raw(from_header: str, subject: str, text: str, **headers: str) -> bytes:
    lines = [f"From: {from_header}", f"To: {DESK}", f"Subject: {subject}"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + f"\r\n\r\n{text}\r\n").encode()


def _ref(reply: str) -> str:
    ref = reply.rsplit(" ", 1)[-1]
    assert ref.startswith("D-"), reply
    return ref


async def _ticket_messages(runtime: Runtime, ref: str) -> list[str]:
    async with runtime.sessionmaker() as session:
        rows = await session.execute(
            sa.select(Message.text).where(Message.ticket_id == int(ref[2:])).order_by(Message.id)
        )
        return [text.strip() for text in rows.scalars()]


async def _sender_of(runtime: Runtime, ref: str) -> tuple[str, str | None, str | None]:
    """(identity address, identity display name, customer email) of a ticket."""
    async with runtime.sessionmaker() as session:
        ticket = await session.get_one(Ticket, int(ref[2:]))
        identity = await session.get_one(ChannelIdentity, ticket.identity_id)
        customer = await session.get_one(Customer, ticket.customer_id)
    return identity.address, identity.display_name, customer.email


async def test_an_encoded_display_name_cannot_borrow_a_customers_address(
    smtp_port: int, email_runtime: Runtime, unique: str
) -> None:
    carol = f"carol-{unique}@example.org"
    code, first = await smtp_send(
        smtp_port, mail(carol, "USDT held", "order 1 not released"), carol
    )
    ref = _ref(first)
    # The display name decodes to "carol@…, ": a parser that decodes first sees Carol.
    mallory = f"mallory-{unique}@evil.test"
    spoof = _raw(f"{_encoded(carol + ', ')} <{mallory}>", f"Re: USDT held [{ref}]", "pay me")
    code, reply = await smtp_send(smtp_port, spoof, mallory)
    assert code == 250
    assert _ref(reply) != ref
    assert await _ticket_messages(email_runtime, ref) == ["order 1 not released"]
    address, name, email = await _sender_of(email_runtime, _ref(reply))
    assert (address, email) == (mallory, mallory)
    assert name is None  # a name holding an address is no name


async def test_a_display_name_with_crlf_is_one_line_of_text_and_no_header(
    smtp_port: int, email_runtime: Runtime, unique: str
) -> None:
    mallory = f"mallory-{unique}@evil.test"
    victim = f"victim-{unique}@evil.test"
    name = "Evil\r\nBcc: " + victim
    header = f"{_encoded(name)} <{mallory}>"
    code, reply = await smtp_send(smtp_port, _raw(header, "hello", "my order"), mallory)
    assert code == 250
    address, stored_name, email = await _sender_of(email_runtime, _ref(reply))
    assert (address, email) == (mallory, mallory)
    # Display text only: one line, no address in it (so never a reply address).
    assert stored_name is None or not any(c in stored_name for c in "\r\n@")


async def test_a_strangers_mail_reusing_a_message_id_is_stored_as_its_own(
    smtp_port: int, email_runtime: Runtime, unique: str
) -> None:
    carol = f"carol-{unique}@example.org"
    mid = f"<m-{unique}@example.org>"
    code, first = await smtp_send(
        smtp_port, mail(carol, "held", "carol's words", message_id=mid), carol
    )
    ref = _ref(first)
    mallory = f"mallory-{unique}@evil.test"
    stranger = mail(mallory, "hi", "mallory's words", message_id=mid)
    code, reply = await smtp_send(smtp_port, stranger, mallory)
    assert code == 250 and ref not in reply
    other = _ref(reply)
    assert await _ticket_messages(email_runtime, other) == ["mallory's words"]
    assert (await _sender_of(email_runtime, other))[0] == mallory

    # Resends are still stored once each, in their own sender's ticket.
    code, again = await smtp_send(smtp_port, stranger, mallory)
    assert code == 250 and _ref(again) == other
    code, carol_again = await smtp_send(smtp_port, mail(carol, "held", "x", message_id=mid), carol)
    assert _ref(carol_again) == ref
    assert await _ticket_messages(email_runtime, ref) == ["carol's words"]
    assert await _ticket_messages(email_runtime, other) == ["mallory's words"]


async def test_reply_headers_thread_only_into_the_senders_own_ticket(
    smtp_port: int, email_runtime: Runtime, unique: str
) -> None:
    carol = f"carol-{unique}@example.org"
    mid = f"<t-{unique}@example.org>"
    code, first = await smtp_send(smtp_port, mail(carol, "held", "first", message_id=mid), carol)
    ref = _ref(first)
    mallory = f"mallory-{unique}@evil.test"
    for header in ("In_Reply_To", "References"):
        code, reply = await smtp_send(
            smtp_port, mail(mallory, "Re: held", f"via {header}", **{header: mid}), mallory
        )
        assert code == 250 and ref not in reply
    code, reply = await smtp_send(
        smtp_port, mail(mallory, "hi", "via plus", to=f"support+{ref}@desk.test"), mallory
    )
    assert ref not in reply
    assert await _ticket_messages(email_runtime, ref) == ["first"]
    # Carol's own answer still threads by In-Reply-To alone.
    code, own = await smtp_send(
        smtp_port, mail(carol, "new subject", "second", In_Reply_To=mid), carol
    )
    assert _ref(own) == ref
    assert await _ticket_messages(email_runtime, ref) == ["first", "second"]
