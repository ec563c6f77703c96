"""Statements per ingest: the figure a shared, noisy machine cannot blur.

Each statement is a round trip to the database, and on a loaded 2-core machine the
round trip, not the SQL, is most of an ingest's cost (the profile in bench/RESULTS.md).
This counts the statements (BEGIN and COMMIT not included) that `Runtime.ingest` sends
for a message from a new customer and for a follow-up on an open ticket, in-process on
a fresh PostgreSQL database (or SQLite), with routing and the SLA as `gateway serve`
runs them, and prints them one by one with --verbose. Beside each count: the process's
CPU time per ingest (time.process_time: the gateway's own cost, which other load on
the machine blurs far less than wall time; the database runs in its own processes).

    python bench/ingest_statements.py [--messages 50] [--sqlite] [--verbose]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Database, Row

from gateway.logging import configure_logging
from gateway.ports import Channel, InboundMessage
from gateway.runtime import Runtime
from gateway.settings import Settings

TEXT = "I paid 250 USDT for order {n} an hour ago and the seller has not released"


async def count(url: str, messages: int, verbose: bool) -> dict[str, tuple[float, float, float]]:
    """{case: (statements per ingest, ms per ingest one at a time, CPU ms per ingest)}."""
    settings = Settings(
        database={"url": url},
        blob={"dir": Path(tempfile.mkdtemp(prefix="parley-bench-"))},
        log={"level": "WARNING"},
    )
    configure_logging("WARNING")
    runtime = Runtime.from_settings(settings)
    await runtime.router.warm_up()
    seen: list[str] = []

    @event.listens_for(runtime.engine.sync_engine, "before_cursor_execute")
    def _count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        seen.append(" ".join(statement.split()))

    # Statements sent straight on asyncpg (gateway/statements.py) pass no cursor:
    # the connection's query logger sees them (and the transaction's own BEGIN/COMMIT).
    # It is called soon after the statement completes, so with --verbose such a line may
    # print after the statement that followed it.
    def _raw(record: object) -> None:
        query = " ".join(str(getattr(record, "query", "")).split())
        if query.upper().rstrip(";") not in ("BEGIN", "COMMIT", "ROLLBACK"):
            seen.append("[asyncpg] " + query)

    if not url.startswith("sqlite"):

        @event.listens_for(runtime.engine.sync_engine, "connect")
        def _log_raw(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            dbapi_connection.driver_connection.add_query_logger(_raw)

    async def one(sender: str, n: int) -> None:
        inbound = InboundMessage(
            channel=Channel.webchat,
            external_id=uuid.uuid4().hex,
            sender=sender,
            text=TEXT.format(n=n),
            thread_key=sender,
            sender_name="Bench",
        )
        async with runtime.sessionmaker.begin() as session:
            await runtime.ingest(session, inbound)

    senders = [f"bench-{uuid.uuid4().hex}" for _ in range(messages)]
    figures: dict[str, tuple[float, float, float]] = {}
    try:
        for case, who in (("new customer", None), ("follow-up", senders)):
            seen.clear()
            last = 0
            started, cpu = time.perf_counter(), time.process_time()
            for n in range(messages):
                last = len(seen)
                await one(who[n] if who else senders[n], n)
            took = (time.perf_counter() - started) / messages
            cpu = (time.process_time() - cpu) / messages
            figures[case] = (len(seen) / messages, took * 1000, cpu * 1000)
            if verbose:
                # The last one: the first of a run also creates what the gateway needs
                # once (the default queue), which no later ingest repeats.
                print(f"-- {case}: the last ingest's statements")
                for statement in seen[last:]:
                    print(f"   {statement[:150]}")
    finally:
        await runtime.close()
    return figures


async def run(*, messages: int = 50, sqlite: bool = False, verbose: bool = False) -> list[Row]:
    if sqlite:
        path = Path(tempfile.mkdtemp(prefix="parley-bench-")) / "parley.db"
        from gateway import migrate

        url = f"sqlite+aiosqlite:///{path}"
        await asyncio.to_thread(migrate.upgrade, url)
        figures = await count(url, messages, verbose)
    else:
        async with Database() as db:
            figures = await count(db.url, messages, verbose)
    backend = "SQLite" if sqlite else "PostgreSQL"
    return [
        Row(
            "ingest",
            f"statements per ingest, {case}, {backend}",
            statements,
            "statements",
            target="as few as it needs",
            notes=f"{messages} ingests in-process, one at a time: {ms:.1f} ms each (noisy), "
            f"{cpu:.2f} ms of gateway CPU each",
        )
        for case, (statements, ms, cpu) in figures.items()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    from _common import print_rows

    print_rows(asyncio.run(run(messages=args.messages, sqlite=args.sqlite, verbose=args.verbose)))


if __name__ == "__main__":
    main()
