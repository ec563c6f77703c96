"""Delivery: how fast the outbox drains R replies into a loopback SMTP sink.

Starts `gateway serve` with its outbound relay pointed at an aiosmtpd sink in this
process, then commits R agent replies (message + outbox row each, on R email tickets) in
one transaction with the NOTIFY an agent's reply sends, and times from that commit until
the sink has received all R and every row is marked sent; the sink counts the SMTP
connections. Baseline in the same run: R mails built beforehand and sent straight to
the sink one after another, one connection per 50: the most one sender could drain
into this sink here.

The email row's notes split the CPU of a reply between the gateway, the sink (this
process while the gateway sends) and the PostgreSQL backends of the run's database,
all on the same cores, and give the baseline's CPU a mail (sink and sender, both here):
the baseline is one process on one core, so it is the most one sender can drain here,
not the most the sink could take from several; and the gateway's drain can reach it
only if gateway, sink and PostgreSQL together fit the cores.

Telegram: R replies drained into the loopback Bot API double from the tests
(tests/channels/telegram/botapi.py) with Telegram's limits off, then a smaller batch
with them on (30 messages/s overall, 1 per chat per second: replies to distinct chats
can drain at 30/s at most), set beside that allowed rate: the figure is the pace from
the first send to the last (the limiter's), the drain from the commit is in the notes.

    python bench/deliver.py [--replies 1000] [--batch-size 50] [--concurrent-batches 1]

--concurrent-batches sets GATEWAY_OUTBOX_CONCURRENT_BATCHES: batches the worker sends side
by side, each over its own relay connection (1, the default, is the gateway's).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import asyncpg
from aiosmtpd.smtp import SMTP, Envelope, Session

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    Database,
    Gateway,
    Row,
    backend_cpu_seconds,
    free_port,
    load_line,
    print_rows,
    workdir,
)


class Sink:
    """An SMTP server that accepts every mail and counts it."""

    def __init__(self) -> None:
        self.received = 0
        self.done = asyncio.Event()
        self.expect = 0
        self.connections = 0

    async def handle_DATA(self, _server: SMTP, _session: Session, _envelope: Envelope) -> str:
        self.received += 1
        if self.expect and self.received >= self.expect:
            self.done.set()
        return "250 2.0.0 OK"

    def reset(self, expect: int) -> None:
        self.received, self.expect, self.connections = 0, expect, 0
        self.done.clear()


async def start_sink(sink: Sink) -> tuple[asyncio.Server, int]:
    loop = asyncio.get_running_loop()
    port = free_port()

    def protocol() -> SMTP:
        sink.connections += 1
        return SMTP(sink, hostname="sink.test", loop=loop)

    server = await loop.create_server(protocol, "127.0.0.1", port)
    return server, port


async def enqueue(dsn: str, replies: int, channel: str = "email") -> float:
    """R tickets on `channel` each with one pending agent reply (one customer, one chat or
    address each), committed at once with the outbox signal; returns the commit time."""
    address = "'c' || g || '@customer.example'" if channel == "email" else "(8000000000 + g)::text"
    conn = await asyncpg.connect(dsn)
    try:
        queue_id = await conn.fetchval(
            "INSERT INTO queue (name, created_at) VALUES ('general', now()) "
            "ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id"
        )
        base = int(await conn.fetchval("SELECT coalesce(max(id), 0) FROM ticket"))
        async with conn.transaction():
            await conn.execute(
                """
                INSERT INTO customer (id, display_name, email, flags, created_at)
                SELECT g, 'Customer ' || g, 'c' || g || '@customer.example', '{}'::jsonb, now()
                FROM generate_series($1::int, $2::int) g;
                """,
                base + 1,
                base + replies,
            )
            await conn.execute(
                """
                INSERT INTO channel_identity (id, customer_id, channel, address, display_name,
                    verified, unreachable, created_at)
                SELECT g, g, $3, ADDRESS, 'Customer ' || g, false, false, now()
                FROM generate_series($1::int, $2::int) g
                """.replace("ADDRESS", address),
                base + 1,
                base + replies,
                channel,
            )
            await conn.execute(
                """
                INSERT INTO ticket (id, customer_id, identity_id, channel, subject, status,
                    severity, severity_rank, category, queue_id, escalation_level,
                    routing_reasons, needs_attention, created_at, updated_at)
                SELECT g, g, g, $4, 'Order ' || g || ' not released', 'open', 'normal', 2,
                    'crypto_not_released', $3, 0, '[]'::jsonb, false, now(), now()
                FROM generate_series($1::int, $2::int) g
                """,
                base + 1,
                base + replies,
                queue_id,
                channel,
            )
            await conn.execute(
                """
                INSERT INTO message (id, ticket_id, channel, external_id, direction, author_type,
                    text, delivery_state, created_at)
                SELECT g, g, $3, md5('reply' || g), 'outbound', 'agent',
                    'Hello, we are checking order ' || g || ' with the seller and will write '
                    'again within the hour.', 'pending', now()
                FROM generate_series($1::int, $2::int) g
                """,
                base + 1,
                base + replies,
                channel,
            )
            await conn.execute(
                """
                INSERT INTO outbox (message_id, ticket_id, channel, state, attempts,
                    next_attempt_at, created_at)
                SELECT g, g, $3, 'pending', 0, now(), now()
                FROM generate_series($1::int, $2::int) g
                """,
                base + 1,
                base + replies,
                channel,
            )
            for table in ("customer", "channel_identity", "ticket", "message"):
                await conn.execute(f"SELECT setval('{table}_id_seq', {base + replies})")
            await conn.execute("SELECT pg_notify('parley_outbox', '')")
        return time.perf_counter()
    finally:
        await conn.close()


async def pending(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM outbox WHERE state <> 'sent'"))
    finally:
        await conn.close()


async def direct_baseline(
    port: int, sink: Sink, count: int, batch: int = 50
) -> tuple[float, float]:
    """What this sink absorbs from one sender: R mails, built beforehand, sent one after
    another over one connection per `batch` (as the worker does), nothing else. Seconds
    and this process's CPU seconds (sink and sender together) for the sending."""
    sink.reset(count)
    mails = []
    for n in range(count):
        msg = EmailMessage()
        msg["From"] = "support@desk.example"
        msg["To"] = f"c{n}@customer.example"
        msg["Subject"] = f"Re: Order {n} not released [D-{n}]"
        msg.set_content(f"Hello, we are checking order {n} with the seller.")
        msg.add_alternative(f"<p>Hello, we are checking order {n}.</p>", subtype="html")
        mails.append((f"c{n}@customer.example", msg.as_bytes()))
    started, cpu = time.perf_counter(), time.process_time()
    for first in range(0, count, batch):
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, local_hostname="bench.test")
        await client.connect()
        for rcpt, data in mails[first : first + batch]:
            await client.sendmail("support@desk.example", [rcpt], data)
        await client.quit()
    return time.perf_counter() - started, time.process_time() - cpu


