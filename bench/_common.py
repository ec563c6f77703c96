"""What every Parley benchmark shares: a throwaway PostgreSQL database, `gateway serve`
processes with their peak memory, percentiles, the machine's load, and result rows.

Figures are printed beside a baseline measured in the same run, because the machines
are shared and noisy: the ratio means more than any absolute time.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

DEFAULT_DSN = os.environ.get("PARLEY_BENCH_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


@dataclass
class Row:
    """One measured figure beside its same-run baseline (when it has one)."""

    bench: str
    case: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_label: str = ""
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    errors: int = 0
    peak_rss_mb: float | None = None
    target: str = ""
    notes: str = ""
    measured: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        return self.value / self.baseline if self.baseline else None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"ratio": self.ratio}


def machine() -> dict[str, Any]:
    """What the figures were measured on, including how busy it was at the start."""
    load = os.getloadavg()
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_at_start": [round(x, 2) for x in load],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def pct(samples: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) of samples in seconds, as milliseconds."""
    if not samples:
        return None
    if len(samples) == 1:
        return samples[0] * 1000
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[int(q) - 1] * 1000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load_line() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


# --- databases -----------------------------------------------------------------------


class Database:
    """A fresh PostgreSQL database for one run: created here, dropped at the end."""

    def __init__(self, admin_dsn: str = DEFAULT_DSN, keep: bool = False):
        self.admin_dsn = admin_dsn
        self.name = f"parley_bench_{uuid.uuid4().hex[:10]}"
        self.keep = keep
        base = admin_dsn.rsplit("/", 1)[0]
        self.dsn = f"{base}/{self.name}"
        self.url = self.dsn.replace("postgresql://", "postgresql+asyncpg://", 1)

    async def __aenter__(self) -> Database:
        conn = await asyncpg.connect(self.admin_dsn)
        try:
            await conn.execute(f'CREATE DATABASE "{self.name}"')
        finally:
            await conn.close()
        from gateway import migrate

        await asyncio.to_thread(migrate.upgrade, self.url)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self.keep:
            print(f"kept database {self.name}", file=sys.stderr)
            return
        conn = await asyncpg.connect(self.admin_dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        finally:
            await conn.close()


async def insert_baseline(dsn: str, count: int, clients: int) -> tuple[float, list[float]]:
    """The floor under any ingest: `count` single-row INSERTs, each its own transaction
    (autocommit), from `clients` connections. Returns (seconds, per-insert latencies)."""
    pool = await asyncpg.create_pool(dsn, min_size=clients, max_size=clients)
    assert pool is not None
    try:
        await pool.execute(
            "CREATE TABLE IF NOT EXISTS bench_row "
            "(id bigserial PRIMARY KEY, body text NOT NULL, created_at timestamptz DEFAULT now())"
        )
        latencies: list[float] = []
        next_n = iter(range(count))

        async def worker() -> None:
            async with pool.acquire() as conn:
                for n in next_n:
                    started = time.perf_counter()
                    await conn.execute("INSERT INTO bench_row (body) VALUES ($1)", f"row {n}")
                    latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        return time.perf_counter() - started, latencies
    finally:
        await pool.close()


# --- gateway processes ---------------------------------------------------------------


# `gateway serve` with uvloop swapped out for the stdlib loop (gateway/server.py).
STDLIB_LOOP_SERVE = (
    "import asyncio, sys; from gateway import server; server.run_serving = asyncio.run; "
    "from gateway.__main__ import main; sys.exit(main(['serve']))"
)


class Gateway:
    """`python -m gateway serve` as an operator starts it, on a free port."""

    def __init__(self, database_url: str, workdir: Path, *, stdlib_loop: bool = False, **env: str):
        # stdlib_loop: serve on asyncio's own loop instead of uvloop (to measure uvloop).
        self.stdlib_loop = stdlib_loop
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workdir = workdir
        self.log_path = workdir / f"gateway-{self.port}.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")},
            "PYTHONPATH": str(REPO),
            "GATEWAY_DATABASE_URL": database_url,
            "GATEWAY_HTTP_PORT": str(self.port),
            "GATEWAY_SMTP_PORT": "0",
            "GATEWAY_BLOB_DIR": str(workdir / "blobs"),
            "GATEWAY_LOG_LEVEL": "WARNING",
            "GATEWAY_WEBCHAT_ALLOWED_ORIGINS": '["*"]',
            **env,
        }
        self.proc: asyncio.subprocess.Process | None = None
        self.profiler: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def start(self) -> Gateway:
        with self.log_path.open("ab") as log:
            command = ["-m", "gateway", "serve"]
            if self.stdlib_loop:
                command = ["-c", STDLIB_LOOP_SERVE]
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                *command,
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        async with httpx.AsyncClient() as client:
            for _ in range(600):
                if self.proc.returncode is not None:
                    raise RuntimeError(f"gateway exited: see {self.log_path}")
                try:
                    if (await client.get(f"{self.url}/healthz")).status_code == 200:
                        await self._profile()
                        return self
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"gateway did not become healthy in 60 s: see {self.log_path}")

    async def _profile(self) -> None:
        """With PARLEY_BENCH_PYSPY=<file>, sample the server with py-spy (collapsed stacks)
        until it stops: `python bench/profile_report.py <file>` summarises them."""
        target = os.environ.get("PARLEY_BENCH_PYSPY")
        if not target:
            return
        self.profiler = await asyncio.create_subprocess_exec(
            "py-spy", "record", "--pid", str(self.pid), "--format", "raw", "--rate", "200",
            "--output", f"{target}.{self.port}", "--nonblocking",
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def peak_rss_mb(self) -> float | None:
        """The process's high-water resident memory (VmHWM), in MB."""
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            return None
        return None

    def cpu_seconds(self) -> float:
        """CPU time the process has used so far (user + system): per message, the figure
        a busy machine blurs least, since waiting for a core is not counted."""
        return process_cpu_seconds(self.pid)

    def errors_logged(self) -> int:
        """Lines at error level or worse in the process's log."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return 0
        return sum(1 for line in text.splitlines() if '"level": "error"' in line)

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        if self.profiler is not None:
            self.profiler.send_signal(signal.SIGINT)
            await self.profiler.wait()
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), 20)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


def process_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) process `pid` has used so far; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def backend_cpu_seconds(dsn: str) -> dict[int, float]:
    """CPU time so far of each PostgreSQL backend connected to `dsn`'s database (this
    query's own excepted), by pid: the server's share of a run, when it runs here."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await conn.close()
    return {row["pid"]: process_cpu_seconds(row["pid"]) for row in rows}


def workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="parley-bench-"))


