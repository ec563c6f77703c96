"""Chaos through real processes: mail, Telegram and web chat messages arrive, each one
re-sent 1-3 times, while `gateway serve` is killed with SIGKILL and restarted every ~2 s.

The senders behave like the real ones: an MTA retries until it reads 250, Telegram
re-posts an update until it reads 200, the widget re-posts a `client_id` until it reads
the ack. A re-send is the same bytes (same Message-ID / update_id / client_id), some of
them after a restart. Counted in the database at the end: every acknowledged message is
stored exactly once, and none at all is stored twice. Refused sends (outages) are
reported, never asserted: how many there are depends on timing; what is stored must not.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from tests.channels.telegram.botapi import BotApiServer
from tests.channels.telegram.conftest import SECRET, TOKEN, new_chat, private_message
from tests.processes import REPO_ROOT, free_port, gateway_env

pytestmark = pytest.mark.slow

PER_CHANNEL = 24  # 72 messages in all
WORKERS = 4  # concurrent senders per channel
UPTIME = (1.5, 2.5)  # seconds a process lives before its SIGKILL
SEND_DEADLINE = 60.0  # one send gives up (unacknowledged) after this long
DESK = "support@desk.test"


@dataclass
class Tally:
    acked: set[str] = field(default_factory=set)
    attempted: set[str] = field(default_factory=set)
    acks: int = 0
    refused: int = 0
    resends_after_restart: int = 0
    webchat_acks: dict[str, set[int]] = field(default_factory=dict)


class Supervisor:
    """Starts `gateway serve`, SIGKILLs it after ~2 s, starts it again, until stopped."""

    def __init__(self, env: dict[str, str], cwd: Path, http_port: int, rng: random.Random):
        self.env, self.cwd, self.rng = env, cwd, rng
        self.health = f"http://127.0.0.1:{http_port}/healthz"
        self.proc: subprocess.Popen[bytes] | None = None
        self.generation = 0  # processes started so far
        self.kills = 0
        self.stopping = asyncio.Event()

    def _start(self) -> None:
        log = (self.cwd / f"serve-{self.generation}.log").open("wb")
        with log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gateway", "serve"],
                env=self.env,
                cwd=self.cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.generation += 1

    async def _healthy(self) -> None:
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient(timeout=1) as client:
            while time.monotonic() < deadline:
                assert self.proc is not None and self.proc.poll() is None, (
                    f"gateway exited: {(self.cwd / f'serve-{self.generation - 1}.log').read_text()}"
                )
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(self.health)).status_code == 200:
                        return
                await asyncio.sleep(0.05)
        raise AssertionError("gateway did not become healthy in 60 s")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=15)
            self.kills += 1

    async def run(self) -> None:
        while not self.stopping.is_set():
            self._start()
            await self._healthy()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), self.rng.uniform(*UPTIME))
            self.kill()


async def resend(
    send: Callable[[], Awaitable[bool]], key: str, tally: Tally, sup: Supervisor
) -> None:
    """Acknowledged sends of one message: 1 + 1-3 re-sends, each retried through outages."""
    rng = random.Random(key)
    first_generation: int | None = None
    for _ in range(1 + rng.randint(1, 3)):
        deadline = time.monotonic() + SEND_DEADLINE
        while True:
            tally.attempted.add(key)
            try:
                ok = await send()
            except (OSError, httpx.HTTPError, aiosmtplib.SMTPException):
                ok = False
            if ok:
                break
            tally.refused += 1
            if time.monotonic() > deadline:
                return  # never acknowledged: may be stored at most once
            await asyncio.sleep(0.2)
        tally.acked.add(key)
        tally.acks += 1
        if first_generation is None:
            first_generation = sup.generation
        elif sup.generation != first_generation:
            tally.resends_after_restart += 1
        await asyncio.sleep(rng.uniform(0, 1.5))  # some re-sends cross a restart


def tag(channel: str, n: int) -> str:
    return f"[chaos {channel}-{n:03d}]"


async def mail_sender(worker: int, smtp_port: int, unique: str, tally: Tally, sup: Supervisor):
    customer = f"chaos-{worker}-{unique}@example.com"
    for n in range(worker, PER_CHANNEL, WORKERS):
        key = tag("mail", n)
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = customer, DESK, f"Order {n} not released"
        msg["Message-ID"] = f"<chaos-{n}-{unique}@example.com>"
        msg.set_content(f"I paid for order {n} {key}")

        async def send(msg: EmailMessage = msg) -> bool:
            errors, _ = await aiosmtplib.send(msg, hostname="127.0.0.1", port=smtp_port, timeout=10)
            return not errors  # raises on anything but 250 (refusals: 4xx/5xx)

        await resend(send, key, tally, sup)


async def telegram_sender(worker: int, base: str, tally: Tally, sup: Supervisor) -> None:
    chat = new_chat()
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        for n in range(worker, PER_CHANNEL, WORKERS):
            key = tag("tg", n)
            update = private_message(chat, 100 + n, "en", text=f"Order {n} not released {key}")

            async def send(update: dict[str, object] = update) -> bool:
                response = await http.post(
                    "/channels/telegram/webhook",
                    json=update,
                    headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
                )
                return response.status_code == 200

            await resend(send, key, tally, sup)


async def webchat_sender(worker: int, base: str, tally: Tally, sup: Supervisor) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        token = None
        deadline = time.monotonic() + SEND_DEADLINE
        while token is None:
            with contextlib.suppress(httpx.HTTPError):
                made = await http.post("/channels/webchat/sessions", json={"language": "en"})
                if made.status_code == 200:
                    token = made.json()["token"]
                    break
            assert time.monotonic() < deadline, "no web chat session within the deadline"
            await asyncio.sleep(0.1)
        http.headers["Authorization"] = f"Bearer {token}"
        for n in range(worker, PER_CHANNEL, WORKERS):
            key = tag("web", n)
            body = {"client_id": f"chaos-{n}", "text": f"Order {n} not released {key}"}

            async def send(body: dict[str, str] = body, key: str = key) -> bool:
                response = await http.post("/channels/webchat/messages", json=body)
                if response.status_code != 200:
                    return False
                tally.webchat_acks.setdefault(key, set()).add(response.json()["message_id"])
                return True

            await resend(send, key, tally, sup)


async def stored_tags(database_url: str) -> Counter[str]:
    """How many inbound message rows carry each chaos tag."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                sa.text("SELECT text FROM message WHERE direction = 'inbound' AND text LIKE :p"),
                {"p": "%[chaos %"},
            )
            texts = [row[0] for row in rows]
    finally:
        await engine.dispose()
    counted: Counter[str] = Counter()
    for text in texts:
        start = text.index("[chaos ")
        counted[text[start : text.index("]", start) + 1]] += 1
    return counted


