"""Claims: K agents claim and resolve M tickets over HTTP, beside the bare SQL claim.

Seeds open tickets straight into PostgreSQL (generate_series, not the API), starts
`gateway serve` (P processes sharing the database with --processes, as the design
allows), and has K agents loop: POST /api/v1/queues/general/claim, then POST
/api/v1/tickets/{ref}/status resolved. Prints claims per second (each with its
resolve), claim latency p50/p99, and whether any ticket was claimed twice (audit trail
and clients both checked). Baseline in the same run: the bare `FOR UPDATE SKIP LOCKED`
claim statement from K asyncpg connections. Repeats at each table size, topping the
same table up, so the cost growth with open tickets shows.

    python bench/claim.py [--agents 50] [--claims 2000] [--sizes 1000,100000,1000000]
                          [--processes 1]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from pathlib import Path

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    Database,
    Gateway,
    Row,
    closed_loop,
    load_line,
    pct,
    print_rows,
    workdir,
)

QUEUE = "general"
CUSTOMERS = 1000
# Claims made by one agent alone at each size: the claim's own cost, without queueing.
ALONE = 150

CLAIM_SQL = """
UPDATE ticket SET assignee_id = $2, assigned_at = now(), agent_touched_at = now(),
       updated_at = now(), status = CASE WHEN status = 'new' THEN 'open' ELSE status END
