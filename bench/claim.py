"""Claims: K agents claim and resolve M tickets over HTTP, beside the bare SQL claim.

Seeds open tickets straight into PostgreSQL (generate_series, not the API), starts
`gateway serve` (`--workers P` with --processes), and has K agents loop over one
keep-alive connection each (bench/_rawhttp.py, a client that costs tens of
microseconds a request, not httpx's milliseconds): POST /api/v1/queues/general/claim;
at the first size a second phase also resolves each claim (POST
/api/v1/tickets/{ref}/status). Prints claims per second, claim latency p50/p99, and
whether any ticket was claimed twice (audit trail and clients both checked).
Baseline in the same run: the bare `FOR UPDATE SKIP LOCKED` claim statement from K
asyncpg connections. Repeats at each table size, topping the same table up, so the
cost growth with open tickets shows.

    python bench/claim.py [--agents 50] [--claims 2000] [--sizes 1000,100000,1000000]
                          [--processes 1]
    python bench/claim.py --statements [--claims 200] [--verbose]

`--statements` counts what one claim sends to PostgreSQL instead (BEGIN and COMMIT not
included), in-process through `queues.service.claim_now` as the claim route calls it:
the figure load cannot blur. It counts both SQLAlchemy's statements and any sent
straight on the asyncpg connection (its query logger).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import asyncpg

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
from _rawhttp import ConnectionClosed, RawHttp

QUEUE = "general"
CUSTOMERS = 1000
# Claims made by one agent alone at each size: the claim's own cost, without queueing.
ALONE = int(os.environ.get("PARLEY_BENCH_CLAIM_ALONE", "150"))

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
            # Messages the gateway wrote meanwhile (a resolved ticket's survey) hold ids
            # past the tickets', so the seeded ones are numbered after them.
            message_base = await conn.fetchval("SELECT coalesce(max(id), 0) FROM message")
            await conn.execute(
                """
                INSERT INTO message (id, ticket_id, channel, external_id, direction,
                    author_type, text, delivery_state, language, created_at)
                SELECT $3 + g - $1 + 1, g, 'webchat', 'seed-' || g, 'inbound', 'customer',
                    'I paid 250 USDT for order ' || g || ' and the seller did not release.',
                    'received', 'en', now()
                FROM generate_series($1::int, $2::int) g
                """,
                first,
                last,
                message_base,
            )
            for ddl in indexes:
                await conn.execute(ddl)
        await conn.execute(
            f"SELECT setval('ticket_id_seq', {last}); "
            "SELECT setval('message_id_seq', (SELECT max(id) FROM message));"
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
    gateways: list[Gateway], tokens: list[str], claims: int, *, resolve: bool = True
) -> tuple[float, list[float], int, list[str]]:
    """Agents claim (and with `resolve`, resolve) `claims` tickets, each agent over one
    keep-alive connection of the cheap client (bench/_rawhttp.py); (seconds, claim
    latencies, errors, refs)."""
    clients = [
        RawHttp.for_url(gateways[k % len(gateways)].url, {"Authorization": f"Bearer {t}"})
        for k, t in enumerate(tokens)
    ]
    refs: list[str] = []
    latencies: list[float] = []
    errors = 0
    remaining = claims

    def failed(what: str) -> None:
        nonlocal errors
        errors += 1
        if errors <= 3:
            print(f"  {what}", file=sys.stderr)

    async def agent(k: int) -> None:
        nonlocal remaining
        client = clients[k]
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            try:
                status, _h, body = await client.request("POST", f"/api/v1/queues/{QUEUE}/claim")
            except ConnectionClosed as exc:
                failed(f"claim: {exc}")
                continue
            if status != 200:
                failed(f"claim {status}: {body[:200]!r}")
                continue
            latencies.append(time.perf_counter() - started)
            ref = json.loads(body)["ref"]
            refs.append(ref)
            if not resolve:
                continue
            try:
                status, _h, body = await client.request(
                    "POST", f"/api/v1/tickets/{ref}/status", {"status": "resolved"}
                )
            except ConnectionClosed as exc:
                failed(f"resolve: {exc}")
                continue
            if status != 200:
                failed(f"resolve {status}: {body[:200]!r}")

    try:
        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(agent(k) for k in range(len(tokens))))
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
        print(
            f"  client CPU {100 * cpu / elapsed:.0f} % of one core "
            f"({1000 * cpu / max(len(latencies), 1):.2f} ms a claim)",
            file=sys.stderr,
        )
    finally:
        for c in clients:
            await c.close()
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


class ServeWorkers(Gateway):
    """`gateway serve --workers N`: N processes on one listening socket."""

    def __init__(self, database_url: str, work: Path, workers: int, **env: str):
        super().__init__(database_url, work, **env)
        self.workers = workers

    async def start(self) -> Gateway:
        if self.workers <= 1:
            return await super().start()
        with self.log_path.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "gateway", "serve", "--workers", str(self.workers),
                cwd=self.workdir, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        for _ in range(1200):
            if self.proc.returncode is not None:
                raise RuntimeError(f"gateway exited: see {self.log_path}")
            try:
                client = RawHttp.for_url(self.url)
                # Every worker answers before the run: ask more times than there are.
                for _ in range(4 * self.workers):
                    status, _h, _b = await client.request("GET", "/healthz")
                    await client.close()
                    if status != 200:
                        break
                else:
                    await asyncio.sleep(2)  # the later workers' warm-up
                    return self
            except (OSError, ConnectionClosed):
                pass
            await asyncio.sleep(0.1)
        raise RuntimeError(f"gateway did not become healthy: see {self.log_path}")

    def _pids(self) -> list[int]:
        if self.workers <= 1:
            return [self.pid]
        try:
            children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        except OSError:
            return [self.pid]
        return [int(c) for c in children]

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the serving processes have used so far. On a machine
        shared with other work this, per claim, is the figure that holds still."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in self._pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / ticks
        return total

    def peak_rss_mb(self) -> float | None:
        """The largest worker's high-water memory (the parent only waits)."""
        if self.workers <= 1:
            return super().peak_rss_mb()
        try:
            children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        except OSError:
            return None
        peaks = []
        for child in children:
            try:
                for line in Path(f"/proc/{child}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peaks.append(int(line.split()[1]) / 1024)
            except OSError:
                continue
        return max(peaks, default=None)


async def run(
    *,
    agents: int = 50,
    claims: int = 2000,
    sizes: list[int] | None = None,
    processes: int = 1,
    pool_size: int | None = None,
    resolve_phase: bool = True,
) -> list[Row]:
    """At each size: claims alone (the target's figure), then at the first size claims
    each followed by its resolve (what a desk does; the resolve costs more than the
    claim: SLA, CSAT survey, outbox), then one agent alone. `processes` > 1 runs
    `gateway serve --workers N` (one socket, the kernel spreads connections)."""
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
        label = f"{processes} process" + ("es (serve --workers)" if processes > 1 else "")
        for index, size in enumerate(sizes):
            with_resolve = index == 0 and resolve_phase
            # Every phase takes tickets: top up so at least `size` stay open throughout.
            want = size + (3 if with_resolve else 2) * claims + 2 * ALONE + 20
            have = await open_count(db.dsn)
            if want > have:
                seconds = await seed(db.dsn, seeded + 1, seeded + want - have)
                print(
                    f"seeded {want - have} tickets in {seconds:.1f} s ({load_line()})",
                    file=sys.stderr,
                )
                seeded += want - have
            gateway = ServeWorkers(db.url, work, processes, **env)
            phases: list[tuple[str, float, list[float], int, float]] = []
            refs: list[str] = []
            errors = 0
            try:
                await gateway.start()
                # Warm every process's pools and caches with a few claims first.
                await http_claims([gateway], tokens, 2 * len(tokens), resolve=False)
                for resolve in (False, True) if with_resolve else (False,):
                    cpu = gateway.cpu_seconds()
                    seconds, latencies, errs, got = await http_claims(
                        [gateway], tokens, claims, resolve=resolve
                    )
                    cpu = gateway.cpu_seconds() - cpu
                    phases.append(
                        ("resolve" if resolve else "claim", seconds, latencies, errs, cpu)
                    )
                    errors += errs
                    refs += got
                # One agent alone: the claim's own cost, without queueing behind 49 others,
                # which is what shows growth with the table's size.
                alone_cpu = gateway.cpu_seconds()
                _s, alone, alone_errors, alone_refs = await http_claims(
                    [gateway], tokens[:1], ALONE, resolve=False
                )
                # One request at a time: the CPU a claim costs with nothing to batch,
                # the A/B figure that the machine's load moves least.
                alone_cpu_ms = 1000 * (gateway.cpu_seconds() - alone_cpu) / max(len(alone), 1)
                errors += alone_errors
                refs += alone_refs
                rss = gateway.peak_rss_mb()
            finally:
                await gateway.stop()
            b_seconds, b_lat, b_ids = await sql_claims(db.dsn, agent_ids, claims)
            _s, sql_alone, alone_ids = await sql_claims(db.dsn, agent_ids[:1], ALONE)
            b_ids += alone_ids
            doubles = await double_claims(db.dsn)
            client_doubles = sum(1 for c in Counter(refs).values() if c > 1)
            doubles_sql = len(b_ids) - len(set(b_ids))
            p50_alone = pct(alone, 50)
            if p50_first is None:
                p50_first = p50_alone
            growth = (
                f"; one agent alone: gateway CPU {alone_cpu_ms:.2f} ms a claim, "
                f"p50 {p50_alone:.1f} ms = {p50_alone / p50_first:.2f}x "
                f"the first size's (bare SQL claim alone: p50 {pct(sql_alone, 50):.2f} ms)"
                if p50_alone and p50_first
                else ""
            )
            double = doubles + client_doubles + doubles_sql
            for kind, seconds, latencies, errs, cpu in phases:
                cpu_ms = 1000 * cpu / max(len(latencies), 1)
                case = f"{agents} agents, {size:,} open, {label}"
                if kind == "resolve":
                    case += ", each claim resolved"
                rows.append(
                    Row(
                        "claim",
                        case,
                        len(latencies) / seconds,
                        "claims/s",
                        baseline=len(b_ids) / b_seconds,
                        baseline_label="SQL claims/s",
                        p50_ms=pct(latencies, 50),
                        p95_ms=pct(latencies, 95),
                        p99_ms=pct(latencies, 99),
                        errors=errs + double,
                        peak_rss_mb=rss,
                        target=">= 1000/s, 0 double" if kind == "claim" else "",
                        notes=(
                            f"{len(latencies)} claims"
                            + (", each resolved over HTTP too" if kind == "resolve" else "")
                            + f"; gateway CPU {cpu_ms:.1f} ms a claim"
                            + (" with its resolve" if kind == "resolve" else "")
                            + f" ({100 * cpu / seconds:.0f} % of a core)"
                            + f"; double claims: {doubles} (audit), {client_doubles} "
                            f"(clients), {doubles_sql} (SQL); SQL claim p50 "
                            f"{pct(b_lat, 50):.2f} ms{growth}"
                        ),
                        extra={
                            "double_claims": double,
                            "p50_ms_one_agent": p50_alone,
                            "gateway_cpu_ms_per_claim": cpu_ms,
                            "gateway_cpu_ms_per_claim_alone": alone_cpu_ms,
                        },
                    )
                )
                print(
                    f"claim at {size:,} ({kind}): {len(latencies) / seconds:.0f}/s",
                    file=sys.stderr,
                )
    return rows


async def count_statements(claims: int, verbose: bool) -> list[Row]:
    """Statements per claim (BEGIN and COMMIT not included), in-process on PostgreSQL."""
    from sqlalchemy import event

    from gateway.agents.context import load_context
    from gateway.agents.dependencies import cache_trusted
    from gateway.logging import configure_logging
    from gateway.queues import repository as queues_repo
    from gateway.queues import service
    from gateway.runtime import Runtime
    from gateway.settings import Settings

    configure_logging("WARNING")
    seen: list[str] = []
    async with Database() as db:
        tokens, _ids = await create_agents(db.url, 1)
        await seed(db.dsn, 1, claims + 10)
        runtime = Runtime.from_settings(
            Settings(database={"url": db.url}, log={"level": "WARNING"})
        )
        engine = runtime.engine.sync_engine

        def logged(record: object) -> None:
            query = " ".join(str(getattr(record, "query", "")).split())
            if query.upper().rstrip(";") not in ("BEGIN", "COMMIT", "ROLLBACK"):
                seen.append("[asyncpg] " + query)

        @event.listens_for(engine, "connect")
        def _log_raw(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            dbapi_connection.driver_connection.add_query_logger(logged)

        @event.listens_for(engine, "before_cursor_execute")
        def _count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
            seen.append(" ".join(statement.split()))

        try:
            # As the claim route does on its first request: LISTEN for cache clearings
            # (only then do the token and subscriber caches answer).
            cache_trusted(runtime)
            for _ in range(100):
                if runtime.notifier.listening:
                    break
                await asyncio.sleep(0.05)
            async with runtime.sessionmaker.begin() as session:
                ctx = await load_context(session, tokens[0])
                queue_id = await queues_repo.queue_id_by_name(session, QUEUE)
            assert queue_id is not None
            # Warm: the process-wide caches (queue names, prepared statements) fill once.
            for _ in range(5):
                async with runtime.sessionmaker.begin() as session:
                    await service.claim_now(session, ctx, [queue_id])
            seen.clear()
            last = 0
            cpu = time.process_time()
            for _ in range(claims):
                last = len(seen)
                async with runtime.sessionmaker.begin() as session:
                    assert await service.claim_now(session, ctx, [queue_id]) is not None
            cpu = time.process_time() - cpu
            if verbose:
                print("-- the last claim's statements", file=sys.stderr)
                for statement in seen[last:]:
                    print(f"   {statement[:160]}", file=sys.stderr)
        finally:
            await runtime.close()
    return [
        Row(
            "claim",
            "statements per claim, PostgreSQL",
            len(seen) / claims,
            "statements",
            target="as few as it needs",
            notes=(
                f"{claims} claims in-process through claim_now, BEGIN/COMMIT not counted; "
                f"client CPU {1000 * cpu / claims:.2f} ms a claim (no HTTP, no token check)"
            ),
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--claims", type=int, default=2000)
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--pool-size", type=int, default=None)
    parser.add_argument(
        "--no-resolve", action="store_true", help="skip the claim-and-resolve phase (A/B runs)"
    )
    parser.add_argument("--statements", action="store_true", help="count statements a claim")
    parser.add_argument("--verbose", action="store_true", help="with --statements: list them")
    args = parser.parse_args()
    if args.statements:
        print_rows(asyncio.run(count_statements(min(args.claims, 500), args.verbose)))
        return
    rows = asyncio.run(
        run(
            agents=args.agents,
            claims=args.claims,
            sizes=[int(s) for s in args.sizes.split(",")],
            processes=args.processes,
            pool_size=args.pool_size,
            resolve_phase=not args.no_resolve,
        )
    )
    print_rows(rows)


if __name__ == "__main__":
    main()
