"""Loss report on a million decided cases: bulk fill on PostgreSQL, then every report.

    python bench/losses.py [--cases 1000000] [--dsn postgresql://...] [--runs 3] [--keep]

Creates its own database (migrated to head) and drops it at the end. The cases are
synthetic: generate_series fills dispute_case, case_decision and case_loss in three
INSERT ... SELECT statements (no round trip per row) with figures and dimensions spread
over a year: 6 categories, 12 payment methods, 8 fiat currencies, 4 assets, 3 channels,
9 languages, 6 queues, chargeback reason codes. Each report is then built through the
same code as GET /api/v1/reports/losses (gateway.reports.report.build), timed `--runs`
times; the median and the best are printed, with the target of 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DEFAULT_DSN, Database, load_line

from gateway.agents.models import Role
from gateway.agents.service import create_agent
from gateway.reports import report
from gateway.runtime import Runtime
from gateway.settings import Settings

NOW = datetime(2026, 12, 1, tzinfo=UTC)
YEAR_SECONDS = 365 * 24 * 3600
TARGET_S = 1.0
REPORTS = [
    ["week"],
    ["category"],
    ["payment_method"],
    ["fiat_currency"],
    ["asset"],
    ["channel"],
    ["language"],
    ["queue"],
    ["reason_code"],
    ["week", "category"],
    ["week", "payment_method"],
    ["category", "payment_method", "fiat_currency"],
    list(report.DIMENSIONS),
]

CASES = """
INSERT INTO dispute_case (id, order_ref, status, opened_at, decided_at, updated_at)
SELECT g, 'bench-' || g, 'decided', t - interval '2 days', t, t
FROM (SELECT g, $1::timestamptz - make_interval(secs => (g::bigint * 7919) % {year}) AS t
      FROM generate_series(1, $2::int) AS g) AS s
"""
DECISIONS = """
INSERT INTO case_decision (id, case_id, outcome, reason, decided_by, decided_at, appeal_until)
SELECT id, id, 'return_to_seller', 'synthetic', $1::int, decided_at, decided_at + interval '3 days'
FROM dispute_case
"""
LOSSES = """
INSERT INTO case_loss (
    id, case_id, decision_id, set_by, set_at, currency, in_dispute, lost_buyer, lost_seller,
    lost_exchange, recovered, reporting_currency, rate, rate_date, in_dispute_minor,
    lost_buyer_minor, lost_seller_minor, lost_exchange_minor, recovered_minor,
    chargeback_network, reason_code, chargeback_due_by, decided_at, week, category,
    payment_method, asset, channel, language, queue)
SELECT g, g, g, $1::int, t, cur, d / 100.0, b / 100.0, s / 100.0, e / 100.0, r / 100.0,
       'USD', 1, NULL, d, b, s, e, r,
       CASE WHEN cat = 'chargeback' THEN
            CASE WHEN rc LIKE '48%' THEN 'mastercard' ELSE 'visa' END END,
       CASE WHEN cat = 'chargeback' THEN rc END,
       CASE WHEN cat = 'chargeback' THEN (t + interval '20 days')::date END,
       t, date_trunc('week', t AT TIME ZONE 'UTC')::date, cat,
       (ARRAY['SEPA','SWIFT','card','Wise','Revolut','PIX','UPI','bank_transfer',
              'Payoneer','Zelle','PayPal','cash_deposit'])[1 + (g * 17) % 12],
       (ARRAY['USDT','BTC','ETH','USDC'])[1 + (g * 13) % 4],
       (ARRAY['email','telegram','webchat'])[1 + (g * 11) % 3],
       (ARRAY['en','ru','zh','vi','id','tr','es','pt','ar'])[1 + (g * 7) % 9],
       (ARRAY['general','ru','critical','escalation','risk','chargebacks'])[1 + (g * 5) % 6]
