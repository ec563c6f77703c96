"""Audit chain: what hash-chaining costs a write, and how fast `gateway audit verify` reads.

On a fresh PostgreSQL database: T cases, each with E events written one transaction
per event (the chain's head is read, under its advisory lock, at every flush), from C
concurrent writers; beside it the same rows written with the hash precomputed, so the
chain's own cost is the difference. Then the verification of every chain, in events/s.

    python bench/audit_chain.py [--cases 200] [--events 10] [--clients 8]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Database, Row, print_rows

from gateway import audit_chain
from gateway.audit import AuditEvent
from gateway.db import create_engine, create_sessionmaker


async def run(tickets: int, events: int, clients: int) -> list[Row]:
    async with Database() as db:
        # Events on the case chain of `tickets` distinct cases: a chain per key, as tickets.
        engine = create_engine(db.url)
        async with engine.begin() as conn:
            await conn.exec_driver_sql(
                "INSERT INTO dispute_case (order_ref, status, opened_at, updated_at) "
                f"SELECT 'bench-' || g, 'open', now(), now() FROM generate_series(1, {tickets}) g"
            )
            ids = [r[0] for r in (await conn.exec_driver_sql("SELECT id FROM dispute_case"))]
        await engine.dispose()

        plain = await _write_case(db.url, ids, events, clients, chained=False)
        chained = await _write_case(db.url, ids, events, clients, chained=True)
        engine = create_engine(db.url)
        sessions = create_sessionmaker(engine)
        started = time.perf_counter()
        async with sessions() as session:
            report = await audit_chain.verify(session)
        verify_s = time.perf_counter() - started
        await engine.dispose()
    return [
        Row(
            "audit_chain",
            f"write, chained ({clients} writers)",
            chained,
            "events/s",
            baseline=plain,
            baseline_label="same rows, hash precomputed",
        ),
        Row(
            "audit_chain",
            "verify every chain",
            report.events / verify_s,
            "events/s",
            notes=f"{report.events} events, {report.chains} chains, "
            f"{len(report.problems)} problems (the precomputed rows do not verify)",
        ),
    ]


async def _write_case(url: str, ids: list[int], events: int, clients: int, chained: bool) -> float:
    engine = create_engine(url, pool_size=clients)
    sessions = create_sessionmaker(engine)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for case_id in ids:
        for _ in range(events):
            queue.put_nowait(case_id)

    async def worker() -> None:
        while not queue.empty():
            case_id = queue.get_nowait()
            async with sessions.begin() as session:
                event = AuditEvent(
                    ticket_id=None, case_id=case_id, actor_type="system", action="bench.event"
                )
                if not chained:
                    event.prev_hash = event.hash = "0" * 64
                session.add(event)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    await engine.dispose()
    return len(ids) * events / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--events", type=int, default=10)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    print_rows(asyncio.run(run(args.cases, args.events, args.clients)))


if __name__ == "__main__":
    main()
