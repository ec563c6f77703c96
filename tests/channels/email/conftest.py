"""Email test parts on loopback: the gateway's SMTP listener on the test's event loop, an
aiosmtpd sink standing in for the outbound relay, and smtplib as the sending client."""

from __future__ import annotations

import asyncio
import re
import smtplib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from channels.email.service import EmailIntake
from channels.email.smtp import SmtpListener
from gateway.runtime import Runtime
from gateway.settings import Settings
from tests.conftest import make_settings

DATA = Path(__file__).parent / "data"
DESK = "support@desk.test"


@pytest.fixture(scope="session")
def email_settings(database_url: str, tmp_root: Path) -> Settings:
    return make_settings(database_url, tmp_root, mail={"from": DESK})


@pytest.fixture(scope="session")
async def email_runtime(email_settings: Settings) -> AsyncIterator[Runtime]:
    runtime = Runtime.from_settings(email_settings)
    yield runtime
    await runtime.close()


@pytest.fixture(scope="session")
def intake(email_runtime: Runtime) -> EmailIntake:
    return EmailIntake(email_runtime)


async def start_listener(
    intake: EmailIntake, max_message_bytes: int = 25 * 1024 * 1024
) -> tuple[SmtpListener, asyncio.Event, asyncio.Task[None]]:
    listener = SmtpListener(intake, host="127.0.0.1", port=0, max_message_bytes=max_message_bytes)
    stop = asyncio.Event()
    task = asyncio.create_task(listener.run(stop))
    await asyncio.wait_for(listener.started.wait(), 10)
    return listener, stop, task


@pytest.fixture(scope="session")
async def smtp_port(intake: EmailIntake) -> AsyncIterator[int]:
    """The gateway's SMTP listener, serving on the test loop for the whole session."""
    listener, stop, task = await start_listener(intake)
    assert listener.bound_port is not None
    yield listener.bound_port
    stop.set()
    await task


def _send_blocking(port: int, raw: bytes, mail_from: str, rcpt: list[str]) -> tuple[int, str]:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo("client.test")
        code, text = client.mail(mail_from)
        if code != 250:
            return code, text.decode()
        for to in rcpt:
            client.rcpt(to)
        code, text = client.data(raw)
        return code, text.decode()


async def smtp_send(
    port: int, raw: bytes | EmailMessage, mail_from: str = "", rcpt: list[str] | None = None
) -> tuple[int, str]:
    """Send one mail with the stdlib SMTP client (in a thread: the server is on this loop).
    Returns the DATA reply: (code, text)."""
    data = raw.as_bytes() if isinstance(raw, EmailMessage) else raw
    # What a sending MTA puts on the wire: CRLF line ends (smtplib leaves bytes as is).
    data = re.sub(rb"\r?\n", b"\r\n", data)
    return await asyncio.to_thread(_send_blocking, port, data, mail_from, rcpt or [DESK])


def mail(
    sender: str,
    subject: str,
    text: str,
    *,
    message_id: str | None = None,
    to: str = DESK,
    **headers: str,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    if message_id:
        msg["Message-ID"] = message_id
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(text)
    return msg


@dataclass
class Sink:
    """A relay on loopback that keeps what it receives and answers `reply`."""

    port: int = 0
    received: list[Envelope] = field(default_factory=list)
    reply: str = "250 OK"
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        if self.reply.startswith("250"):
            self.received.append(envelope)
            self.arrived.set()
        return self.reply


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    loop = asyncio.get_running_loop()
    handler = Sink()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="relay.test", loop=loop), "127.0.0.1", 0
    )
    handler.port = server.sockets[0].getsockname()[1]
    yield handler
    server.close()
    await server.wait_closed()
