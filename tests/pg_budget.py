"""Counts the PostgreSQL connections one test run holds, so the suite keeps its budget.

CI shares a server with max_connections 100 among several jobs; one run may hold about
40. The sampler polls `pg_stat_activity` from a thread of its own for the connections
to this run's databases (named with the run's prefix), in-process and subprocess
gateways alike, and remembers the peak and the test that was running then.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

import asyncpg

SAMPLE_SECONDS = 0.25


class ConnectionSampler:
    def __init__(self, admin_dsn: str, database_prefix: str):
        self.admin_dsn = admin_dsn
        self.prefix = database_prefix
        self.peak = 0
        self.peak_test = ""
        self.current_test = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pg-budget", daemon=True)
        self.error: str | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        asyncio.run(self._sample())

    async def _sample(self) -> None:
        try:
            conn = await asyncpg.connect(self.admin_dsn, timeout=5)
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            self.error = str(exc)
            return
        try:
            while not self._stop.is_set():
                count = await conn.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname LIKE $1",
                    self.prefix.replace("_", r"\_") + "%",
                )
                if count > self.peak:
                    self.peak, self.peak_test = count, self.current_test
                await asyncio.sleep(SAMPLE_SECONDS)
        finally:
            with contextlib.suppress(Exception):
                await conn.close()
