"""Property: any mail through the real SMTP listener is answered 250 once stored (as a
message or a dead letter, never a 451 for our own failure) and reads back."""

from __future__ import annotations

import base64
import json
import uuid

import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from gateway.runtime import Runtime
from gateway.tickets.models import ChannelIdentity, DeadLetter, Message, Ticket
from tests.channels.email.conftest import DESK, smtp_send
from tests.hostile import bounded, hostile_text, text_values


def _encoded_name(value: str) -> str:
    """A display name as an RFC 2047 encoded word before a real address."""
    encoded = base64.b64encode(value.encode("utf-8", "surrogatepass")).decode()
    return f"=?utf-8?b?{encoded}?= <x@evil.test>"


header_values = st.one_of(
    text_values,
    hostile_text.map(_encoded_name),
    st.sampled_from(["", "<>", "<@>", "a@", "@", "x@y@z", "<a@b>, <c@d>", "=?x?q?=00?="]),
)


def _bytes(value: str) -> bytes:
    return value.encode("utf-8", "surrogatepass")


@bounded
@given(
    sender=header_values,
    subject=header_values,
    reply_to=header_values,
    body=st.one_of(text_values.map(_bytes), st.binary(max_size=2000)),
)
async def test_any_mail_is_stored_or_set_aside_and_reads_back(
    smtp_port: int,
    email_runtime: Runtime,
    sender: str,
    subject: str,
    reply_to: str,
    body: bytes,
) -> None:
    mid = f"p-{uuid.uuid4().hex}@prop.test"
    # Message-ID first: a hostile value may hold CR/LF and end the header block early,
    # and the property is about that mail, found by its id.
    raw = b"\r\n".join(
        [
            b"Message-ID: <" + mid.encode() + b">",
            b"From: " + _bytes(sender),
            b"To: " + DESK.encode(),
            b"Subject: " + _bytes(subject),
            b"In-Reply-To: " + _bytes(reply_to),
            b"",
            body,
        ]
    )
    code, text = await smtp_send(smtp_port, raw, f"env-{uuid.uuid4().hex[:8]}@prop.test")
    assert code == 250, text
    async with email_runtime.sessionmaker() as session:
        messages = list(
            await session.scalars(
                sa.select(Message).where(Message.external_id.like(f"%{mid[2:12]}%"))
            )
        )
        letters = list(
            await session.scalars(
                sa.select(DeadLetter).where(DeadLetter.external_id.like(f"%{mid[2:12]}%"))
            )
        )
        rows: list[object] = [*messages, *letters]
        for message in messages:
            ticket = await session.get_one(Ticket, message.ticket_id)
            rows += [ticket, await session.get_one(ChannelIdentity, ticket.identity_id)]
    assert len(messages) + len(letters) == 1
    for row in rows:
        json.dumps(row.model_dump(mode="json"), ensure_ascii=False).encode("utf-8")  # type: ignore[attr-defined]
