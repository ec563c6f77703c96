"""The hand-built reply is the same mail as the `EmailMessage` one, and a delivery
batch shares one relay connection."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from channels.email.outbound import EmailAdapter, build_reply, reply_bytes
from gateway.blobs import BlobStore
from gateway.ports import DeliveryError, OutboundMessage
from gateway.settings import MailSettings, SmtpSettings
from tests.channels.email.test_parse import outbound

HEADERS = (
    "From",
    "To",
    "Reply-To",
    "Subject",
    "Message-ID",
    "In-Reply-To",
    "References",
    "X-Auto-Response-Suppress",
    "X-Parley-Ticket",
)
CASES = [
    {},
    {"thread_ids": ()},
    {
        "subject": "Оплата не пришла — заказ 42",
        "recipient_name": "Дмитрий «Дима» Петров",
        "text": "Здравствуйте!\n\nМы проверяем заказ.\r\nСпасибо.",  # noqa: RUF001
    },
    {"recipient_name": 'Eve "the" <hacker>, Jr.', "text": "." + "x" * 2000},
    {"html": "<p>Hello <script>alert(1)</script><b>there</b></p>", "text": "Hello there"},
    {"subject": "s" * 1200},
]


def parsed(data: bytes) -> EmailMessage:
    return BytesParser(policy=default_policy).parsebytes(data)  # type: ignore[return-value]


@pytest.mark.parametrize("over", CASES)
def test_hand_built_reply_matches_the_email_message_one(over: dict[str, Any]) -> None:
    mail = MailSettings(**{"from": "Désk Support <support@desk.test>"})
    message = outbound(**over)
    built = reply_bytes(message, mail)
    assert built is not None
    message_id, data = built
    fast, slow = parsed(data), parsed(build_reply(message, mail).as_bytes())
    assert message_id == slow["Message-ID"]
    for name in HEADERS:
        assert str(fast[name] or "").strip() == str(slow[name] or "").strip(), name
    assert [p.get_content_type() for p in fast.walk()] == [
        p.get_content_type() for p in slow.walk()
    ]
    for kind in ("plain", "html"):
        fast_body = fast.get_body((kind,)).get_content()  # type: ignore[union-attr]
        slow_body = slow.get_body((kind,)).get_content()  # type: ignore[union-attr]
        assert fast_body.replace("\r\n", "\n") == slow_body.replace("\r\n", "\n")
    assert all(len(line) <= 998 for line in data.split(b"\r\n"))


def test_cr_lf_cannot_inject_a_header_into_the_hand_built_reply() -> None:
    built = reply_bytes(
        outbound(
            subject="hi\r\nBcc: victim@evil.example",
            recipient_name="Eve\r\nBcc: victim@evil.example",
            thread_ids=("x@y.example>\r\nBcc: victim@evil.example",),
        ),
        MailSettings(),
    )
    assert built is not None
    head = built[1].split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in head and b"\nBcc:" not in head
    with pytest.raises(DeliveryError) as caught:
        reply_bytes(outbound(recipient="a@b.example\r\nBcc: victim@evil.example"), MailSettings())
    assert caught.value.retryable is False


class CountingSink:
    def __init__(self) -> None:
        self.connections = 0
        self.received: list[Envelope] = []

    async def handle_DATA(self, _server: Any, _session: Session, envelope: Envelope) -> str:
        self.received.append(envelope)
        return "250 OK"


@contextlib.asynccontextmanager
async def relay_sink(tmp_path: Any) -> AsyncIterator[tuple[CountingSink, EmailAdapter]]:
    """A loopback aiosmtpd sink that counts connections, and an adapter relaying to it."""
    loop = asyncio.get_running_loop()
    sink = CountingSink()

    def protocol() -> SMTP:
        sink.connections += 1
        return SMTP(sink, hostname="relay.test", loop=loop)

    server = await loop.create_server(protocol, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    adapter = EmailAdapter(
        SmtpSettings(relay_host="127.0.0.1", relay_port=port, relay_timeout=5),
        MailSettings(**{"from": "Desk <support@desk.test>"}),
        BlobStore(tmp_path),
    )
    try:
        yield sink, adapter
    finally:
        server.close()
        await server.wait_closed()


async def test_a_batch_of_replies_shares_one_relay_connection(tmp_path: Any) -> None:
    def reply(n: int) -> OutboundMessage:
        return outbound(outbox_id=n, idempotency_key=f"key-{n}", recipient=f"c{n}@customer.example")

    async with relay_sink(tmp_path) as (sink, adapter):
        async with adapter.batch():
            receipts = await asyncio.gather(*(adapter.deliver(reply(n)) for n in range(20)))
        assert sink.connections == 1
        assert sorted(r.provider_id or "" for r in receipts) == sorted(
            f"key-{n}@desk.test" for n in range(20)
        )
        assert sorted(e.rcpt_tos[0] for e in sink.received) == sorted(
            f"c{n}@customer.example" for n in range(20)
        )
        # Outside a batch each reply has its own connection, as before.
        await adapter.deliver(reply(99))
        assert sink.connections == 2


async def test_batches_side_by_side_each_keep_their_own_connection(tmp_path: Any) -> None:
    async with relay_sink(tmp_path) as (sink, adapter):

        async def batch(first: int) -> None:
            async with adapter.batch():
                await asyncio.gather(
                    *(
                        adapter.deliver(
                            outbound(
                                outbox_id=n,
                                idempotency_key=f"key-{n}",
                                recipient=f"c{n}@x.example",
                            )
                        )
                        for n in range(first, first + 10)
                    )
                )

        await asyncio.gather(batch(0), batch(10), batch(20))
        assert sink.connections == 3
        assert sorted(e.rcpt_tos[0] for e in sink.received) == sorted(
            f"c{n}@x.example" for n in range(30)
        )