async def email_rows(replies: int, batch_size: int | None, concurrent: int = 1) -> list[Row]:
    print(f"deliver email ({concurrent} batches at once): {load_line()}", file=sys.stderr)
    sink = Sink()
    server, port = await start_sink(sink)
    work = workdir()
    try:
        async with Database() as db:
            env = {
                "GATEWAY_SMTP_PORT": "0",
                "GATEWAY_SMTP_RELAY_HOST": "127.0.0.1",
                "GATEWAY_SMTP_RELAY_PORT": str(port),
                "GATEWAY_MAIL_FROM": "Support <support@desk.example>",
            }
            if batch_size:
                env["GATEWAY_OUTBOX_BATCH_SIZE"] = str(batch_size)
            env["GATEWAY_OUTBOX_CONCURRENT_BATCHES"] = str(concurrent)
            gateway = await Gateway(db.url, work, **env).start()
            try:
                await asyncio.sleep(1.5)  # the worker subscribes and finds nothing to do
                sink.reset(replies)
                pg_before = await backend_cpu_seconds(db.dsn)
                cpu_before, sink_before = gateway.cpu_seconds(), time.process_time()
                committed = await enqueue(db.dsn, replies)
                try:
                    await asyncio.wait_for(sink.done.wait(), timeout=max(120, replies / 5))
                except TimeoutError:
                    pass
                # This process's CPU while the gateway sent: the sink's share (and the
                # enqueue's, a few ms), on the same cores as the gateway.
                sink_ms = 1000 * (time.process_time() - sink_before) / replies
                pg_after = await backend_cpu_seconds(db.dsn)
                pg_ms = 1000 * sum(t - pg_before.get(p, 0.0) for p, t in pg_after.items()) / replies
                # The sink has them all; the rows are marked sent in the worker's next step.
                while await pending(db.dsn) and time.perf_counter() - committed < 300:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
                seconds = time.perf_counter() - committed
                cpu_ms = 1000 * (gateway.cpu_seconds() - cpu_before) / replies
                left = await pending(db.dsn)
                rss = gateway.peak_rss_mb()
            finally:
                await gateway.stop()
        received, connections = sink.received, sink.connections
        b_seconds, b_cpu = await direct_baseline(port, sink, replies)
        b_sink_ms = 1000 * b_cpu / replies
    finally:
        server.close()
        await server.wait_closed()
    return [
        Row(
            "deliver",
            "email -> loopback SMTP sink (no limits)",
            (replies - left) / seconds,
            "replies/s",
            baseline=replies / b_seconds,
            baseline_label="pre-built mails/s the sink takes",
            errors=left + max(0, received - replies),
            peak_rss_mb=rss,
            target=">= 1000/s",
            notes=f"{replies} replies, {received} received by the sink, {left} not sent; "
            f"CPU a reply: gateway {cpu_ms:.2f} ms, sink {sink_ms:.2f} ms, PostgreSQL "
            f"{pg_ms:.2f} ms; baseline's sink and sender {b_sink_ms:.2f} ms a mail; "
            f"batch size {batch_size or 50}, "
            f"{concurrent} at once, "
            f"{connections} SMTP connections "
            f"({replies / max(connections, 1):.0f} replies per connection)",
        )
    ]