WHERE id = (
    SELECT id FROM ticket
    WHERE queue_id = $1 AND assignee_id IS NULL AND status IN ('new', 'open', 'escalated')
    ORDER BY severity_rank, first_response_due, id
    LIMIT 1 FOR UPDATE SKIP LOCKED
)
RETURNING id
"""


async def create_agents(url: str, count: int) -> tuple[list[str], list[int]]:
    """`count` agents in the general queue, with room to hold every claim; their tokens."""
    from gateway.agents.service import create_agent
    from gateway.runtime import Runtime
    from gateway.settings import Settings

    runtime = Runtime.from_settings(Settings(database={"url": url}))
    tokens, ids = [], []
    try:
        async with runtime.sessionmaker.begin() as session:
            for k in range(count):
                agent, token = await create_agent(
                    session, name=f"bench-agent-{k}", queues=[QUEUE], capacity=100_000
                )
                tokens.append(token)
                ids.append(agent.id)  # type: ignore[arg-type]
    finally:
        await runtime.close()
    return tokens, ids


async def seed(dsn: str, first: int, last: int) -> float:
    """Tickets `first`..`last` (ids), open and unassigned, each with one customer message,
    spread over CUSTOMERS customers and the four severities. Returns seconds taken."""
    started = time.perf_counter()
    conn = await asyncpg.connect(dsn)
    try:
        queue_id = await conn.fetchval("SELECT id FROM queue WHERE name = $1", QUEUE)
        if not await conn.fetchval("SELECT count(*) FROM customer"):
            await conn.execute(
                """
                INSERT INTO customer (id, display_name, flags, created_at)
                SELECT g, 'Customer ' || g, '{}'::jsonb, now() FROM generate_series(1, $1) g;
                """.replace("$1", str(CUSTOMERS))
            )
            await conn.execute(
                f"""
                INSERT INTO channel_identity (id, customer_id, channel, address, verified,
                                              unreachable, created_at)
                SELECT g, g, 'webchat', 'seed-visitor-' || g, false, false, now()
                FROM generate_series(1, {CUSTOMERS}) g;
                SELECT setval('customer_id_seq', {CUSTOMERS});
                SELECT setval('channel_identity_id_seq', {CUSTOMERS});
                """
            )
        big = last - first > 50_000
        async with conn.transaction():
            # The rows are consistent by construction; skipping the per-row FK triggers
            # (and building the secondary indexes once, after) makes a million rows take
            # seconds instead of minutes.
            await conn.execute("SET LOCAL session_replication_role = replica")
            indexes: list[str] = []
            if big:
                indexes = [
                    r["indexdef"]
                    for r in await conn.fetch(
                        """SELECT i.indexname, i.indexdef FROM pg_indexes i
                           WHERE i.tablename IN ('ticket', 'message')
                             AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                                             WHERE c.conname = i.indexname)"""
                    )
                ]
                for ddl in indexes:
                    await conn.execute(f"DROP INDEX {ddl.split()[2]}")
            await conn.execute(
                """
                INSERT INTO ticket (id, customer_id, identity_id, channel, thread_key, subject,
                    status, severity, severity_rank, language, category, queue_id,
                    escalation_level, routing_reasons, needs_attention, first_response_due,
                    resolution_due, last_customer_message_at, created_at, updated_at)
                SELECT g, 1 + g % $3, 1 + g % $3, 'webchat', 'seed-visitor-' || (1 + g % $3),
                    'Order ' || g || ': crypto not released', 'new',
                    (ARRAY['critical','high','high','high','normal','normal','normal','normal',
                           'normal','normal','normal','normal','normal','normal','normal',
                           'normal','normal','normal','low','low'])[1 + g % 20],
                    (ARRAY[0,1,1,1,2,2,2,2,2,2,2,2,2,2,2,2,2,2,3,3])[1 + g % 20],
                    'en', 'crypto_not_released', $4, 0, '[]'::jsonb, false,
                    now() + make_interval(secs => g % 7200), now() + interval '1 day',
                    now(), now(), now()
                FROM generate_series($1::int, $2::int) g
                """,
                first,
                last,
                CUSTOMERS,
                queue_id,
            )
            await conn.execute(
                """
                INSERT INTO message (id, ticket_id, channel, external_id, direction,
                    author_type, text, delivery_state, language, created_at)
                SELECT g, g, 'webchat', 'seed-' || g, 'inbound', 'customer',
                    'I paid 250 USDT for order ' || g || ' and the seller did not release.',
                    'received', 'en', now()
                FROM generate_series($1::int, $2::int) g
                """,
                first,
                last,
            )
            for ddl in indexes:
                await conn.execute(ddl)
        await conn.execute(
            f"SELECT setval('ticket_id_seq', {last}); SELECT setval('message_id_seq', {last});"
        )
        await conn.execute("ANALYZE ticket; ANALYZE message")
    finally:
        await conn.close()
    return time.perf_counter() - started


async def open_count(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM ticket WHERE assignee_id IS NULL "
                "AND status IN ('new', 'open', 'escalated')"
            )
        )
    finally:
        await conn.close()


async def http_claims(
    gateways: list[Gateway], tokens: list[str], claims: int
) -> tuple[float, list[float], int, list[str]]:
    """Agents claim and resolve `claims` tickets; (seconds, claim latencies, errors, refs)."""
    clients = [
        httpx.AsyncClient(
            base_url=g.url,
            timeout=60,
            limits=httpx.Limits(max_connections=len(tokens), max_keepalive_connections=len(tokens)),
        )
        for g in gateways
    ]
    refs: list[str] = []
    latencies: list[float] = []
    errors = 0
    remaining = claims

    async def agent(k: int) -> None:
        nonlocal remaining, errors
        client = clients[k % len(clients)]
        headers = {"Authorization": f"Bearer {tokens[k]}"}
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            r = await client.post(f"/api/v1/queues/{QUEUE}/claim", headers=headers)
            if r.status_code != 200:
                errors += 1
                if errors <= 3:
                    print(f"  claim {r.status_code}: {r.text[:200]}", file=sys.stderr)
                continue
            latencies.append(time.perf_counter() - started)
            ref = r.json()["ref"]
            refs.append(ref)
            r = await client.post(
                f"/api/v1/tickets/{ref}/status", json={"status": "resolved"}, headers=headers
            )
            if r.status_code != 200:
                errors += 1
                if errors <= 3:
                    print(f"  resolve {r.status_code}: {r.text[:200]}", file=sys.stderr)

    try:
        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(agent(k) for k in range(len(tokens))))
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
        print(f"  client CPU {100 * cpu / elapsed:.0f} % of one core", file=sys.stderr)
    finally:
        for c in clients:
            await c.aclose()
    return elapsed, latencies, errors, refs


async def sql_claims(
    dsn: str, agent_ids: list[int], claims: int
) -> tuple[float, list[float], list[int]]:
    """The bare claim statement, autocommit, from one connection per agent."""
    pool = await asyncpg.create_pool(dsn, min_size=len(agent_ids), max_size=len(agent_ids))
    assert pool is not None
    claimed: list[int] = []
    try:
        queue_id = await pool.fetchval("SELECT id FROM queue WHERE name = $1", QUEUE)

        async def send(k: int, _n: int) -> None:
            async with pool.acquire() as conn:
                ticket_id = await conn.fetchval(CLAIM_SQL, queue_id, agent_ids[k])
            if ticket_id is None:
                raise RuntimeError("no ticket left to claim")
            claimed.append(ticket_id)

        seconds, latencies, _errors = await closed_loop(claims, len(agent_ids), send)
    finally:
        await pool.close()
    return seconds, latencies, claimed


async def double_claims(dsn: str) -> int:
    """Tickets the audit trail shows claimed more than once (resolved ones never reopen)."""
    conn = await asyncpg.connect(dsn)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM (SELECT ticket_id FROM audit_event "
                "WHERE action = 'ticket.claimed' GROUP BY ticket_id HAVING count(*) > 1) d"
            )
        )
    finally:
        await conn.close()


async def run(
    *,
    agents: int = 50,
    claims: int = 2000,
    sizes: list[int] | None = None,
    processes: int = 1,
    pool_size: int | None = None,
) -> list[Row]:
    sizes = sizes or [1000, 100_000, 1_000_000]
    rows: list[Row] = []
    work = workdir()
    async with Database() as db:
        tokens, agent_ids = await create_agents(db.url, agents)
        env = {"GATEWAY_SMTP_PORT": "0"}
        if pool_size:
            env["GATEWAY_DATABASE_POOL_SIZE"] = str(pool_size)
        seeded = 0
        p50_first: float | None = None
        for size in sizes:
            # Both phases take tickets: top up so at least `size` stay open throughout.
            want = size + 2 * claims + 2 * ALONE + 20
            have = await open_count(db.dsn)
            if want > have:
                seconds = await seed(db.dsn, seeded + 1, seeded + want - have)
                print(
                    f"seeded {want - have} tickets in {seconds:.1f} s ({load_line()})",
                    file=sys.stderr,
                )
                seeded += want - have
            gateways: list[Gateway] = []
            try:
                for _ in range(processes):
                    gateways.append(await Gateway(db.url, work, **env).start())
                # Warm every process's pools and caches with a few claims first.
                await http_claims(gateways, tokens[: 2 * processes], 4 * processes)
                seconds, latencies, errors, refs = await http_claims(gateways, tokens, claims)
                # One agent alone: the claim's own cost, without queueing behind 49 others,
                # which is what shows growth with the table's size.
                _s, alone, alone_errors, alone_refs = await http_claims(gateways, tokens[:1], ALONE)
                errors += alone_errors
                refs += alone_refs
                rss = max((g.peak_rss_mb() or 0) for g in gateways)
            finally:
                for g in gateways:
                    await g.stop()
            b_seconds, b_lat, b_ids = await sql_claims(db.dsn, agent_ids, claims)
            _s, sql_alone, alone_ids = await sql_claims(db.dsn, agent_ids[:1], ALONE)
            b_ids += alone_ids
            doubles = await double_claims(db.dsn)
            client_doubles = sum(1 for c in Counter(refs).values() if c > 1)
            doubles_sql = len(b_ids) - len(set(b_ids))
            p50, p50_alone = pct(latencies, 50), pct(alone, 50)
            if p50_first is None:
                p50_first = p50_alone
            growth = (
                f"; one agent alone: p50 {p50_alone:.1f} ms = {p50_alone / p50_first:.2f}x "
                f"the first size's (bare SQL claim alone: p50 {pct(sql_alone, 50):.2f} ms)"
                if p50_alone and p50_first
                else ""
            )
            rows.append(
                Row(
                    "claim",
                    f"{agents} agents, {size:,} open, {processes} process"
                    + ("es" if processes > 1 else ""),
                    len(latencies) / seconds,
                    "claims/s",
                    baseline=len(b_ids) / b_seconds,
                    baseline_label="SQL claims/s",
                    p50_ms=p50,
                    p95_ms=pct(latencies, 95),
                    p99_ms=pct(latencies, 99),
                    errors=errors + doubles + client_doubles + doubles_sql,
                    peak_rss_mb=rss,
                    target=">= 1000/s, 0 double",
                    notes=(
                        f"{len(latencies)} claims, each resolved over HTTP too; double claims: "
                        f"{doubles} (audit), {client_doubles} (clients), {doubles_sql} (SQL); "
                        f"SQL claim p50 {pct(b_lat, 50):.2f} ms{growth}"
                    ),
                    extra={
                        "double_claims": doubles + client_doubles + doubles_sql,
                        "p50_ms_one_agent": p50_alone,
                    },
                )
            )
            print(f"claim at {size:,}: {len(latencies) / seconds:.0f}/s", file=sys.stderr)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--claims", type=int, default=2000)
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--pool-size", type=int, default=None)
    args = parser.parse_args()
    rows = asyncio.run(
        run(
            agents=args.agents,
            claims=args.claims,
            sizes=[int(s) for s in args.sizes.split(",")],
            processes=args.processes,
            pool_size=args.pool_size,
        )
    )
    print_rows(rows)


if __name__ == "__main__":
    main()