async def test_acknowledged_messages_survive_sigkill_exactly_once(
    fresh_database_url: str, tmp_path: Path, unique: str
) -> None:
    began = time.monotonic()
    rng = random.Random(unique)
    http_port, smtp_port = free_port(), free_port()
    async with BotApiServer(TOKEN) as api:
        env = gateway_env(
            fresh_database_url,
            tmp_path,
            PYTHONPATH=str(REPO_ROOT),
            GATEWAY_HTTP_PORT=str(http_port),
            GATEWAY_SMTP_PORT=str(smtp_port),
            GATEWAY_MAIL_FROM=DESK,
            GATEWAY_LOG_LEVEL="WARNING",
            GATEWAY_TELEGRAM_TOKEN=TOKEN,
            GATEWAY_TELEGRAM_WEBHOOK_SECRET=SECRET,
            GATEWAY_TELEGRAM_API_BASE=api.base_url,
            GATEWAY_TELEGRAM_API_FILE_BASE=api.file_base_url,
        )
        sup = Supervisor(env, tmp_path, http_port, rng)
        tally = Tally()
        base = f"http://127.0.0.1:{http_port}"
        supervising = asyncio.create_task(sup.run())
        try:
            senders = [
                *(mail_sender(w, smtp_port, unique, tally, sup) for w in range(WORKERS)),
                *(telegram_sender(w, base, tally, sup) for w in range(WORKERS)),
                *(webchat_sender(w, base, tally, sup) for w in range(WORKERS)),
            ]
            sending = asyncio.gather(*senders)
            done, _ = await asyncio.wait(
                [sending, supervising], return_when=asyncio.FIRST_COMPLETED
            )
            if supervising in done:
                sending.cancel()
                supervising.result()  # the supervisor's failure, e.g. a process that died
            await sending
        finally:
            sup.stopping.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(supervising, 90)
            sup.kill()

    stored = await stored_tags(fresh_database_url)
    lost = sorted(k for k in tally.acked if stored[k] != 1)
    twice = sorted(k for k, count in stored.items() if count > 1)
    unsent = sorted(k for k in stored if k not in tally.attempted)
    print(
        f"\nchaos: {len(tally.acked)}/{3 * PER_CHANNEL} messages acknowledged "
        f"({tally.acks} acks, {tally.resends_after_restart} re-sends after a restart), "
        f"{tally.refused} sends refused, {sup.generation} processes, {sup.kills} SIGKILLs, "
        f"{time.monotonic() - began:.1f} s"
    )
    assert sup.kills >= 3, "the chaos never happened: too few SIGKILLs to prove anything"
    assert len(tally.acked) == 3 * PER_CHANNEL, "a message was never acknowledged in 60 s"
    assert not lost, f"acknowledged but not stored exactly once: {lost}"
    assert not twice, f"stored twice: {twice}"
    assert not unsent, f"stored but never sent: {unsent}"
    # A re-sent client_id is acknowledged with the same stored message every time.
    assert all(len(ids) == 1 for ids in tally.webchat_acks.values()), tally.webchat_acks