async def telegram_rows(replies: int, limited_replies: int) -> list[Row]:
    """Drain replies into the loopback Bot API double (tests/channels/telegram/botapi.py)
    with Telegram's limits off, then on: 30 messages/s overall and 1 per chat per second,
    so replies to distinct chats can drain at 30/s at most."""
    from tests.channels.telegram.botapi import BotApiServer
    from tests.channels.telegram.conftest import SECRET, TOKEN

    rows = []
    for limited in (False, True):
        count = limited_replies if limited else replies
        state = "on" if limited else "off"
        print(f"deliver telegram (limits {state}): {load_line()}", file=sys.stderr)
        work = workdir()
        async with BotApiServer(TOKEN) as api, Database() as db:
            env = {
                "GATEWAY_SMTP_PORT": "0",
                "GATEWAY_TELEGRAM_TOKEN": TOKEN,
                "GATEWAY_TELEGRAM_WEBHOOK_SECRET": SECRET,
                "GATEWAY_TELEGRAM_API_BASE": api.base_url,
                "GATEWAY_TELEGRAM_API_FILE_BASE": api.file_base_url,
            }
            if not limited:
                env |= {
                    "GATEWAY_TELEGRAM_GLOBAL_PER_SECOND": "1000000",
                    "GATEWAY_TELEGRAM_PER_CHAT_PER_SECOND": "1000000",
                }
            gateway = await Gateway(db.url, work, **env).start()
            try:
                await asyncio.sleep(1.5)
                committed = await enqueue(db.dsn, count, "telegram")
                while await pending(db.dsn) and time.perf_counter() - committed < 300:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
                seconds = time.perf_counter() - committed
                left = await pending(db.dsn)
                rss = gateway.peak_rss_mb()
            finally:
                await gateway.stop()
            sends = sorted(c.at for c in api.calls if c.method == "sendMessage")
            sent = len(sends)
        drained = (count - left) / seconds
        # With limits on, the limiter's own pace: sends from the first to the last (the
        # worker's start-up before the first is not the limiter's), and the most sends
        # in any one-second window (must stay at or under 30).
        paced = (sent - 1) / (sends[-1] - sends[0]) if sent > 1 and sends[-1] > sends[0] else 0
        busiest = max(
            (sum(1 for t in sends[i:] if t < start + 1.0) for i, start in enumerate(sends)),
            default=0,
        )
        rows.append(
            Row(
                "deliver",
                f"telegram -> loopback Bot API, limits {state}",
                paced if limited else drained,
                "replies/s",
                baseline=30.0 if limited else None,
                baseline_label="allowed by the limits" if limited else "",
                errors=left + max(0, sent - count),
                peak_rss_mb=rss,
                target="within 10 % of 30/s" if limited else ">= 1000/s",
                notes=f"{count} replies to {count} chats, {sent} sendMessage calls, {left} unsent"
                + (
                    f"; first to last send {paced:.1f}/s, from the commit {drained:.1f}/s, "
                    f"most in any 1 s: {busiest}"
                    if limited
                    else ""
                ),
            )
        )
    return rows


async def run(
    *,
    replies: int = 1000,
    batch_size: int | None = None,
    limited_replies: int = 300,
    concurrent: int = 1,
) -> list[Row]:
    email = await email_rows(replies, batch_size, concurrent)
    return email + await telegram_rows(replies, limited_replies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--concurrent-batches", type=int, default=1)
    args = parser.parse_args()
    rows = run(replies=args.replies, batch_size=args.batch_size, concurrent=args.concurrent_batches)
    print_rows(asyncio.run(rows))


if __name__ == "__main__":
    main()