async def closed_loop(
    count: int, clients: int, send: Callable[[int, int], Awaitable[None]]
) -> tuple[float, list[float], int]:
    """`clients` workers send `count` items back to back (send(worker, n)).
    Returns (seconds, latencies of the successes, errors)."""
    latencies: list[float] = []
    errors = 0
    next_n = iter(range(count))

    async def worker(w: int) -> None:
        nonlocal errors
        for n in next_n:
            started = time.perf_counter()
            try:
                await send(w, n)
            except Exception as exc:
                errors += 1
                if errors <= 3:
                    print(f"  error: {type(exc).__name__}: {exc}", file=sys.stderr)
                continue
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(clients)))
    return time.perf_counter() - started, latencies, errors


async def open_loop(
    count: int, rate: float, send: Callable[[int, int], Awaitable[None]], max_in_flight: int
) -> tuple[float, list[float], int]:
    """Send `count` items at a fixed `rate` per second regardless of answers (so latency
    shows queueing), never more than `max_in_flight` at once (send(slot, n))."""
    latencies: list[float] = []
    errors = 0
    slots: asyncio.Queue[int] = asyncio.Queue()
    for s in range(max_in_flight):
        slots.put_nowait(s)

    async def one(n: int, slot: int, due: float) -> None:
        nonlocal errors
        try:
            await send(slot, n)
            latencies.append(time.perf_counter() - due)
        except Exception:
            errors += 1
        finally:
            slots.put_nowait(slot)

    tasks: list[asyncio.Task[None]] = []
    started = time.perf_counter()
    for n in range(count):
        due = started + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        slot = await slots.get()
        tasks.append(asyncio.create_task(one(n, slot, due)))
    await asyncio.gather(*tasks)
    return time.perf_counter() - started, latencies, errors


# --- output --------------------------------------------------------------------------


def _fmt(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def markdown(rows: Sequence[Row]) -> str:
    head = (
        "| bench | case | result | baseline (same run) | ratio | p50 ms | p95 ms | p99 ms "
        "| errors | peak RSS MB | target |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for r in rows:
        base = f"{_fmt(r.baseline)} {r.baseline_label}".strip() if r.baseline else "-"
        result = f"{_fmt(r.value)} {r.unit}" if r.measured else "not measured"
        ratio = "-" if r.ratio is None else f"{r.ratio:.{2 if r.ratio >= 0.1 else 3}f}x"
        lines.append(
            f"| {r.bench} | {r.case} | {result} | {base} | {ratio} "
            f"| {_fmt(r.p50_ms)} | {_fmt(r.p95_ms)} | {_fmt(r.p99_ms)} | {r.errors} "
            f"| {_fmt(r.peak_rss_mb, 0)} | {r.target} |"
        )
    return head + "\n".join(lines) + "\n"


def print_rows(rows: Sequence[Row]) -> None:
    print(markdown(rows))
    for r in rows:
        if r.notes:
            print(f"- {r.bench} / {r.case}: {r.notes}")


def write_json(path: Path, rows: Sequence[Row], info: dict[str, Any]) -> None:
    path.write_text(
        json.dumps({"machine": info, "rows": [r.as_dict() for r in rows]}, indent=2) + "\n"
    )
