"""Ingest: inbound messages per second through Parley's real surfaces, beside the floor.

Starts `gateway serve` on a fresh PostgreSQL database (or SQLite with --sqlite), sends N
messages from C concurrent clients through the webchat HTTP fallback, the SMTP listener
and/or the Telegram webhook (each answer comes only after commit, so latency is send ->
stored), then the
same count at half the measured rate to see the latency when not saturated. In the same
run, the baseline: N single-row INSERTs, one transaction each, straight through asyncpg
(or sqlite3) from C connections. Prints messages/s, p50/p95/p99, errors, the server's
peak RSS and the ratio to the baseline.

    python bench/ingest.py [--messages 1000] [--clients 16] [--surface webchat,smtp,telegram,mixed]
                           [--per-visitor 1] [--low-accuracy] [--sqlite]
                           [--driver auto|wrk|python] [--seconds 15]

The saturating load comes from wrk (bench/ingest_wrk.py) for the web chat and Telegram
when it is installed (`--driver auto`), else from the Python client below; SMTP always
uses the Python client. The half-load row always uses the Python client's open loop
(a fixed rate, so latency shows queueing; wrk has no fixed-rate mode).

A new surface is one more `Surface` class in SURFACES.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sqlite3
import sys
import time
import uuid
from collections.abc import Sequence
from email.message import EmailMessage
from pathlib import Path
from typing import ClassVar

import aiosmtplib
import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ingest_wrk
from _common import (
    Database,
    Gateway,
    Row,
    closed_loop,
    insert_baseline,
    load_line,
    open_loop,
    pct,
    print_rows,
    workdir,
)

TEXTS = (
    "I paid 250 USDT for order {n} an hour ago and the seller still has not released.",
    "Продавец не отпускает крипту по ордеру {n}, я оплатил 20000 рублей.",
    "The buyer marked order {n} as paid but I received nothing in my bank account.",
    "Tôi đã chuyển tiền cho lệnh {n} nhưng người bán không giải phóng USDT.",
)


class Surface:
    """One way in. `send(slot, n)` returns once Parley answered that message n is stored."""

    name: ClassVar[str]
    env: ClassVar[dict[str, str]] = {}

    def __init__(self, gateway: Gateway, per_visitor: int):
        self.gateway = gateway
        self.per_visitor = per_visitor

    @classmethod
    async def setup(cls, stack: contextlib.AsyncExitStack) -> dict[str, str]:
        """Start what the gateway needs for this surface; the GATEWAY_* env to add."""
        return dict(cls.env)

    async def prepare(self, numbers: Sequence[int], slots: int) -> None:
        """Everything a send needs that is not the send (sessions, connections)."""

    async def send(self, slot: int, n: int) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        """Release clients."""


class WebchatHttp(Surface):
    """POST /channels/webchat/messages with a visitor's session token (the HTTP fallback)."""

    name = "webchat"
    # The per-visitor limiter guards against one abusive widget, not a wave of visitors.
    # A known signing key lets the wrk driver make visitors' tokens without a request.
    env: ClassVar[dict[str, str]] = {
        "GATEWAY_WEBCHAT_MESSAGES_PER_MINUTE": "1000000",
        "GATEWAY_WEBCHAT_SECRET": ingest_wrk.WEBCHAT_SECRET,
    }

    async def prepare(self, numbers: Sequence[int], slots: int) -> None:
        self.client = httpx.AsyncClient(
            base_url=self.gateway.url,
            limits=httpx.Limits(max_connections=slots + 4, max_keepalive_connections=slots + 4),
            timeout=60,
        )
        visitors = sorted({n // self.per_visitor for n in numbers})
        self.tokens: dict[int, str] = getattr(self, "tokens", {})
        sem = asyncio.Semaphore(16)

        async def session(v: int) -> None:
            async with sem:
                body = {"name": f"Visitor {v}", "language": None}
                r = await self.client.post("/channels/webchat/sessions", json=body)
                r.raise_for_status()
                self.tokens[v] = r.json()["token"]

        await asyncio.gather(*(session(v) for v in visitors if v not in self.tokens))

    async def send(self, slot: int, n: int) -> None:
        r = await self.client.post(
            "/channels/webchat/messages",
            json={"client_id": f"m{n}", "text": TEXTS[n % len(TEXTS)].format(n=n)},
            headers={"Authorization": f"Bearer {self.tokens[n // self.per_visitor]}"},
        )
        if r.status_code != 200:
            raise RuntimeError(f"webchat {r.status_code}: {r.text[:200]}")

    async def close(self) -> None:
        await self.client.aclose()


class Smtp(Surface):
    """A mail through the SMTP listener; 250 comes after commit. One connection per slot."""

    name = "smtp"

    def __init__(self, gateway: Gateway, per_visitor: int):
        super().__init__(gateway, per_visitor)
        self.port = int(gateway.env["GATEWAY_SMTP_PORT"])
        self.connections: dict[int, aiosmtplib.SMTP] = {}
        self.run_id = uuid.uuid4().hex[:8]

    async def prepare(self, numbers: Sequence[int], slots: int) -> None:
        for slot in range(slots):
            if slot not in self.connections:
                smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=self.port, timeout=60)
                await smtp.connect()
                self.connections[slot] = smtp

    async def send(self, slot: int, n: int) -> None:
        msg = EmailMessage()
        msg["From"] = f"Customer {n} <c{n // self.per_visitor}-{self.run_id}@customer.example>"
        msg["To"] = "support@desk.example"
        msg["Subject"] = f"Order {n}: crypto not released"
        msg["Message-ID"] = f"<{self.run_id}-{n}@customer.example>"
        msg.set_content(TEXTS[n % len(TEXTS)].format(n=n) + "\n")
        await self.connections[slot].send_message(msg)

    async def close(self) -> None:
        for smtp in self.connections.values():
            try:
                await smtp.quit()
            except aiosmtplib.SMTPException:
                pass


class TelegramWebhook(Surface):
    """A private-chat Update POSTed to the webhook with the secret token; 200 after commit.
    The gateway's Bot API base points at the loopback double from the Telegram tests."""

    name = "telegram"

    @classmethod
    async def setup(cls, stack: contextlib.AsyncExitStack) -> dict[str, str]:
        from tests.channels.telegram.botapi import BotApiServer
        from tests.channels.telegram.conftest import SECRET, TOKEN

        api = await stack.enter_async_context(BotApiServer(TOKEN))
        cls.secret = SECRET
        return {
            "GATEWAY_TELEGRAM_TOKEN": TOKEN,
            "GATEWAY_TELEGRAM_WEBHOOK_SECRET": SECRET,
            "GATEWAY_TELEGRAM_API_BASE": api.base_url,
            "GATEWAY_TELEGRAM_API_FILE_BASE": api.file_base_url,
            "GATEWAY_TELEGRAM_MODE": "webhook",
        }

    async def prepare(self, numbers: Sequence[int], slots: int) -> None:
        if not hasattr(self, "client"):
            self.client = httpx.AsyncClient(
                base_url=self.gateway.url,
                headers={"X-Telegram-Bot-Api-Secret-Token": self.secret},
                limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
                timeout=60,
            )

    async def send(self, slot: int, n: int) -> None:
        chat = 7_000_000_000 + n // self.per_visitor
        user = {"id": chat, "is_bot": False, "first_name": f"Customer {n}", "language_code": "en"}
        update = {
            "update_id": 10**8 + n,
            "message": {
                "message_id": n,
                "from": user,
                "chat": {"id": chat, "type": "private", "first_name": user["first_name"]},
                "date": int(time.time()),
                "text": TEXTS[n % len(TEXTS)].format(n=n),
            },
        }
        r = await self.client.post("/channels/telegram/webhook", json=update)
        if r.status_code != 200:
            raise RuntimeError(f"telegram {r.status_code}: {r.text[:200]}")

    async def close(self) -> None:
        await self.client.aclose()


class Mixed(Surface):
    """Every surface in turn, message by message."""

    name = "mixed"

    def __init__(self, gateway: Gateway, per_visitor: int, parts: list[Surface]):
        super().__init__(gateway, per_visitor)
        self.parts = parts

    async def prepare(self, numbers: Sequence[int], slots: int) -> None:
        # The same rule as send(): message n goes through part n % len(parts).
        for i, part in enumerate(self.parts):
            await part.prepare([n for n in numbers if n % len(self.parts) == i], slots)

    async def send(self, slot: int, n: int) -> None:
        await self.parts[n % len(self.parts)].send(slot, n)

    async def close(self) -> None:
        for part in self.parts:
            await part.close()


SURFACES: dict[str, type[Surface]] = {
    "webchat": WebchatHttp,
    "smtp": Smtp,
    "telegram": TelegramWebhook,
}


async def _gateway_env(
    args: argparse.Namespace, surface: str, stack: contextlib.AsyncExitStack
) -> dict[str, str]:
    env: dict[str, str] = {"GATEWAY_SMTP_PORT": str(_free())}
    for cls in SURFACES.values() if surface == "mixed" else [SURFACES[surface]]:
        env |= await cls.setup(stack)
    if args.low_accuracy:
        env["GATEWAY_ROUTING_LOW_ACCURACY"] = "true"
    if args.pool_size:
        env["GATEWAY_DATABASE_POOL_SIZE"] = str(args.pool_size)
    return env


async def _wrk(
    surface: str, gateway: Gateway, clients: int, seconds: float
) -> ingest_wrk.WrkResult:
    if surface == "webchat":
        # More visitors than any run sends: each message is a new customer's.
        path = await asyncio.to_thread(ingest_wrk.webchat_tokens, 40_000)
        script_args = [str(path)]
    else:
        script_args = [TelegramWebhook.secret, str(8 * 10**9)]
    return await ingest_wrk.run(
        gateway.url, surface, connections=clients, seconds=seconds, script_args=script_args
    )


def _free() -> int:
    from _common import free_port

    return free_port()


def _surface(name: str, gateway: Gateway, per_visitor: int) -> Surface:
    if name == "mixed":
        parts = [cls(gateway, per_visitor) for cls in SURFACES.values()]
        return Mixed(gateway, per_visitor, parts)
    return SURFACES[name](gateway, per_visitor)


async def _stored(dsn: str | None, sqlite_path: Path | None) -> int:
    if sqlite_path is not None:
        with sqlite3.connect(sqlite_path) as conn:
            return int(conn.execute("SELECT count(*) FROM message").fetchone()[0])
    assert dsn is not None
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM message"))
    finally:
        await conn.close()


def _sqlite_baseline(path: Path, count: int) -> tuple[float, list[float]]:
    """SQLite's floor: one writer, `count` single-row INSERTs each committed, with the
    gateway's own pragmas (WAL, synchronous=NORMAL)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE IF NOT EXISTS bench_row (id INTEGER PRIMARY KEY, body TEXT)")
    latencies = []
    started = time.perf_counter()
    for n in range(count):
        t = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO bench_row (body) VALUES (?)", (f"row {n}",))
        conn.execute("COMMIT")
        latencies.append(time.perf_counter() - t)
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed, latencies


async def run(
    *,
    messages: int = 1000,
    clients: int = 16,
    surfaces: list[str] | None = None,
    per_visitor: int = 1,
    low_accuracy: bool = False,
    sqlite: bool = False,
    pool_size: int | None = None,
    half_rate: bool = True,
    driver: str = "auto",
    seconds: float = 15.0,
    env_extra: dict[str, str] | None = None,
    label: str = "",
    stdlib_loop: bool = False,
) -> list[Row]:
    """Run the ingest bench for each surface; one or two rows per surface."""
    args = argparse.Namespace(low_accuracy=low_accuracy, pool_size=pool_size)
    surfaces = surfaces or ["webchat", "smtp", "telegram"]
    rows: list[Row] = []
    backend = "SQLite" if sqlite else "PostgreSQL"
    suffix = f"{', low-accuracy lingua' if low_accuracy else ''}{label}"
    for surface_name in surfaces:
        print(f"ingest {surface_name} on {backend}: {load_line()}", file=sys.stderr)
        work = workdir()
        async with Database() as db, contextlib.AsyncExitStack() as stack:
            sqlite_path = work / "parley.db" if sqlite else None
            url = f"sqlite+aiosqlite:///{sqlite_path}" if sqlite_path else db.url
            env = await _gateway_env(args, surface_name, stack) | (env_extra or {})
            gateway = await Gateway(url, work, stdlib_loop=stdlib_loop, **env).start()
            surface = _surface(surface_name, gateway, per_visitor)
            try:
                # The first routed message loads the language models: not part of the figure.
                warm = range(10**7, 10**7 + 2)
                await surface.prepare(warm, 1)
                for n in warm:
                    await surface.send(0, n)
                rss_warm = gateway.peak_rss_mb()

                use_wrk = surface_name in ingest_wrk.SURFACES and (
                    driver == "wrk" or (driver == "auto" and ingest_wrk.available())
                )
                wrk_result: ingest_wrk.WrkResult | None = None
                cpu_before = gateway.cpu_seconds()
                if use_wrk:
                    wrk_result = await _wrk(surface_name, gateway, clients, seconds)
                    rate, errors = wrk_result.rate, wrk_result.status_errors
                    errors += wrk_result.socket_errors
                    sent = wrk_result.requests
                    latencies = []
                else:
                    await surface.prepare(range(messages), clients)
                    took, latencies, errors = await closed_loop(messages, clients, surface.send)
                    sent = messages
                    rate = len(latencies) / took
                stored = await _stored(db.dsn, sqlite_path) - len(warm)
                cpu_ms = 1000 * (gateway.cpu_seconds() - cpu_before) / max(stored, 1)

                half_rows: list[Row] = []
                if half_rate and rate > 0:
                    # Half the rate for about ten seconds (or half the messages).
                    half = max(min(sent // 2, int(rate * 5)), 50)
                    numbers = range(2 * 10**6, 2 * 10**6 + half)
                    await surface.prepare(numbers, clients * 4)
                    h_seconds, h_lat, h_err = await open_loop(
                        half,
                        rate / 2,
                        lambda slot, n, base=numbers.start, s=surface: s.send(slot, base + n),
                        clients * 4,
                    )
                    half_rows.append(
                        Row(
                            "ingest",
                            f"{surface_name} at half max ({rate / 2:.0f}/s), {backend}{suffix}",
                            len(h_lat) / h_seconds,
                            "msg/s",
                            p50_ms=pct(h_lat, 50),
                            p95_ms=pct(h_lat, 95),
                            p99_ms=pct(h_lat, 99),
                            errors=h_err,
                            peak_rss_mb=gateway.peak_rss_mb(),
                            target="p99 < 50 ms",
                        )
                    )
            finally:
                peak_rss = gateway.peak_rss_mb()
                await surface.close()
                await gateway.stop()
            # The floor, on the same database right after: at least 1000 rows.
            b_count = max(sent, 1000)
            if sqlite_path is not None:
                b_seconds, b_lat = await asyncio.to_thread(
                    _sqlite_baseline, work / "baseline.db", b_count
                )
                base_label = "sqlite3 inserts/s"
            else:
                b_seconds, b_lat = await insert_baseline(db.dsn, b_count, clients)
                base_label = "asyncpg inserts/s"
        missing = max(sent - (wrk_result.status_errors if wrk_result else 0) - stored, 0)
        p50, p95, p99 = (
            (wrk_result.p50_ms, wrk_result.p95_ms, wrk_result.p99_ms)
            if wrk_result
            else (pct(latencies, 50), pct(latencies, 95), pct(latencies, 99))
        )
        driven = "wrk" if wrk_result else "python client"
        rows.append(
            Row(
                "ingest",
                f"{surface_name}, {clients} clients, {backend}{suffix}",
                rate,
                "msg/s",
                baseline=b_count / b_seconds,
                baseline_label=base_label,
                p50_ms=p50,
                p95_ms=p95,
                p99_ms=p99,
                errors=errors + missing,
                peak_rss_mb=peak_rss,
                target=">= 0.2x baseline",
                extra={"gateway_cpu_ms_per_message": round(cpu_ms, 2)},
                notes=(
                    f"{sent} messages ({driven}), {per_visitor} per customer; {stored} stored; "
                    f"gateway CPU {cpu_ms:.1f} ms per message; "
                    f"baseline p50 {pct(b_lat, 50):.1f} ms; RSS after warm-up {rss_warm:.0f} MB "
                    "(lingua models)"
                    if rss_warm
                    else ""
                ),
            )
        )
        rows.extend(half_rows)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument(
        "--surface",
        default="webchat,smtp,telegram",
        help="comma list of: webchat, smtp, telegram, mixed",
    )
    parser.add_argument("--per-visitor", type=int, default=1, help="messages per customer")
    parser.add_argument("--low-accuracy", action="store_true", help="lingua low accuracy mode")
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    parser.add_argument("--pool-size", type=int, default=None)
    parser.add_argument("--no-half-rate", action="store_true")
    parser.add_argument(
        "--driver", default="auto", choices=["auto", "wrk", "python"],
        help="saturating load: wrk when installed (auto), or the Python client",
    )  # fmt: skip
    parser.add_argument("--seconds", type=float, default=15.0, help="wrk run length")
    args = parser.parse_args()
    rows = asyncio.run(
        run(
            messages=args.messages,
            clients=args.clients,
            surfaces=[s.strip() for s in args.surface.split(",") if s.strip()],
            per_visitor=args.per_visitor,
            low_accuracy=args.low_accuracy,
            sqlite=args.sqlite,
            pool_size=args.pool_size,
            half_rate=not args.no_half_rate,
            driver=args.driver,
            seconds=args.seconds,
        )
    )
    print_rows(rows)


if __name__ == "__main__":
    main()
