"""Messages per second through the webchat websocket into PostgreSQL, acked after commit.

Starts one `gateway serve` on a fresh PostgreSQL database, opens VISITORS sockets and
has each send MESSAGES messages, one at a time (send, wait for the ack), all sockets at
once. Prints the throughput and ack latency percentiles.

    python bench/webchat.py [--visitors 20] [--messages 50] [--keep-db]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway import migrate
from tests.channels.webchat.processes import GatewayProcess, origins
from tests.channels.webchat.test_multiprocess import free_port
from tests.conftest import create_pg_database, drop_pg_database

ORIGIN = "https://bench.example"


async def visitor(base: str, ws_base: str, messages: int, latencies: list[float]) -> None:
    async with httpx.AsyncClient() as client:
        token = (await client.post(f"{base}/channels/webchat/sessions", json={})).json()["token"]
    async with connect(f"{ws_base}/channels/webchat/ws?token={token}", origin=ORIGIN) as ws:  # type: ignore[arg-type]
        json.loads(await ws.recv())  # ready
        for i in range(messages):
            started = time.perf_counter()
            await ws.send(json.dumps({"type": "message", "client_id": f"b{i}", "text": f"m {i}"}))
            while True:
                frame = json.loads(await ws.recv())
                if frame["type"] in ("ack", "error"):
                    break
            if frame["type"] == "error":
                raise RuntimeError(frame["detail"])
            latencies.append(time.perf_counter() - started)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=20)
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()

    url = await create_pg_database()
    await asyncio.to_thread(migrate.upgrade, url)
    with tempfile.TemporaryDirectory() as tmp:
        gw = GatewayProcess(
            url,
            free_port(),
            Path(tmp),
            GATEWAY_WEBCHAT_ALLOWED_ORIGINS=origins(ORIGIN),
            # The bench measures the store path, not the per-visitor limiter.
            GATEWAY_WEBCHAT_MESSAGES_PER_MINUTE=str(args.messages * 10),
        )
        await gw.start()
        latencies: list[float] = []
        try:
            started = time.perf_counter()
            await asyncio.gather(
                *(
                    visitor(gw.url, gw.url.replace("http", "ws"), args.messages, latencies)
                    for _ in range(args.visitors)
                )
            )
            elapsed = time.perf_counter() - started
        finally:
            await gw.stop()
    if not args.keep_db:
        await drop_pg_database(url)
    total = len(latencies)
    q = statistics.quantiles(latencies, n=100)
    print(f"webchat websocket -> PostgreSQL: {args.visitors} sockets x {args.messages} messages")
    print(f"  {total} messages acked in {elapsed:.2f} s = {total / elapsed:.0f} messages/s")
    print(
        f"  ack latency: p50 {q[49] * 1000:.1f} ms, p95 {q[94] * 1000:.1f} ms, "
        f"p99 {q[98] * 1000:.1f} ms"
    )


if __name__ == "__main__":
    asyncio.run(main())
