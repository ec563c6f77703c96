"""Mails per second through the SMTP listener into PostgreSQL, against a baseline of the
same number of plain asyncpg single-row inserts. Prints figures; asserts nothing.

    python bench/email_ingest.py [--mails 300] [--clients 4] [--dsn postgresql://...]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from channels.email.service import EmailIntake
from channels.email.smtp import SmtpListener
from gateway import migrate
from gateway.runtime import Runtime
from gateway.settings import Settings


def _mail(n: int) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"bench{n % 50}@customer.example"
    msg["To"] = "support@desk.test"
    msg["Subject"] = f"Order {n} not released"
    msg["Message-ID"] = f"<bench-{n}-{uuid.uuid4().hex}@customer.example>"
    msg.set_content(f"I paid 100 USDT for order {n}, the seller does not release.\n")
    return msg


async def _smtp(port: int, mails: list[EmailMessage], clients: int) -> float:
    queue: asyncio.Queue[EmailMessage] = asyncio.Queue()
    for m in mails:
        queue.put_nowait(m)

    async def client() -> None:
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
        await smtp.connect()
        while not queue.empty():
            await smtp.send_message(queue.get_nowait())
        await smtp.quit()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - started


async def _baseline(dsn: str, count: int, clients: int) -> float:
    pool = await asyncpg.create_pool(dsn, min_size=clients, max_size=clients)
    await pool.execute("CREATE TABLE bench_row (id bigserial PRIMARY KEY, body text NOT NULL)")
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(count):
        queue.put_nowait(n)

    async def worker() -> None:
        async with pool.acquire() as conn:
            while not queue.empty():
                n = queue.get_nowait()
                await conn.execute("INSERT INTO bench_row (body) VALUES ($1)", f"row {n}")

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    await pool.close()
    return elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mails", type=int, default=300)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    name = f"parley_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(args.dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    base = args.dsn.rsplit("/", 1)[0]
    dsn, url = f"{base}/{name}", f"{base}/{name}".replace("postgresql://", "postgresql+asyncpg://")
    try:
        await asyncio.to_thread(migrate.upgrade, url)
        blob_dir = Path(tempfile.mkdtemp(prefix="parley-bench-"))
        settings = Settings(
            database={"url": url}, blob={"dir": blob_dir}, mail={"from": "support@desk.test"}
        )
        runtime = Runtime.from_settings(settings)
        listener = SmtpListener(
            EmailIntake(runtime), host="127.0.0.1", port=0, max_message_bytes=25 << 20
        )
        stop = asyncio.Event()
        task = asyncio.create_task(listener.run(stop))
        await listener.started.wait()
        assert listener.bound_port is not None
        mails = [_mail(n) for n in range(args.mails)]
        smtp_seconds = await _smtp(listener.bound_port, mails, args.clients)
        stop.set()
        await task
        await runtime.close()
        base_seconds = await _baseline(dsn, args.mails, args.clients)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()

    smtp_rate, base_rate = args.mails / smtp_seconds, args.mails / base_seconds
    print(f"mails: {args.mails}, concurrent clients: {args.clients}")
    print(f"SMTP listener -> PostgreSQL:      {smtp_rate:8.1f} mails/s ({smtp_seconds:.2f} s)")
    print(f"asyncpg single-row inserts:       {base_rate:8.1f} rows/s  ({base_seconds:.2f} s)")
    print(f"ratio (listener / plain inserts): {smtp_rate / base_rate:8.3f}")


if __name__ == "__main__":
    asyncio.run(main())
