"""Telegram updates per second through the webhook into PostgreSQL.

Starts the gateway with uvicorn on loopback against a fresh, migrated PostgreSQL database
(the Bot API double stands in for Telegram), posts N private-message updates from C
concurrent httpx clients, and prints the rate beside a baseline: the same number of plain
asyncpg single-row INSERTs (one transaction each, same concurrency) in the same run.

    python -m bench.telegram_ingest [--updates 2000] [--concurrency 16] [--chats 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import uvicorn

import channels.telegram
from gateway import migrate
from gateway.app import create_app
from gateway.runtime import Runtime
from tests.channels.telegram.botapi import BotApiServer
from tests.channels.telegram.conftest import SECRET, TOKEN, telegram_settings
from tests.conftest import IsolatedSettings

ADMIN_DSN = os.environ.get("PARLEY_BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


def update(n: int, chats: int) -> dict[str, Any]:
    chat = 7_000_000_000 + n % chats
    return {
        "update_id": n,
        "message": {
            "message_id": n,
            "from": {"id": chat, "is_bot": False, "first_name": "Bench", "language_code": "en"},
            "chat": {"id": chat, "type": "private", "first_name": "Bench"},
            "date": 1767225600,
            "text": f"Order {n}: seller has not released 120 USDT after my bank transfer",
        },
    }


async def run_pool(count: int, concurrency: int, job: Any) -> float:
    """Run job(i) for i in range(count) with `concurrency` workers; seconds taken."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)

    async def worker() -> None:
        while not queue.empty():
            await job(queue.get_nowait())

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started


async def main(updates: int, concurrency: int, chats: int) -> None:
    name = f"parley_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    dsn = ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}"
    url = dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        await asyncio.to_thread(migrate.upgrade, url)
        async with BotApiServer(TOKEN) as api:
            with tempfile.TemporaryDirectory() as blobs:
                settings = IsolatedSettings(
                    database={"url": url, "pool_size": concurrency},
                    blob={"dir": Path(blobs)},
                    log={"level": "WARNING"},
                    telegram=telegram_settings(api),
                )
                runtime = Runtime.from_settings(settings)
                plugin = channels.telegram.install(runtime)
                app = create_app(settings, runtime, [plugin])
                server = uvicorn.Server(
                    uvicorn.Config(
                        app, host="127.0.0.1", port=0, log_level="warning", access_log=False
                    )
                )
                serving = asyncio.create_task(server.serve())
                while not server.started:  # noqa: ASYNC110 (uvicorn offers only a flag)
                    await asyncio.sleep(0.01)
                port = server.servers[0].sockets[0].getsockname()[1]
                headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
                limits = httpx.Limits(max_connections=concurrency)
                async with httpx.AsyncClient(
                    base_url=f"http://127.0.0.1:{port}", limits=limits, headers=headers, timeout=120
                ) as client:

                    async def post(i: int) -> None:
                        r = await client.post("/channels/telegram/webhook", json=update(i, chats))
                        r.raise_for_status()

                    webhook_s = await run_pool(updates, concurrency, post)
                server.should_exit = True
                await serving
                await plugin.adapter.close()  # type: ignore[union-attr]
                await runtime.close()

        pool = await asyncpg.create_pool(dsn, min_size=concurrency, max_size=concurrency)
        assert pool is not None
        await pool.execute("CREATE TABLE bench_row (id bigserial PRIMARY KEY, body text)")

        async def insert(i: int) -> None:
            await pool.execute("INSERT INTO bench_row (body) VALUES ($1)", f"row {i}")

        baseline_s = await run_pool(updates, concurrency, insert)
        stored = await pool.fetchval("SELECT count(*) FROM message")
        await pool.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()

    webhook_rate, baseline_rate = updates / webhook_s, updates / baseline_s
    print(f"updates: {updates}, concurrency: {concurrency}, chats: {chats}, stored: {stored}")
    print(f"webhook -> PostgreSQL:       {webhook_rate:8.0f} updates/s")
    print(f"asyncpg single-row INSERTs:  {baseline_rate:8.0f} rows/s (baseline)")
    print(f"webhook / baseline:          {webhook_rate / baseline_rate:8.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--chats", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(main(args.updates, args.concurrency, args.chats))