FROM (
    SELECT g, t, cat, cur, rc, d, b, s, e, LEAST(r, b + s + e) AS r
    FROM (
        SELECT g, dc.decided_at AS t,
               (ARRAY['crypto_not_released','payment_not_received','chargeback',
                      'fraud_or_scam','account_frozen','other'])[1 + (g * 31) % 6] AS cat,
               (ARRAY['EUR','USD','GBP','BRL','INR','TRY','RUB','VND'])[1 + (g * 3) % 8] AS cur,
               (ARRAY['10.4','13.1','13.3','12.6','4837','4853'])[1 + (g * 29) % 6] AS rc,
               10000 + (g::bigint * 7877) % 500000 AS d,
               CASE WHEN g % 3 = 0 THEN (g::bigint * 389) % 10000 ELSE 0 END AS b,
               CASE WHEN g % 3 = 1 THEN (g::bigint * 397) % 10000 ELSE 0 END AS s,
               CASE WHEN g % 4 = 0 THEN (g::bigint * 401) % 10000 ELSE 0 END AS e,
               CASE WHEN g % 5 = 0 THEN (g::bigint * 409) % 3000 ELSE 0 END AS r
        FROM dispute_case AS dc, LATERAL (SELECT dc.id AS g) AS ids
    ) AS raw
) AS figures
"""


async def fill(dsn: str, cases: int, agent_id: int) -> float:
    started = time.perf_counter()
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SET TIME ZONE 'UTC'")
        async with conn.transaction():
            await conn.execute(CASES.format(year=YEAR_SECONDS), NOW, cases)
            await conn.execute(DECISIONS, agent_id)
            await conn.execute(LOSSES, agent_id)
        for table in ("dispute_case", "case_decision", "case_loss"):
            await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {cases})")
        await conn.execute("VACUUM ANALYZE case_loss")
    finally:
        await conn.close()
    return time.perf_counter() - started


async def time_reports(runtime: Runtime, runs: int) -> list[tuple[str, str, float, float, int]]:
    windows = {
        "last 8 weeks": (NOW - timedelta(weeks=8), NOW),
        "whole year": (NOW - timedelta(days=366), NOW),
    }
    rows = []
    for label, (start, end) in windows.items():
        for group_by in REPORTS:
            times = []
            for _ in range(runs):
                began = time.perf_counter()
                async with runtime.sessionmaker() as session:
                    built = await report.build(
                        session, start=start, end=end, group_by=group_by, currency="USD"
                    )
                times.append(time.perf_counter() - began)
            rows.append(
                (
                    label,
                    ",".join(group_by),
                    statistics.median(times),
                    min(times),
                    built.totals.cases,
                )
            )
    return rows


async def main(args: argparse.Namespace) -> int:
    print(f"loss report bench: {args.cases:,} cases; {load_line()}")
    async with Database(args.dsn, keep=args.keep) as db:
        settings = Settings(database={"url": db.url, "pool_size": 1, "max_overflow": 1})  # type: ignore[arg-type]
        runtime = Runtime.from_settings(settings)
        try:
            async with runtime.sessionmaker.begin() as session:
                agent, _token = await create_agent(
                    session, name="bench", role=Role.supervisor, languages=[], queues=[]
                )
            took = await fill(db.dsn, args.cases, agent.id)  # type: ignore[arg-type]
            print(f"filled {args.cases:,} decided cases with loss figures in {took:.1f} s")
            rows = await time_reports(runtime, args.runs)
        finally:
            await runtime.close()
    width = max(len(r[1]) for r in rows)
    print(
        f"{'window':<13} {'group_by':<{width}} {'median s':>9} {'best s':>7} {'cases':>9}  target"
    )
    over = 0
    for label, group_by, median, best, counted in rows:
        verdict = "ok" if median < TARGET_S else "OVER"
        over += verdict == "OVER"
        print(
            f"{label:<13} {group_by:<{width}} {median:>9.3f} {best:>7.3f} {counted:>9,}  {verdict}"
        )
    print(
        f"{len(rows) - over} of {len(rows)} reports under {TARGET_S:.0f} s (median of {args.runs})"
    )
    return 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--dsn", default=DEFAULT_DSN, help="an admin DSN that may CREATE DATABASE")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
