"""Every Parley benchmark with sizes that finish in minutes on a 2-core machine: one
Markdown table (every figure beside its same-run baseline), also written as JSON.

    python bench/run_all.py [--quick] [--json bench/results.json] [--markdown bench/RESULTS.md]
                            [--claim-sizes 1000,100000,1000000] [--processes 1]
                            [--driver auto|wrk|python] [--seconds 15]

Each row is printed as soon as its bench finishes, and the JSON (and Markdown) file is
rewritten after every bench: a crash loses nothing measured before it, and a bench that
raises becomes a row that says so. The ingest load comes from wrk when it is installed
(`sh .ci/install-wrk.sh`), see bench/ingest_wrk.py.

The machines are shared: compare the ratios within one run, not absolute figures
across runs.

Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth) or PARLEY_BENCH_DSN;
each bench creates its own database and drops it at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import claim
import deliver
import ingest
import ingest_statements
from _common import Row, machine, markdown, write_json

HERE = Path(__file__).resolve().parent


Step = tuple[str, Callable[[], Awaitable[list[Row]]]]


def steps(args: argparse.Namespace) -> list[Step]:
    """Every bench of the run, in order, each one call that returns its rows."""
    quick = args.quick
    messages = 300 if quick else args.messages
    seconds = 5.0 if quick else args.seconds
    common = {"clients": args.clients, "driver": args.driver, "seconds": seconds}
    out: list[Step] = [
        # Counted, not timed: the one ingest figure the machine's load cannot blur.
        ("ingest statements", lambda: ingest_statements.run(messages=30)),
        (
            "ingest",
            lambda: ingest.run(
                messages=messages, surfaces=["webchat", "smtp", "telegram"], **common
            ),
        ),
        # The same webchat load on the stdlib event loop: what uvloop gives.
        (
            "ingest, stdlib loop",
            lambda: ingest.run(
                messages=messages,
                surfaces=["webchat"],
                half_rate=False,
                stdlib_loop=True,
                label=", stdlib asyncio loop",
                **common,
            ),
        ),
    ]
    if args.sqlite:
        out.append(
            (
                "ingest, SQLite",
                lambda: ingest.run(
                    messages=messages, surfaces=["webchat"], sqlite=True, half_rate=False, **common
                ),
            )
        )
    sizes = [1000, 100_000] if quick else [int(s) for s in args.claim_sizes.split(",")]
    claims = 300 if quick else args.claims
    out.append(
        ("claim", lambda: claim.run(agents=args.agents, claims=claims, sizes=sizes, processes=1))
    )
    if args.processes > 1:
        # The design allows many gateway processes on one database: the same claims
        # spread over several, at the smallest size.
        out.append(
            (
                "claim, processes",
                lambda: claim.run(
                    agents=args.agents, claims=claims, sizes=[1000], processes=args.processes
                ),
            )
        )
    out.append(("deliver", lambda: deliver.run(replies=300 if quick else args.replies)))
    return out


async def run_all(args: argparse.Namespace, info: dict[str, object]) -> list[Row]:
    """Run every step; print each row as it completes and rewrite the JSON (and the
    Markdown) after each step, so a crash or an interrupt keeps every earlier row. A
    step that raises becomes a row saying so, and the run goes on."""
    rows: list[Row] = []
    print(markdown([]), end="", flush=True)
    for name, step in steps(args):
        try:
            new = await step()
        except Exception as exc:
            traceback.print_exc()
            new = [
                Row(name, "crashed", 0, "", measured=False, notes=f"{type(exc).__name__}: {exc}")
            ]
        for row in new:
            print(markdown([row]).splitlines()[-1], flush=True)
        rows += new
        _write(args, rows, info)
    return rows


def _write(args: argparse.Namespace, rows: list[Row], info: dict[str, object]) -> None:
    write_json(args.json, rows, info)
    if args.markdown:
        table = markdown(rows)
        notes = "\n".join(f"- {r.bench} / {r.case}: {r.notes}" for r in rows if r.notes)
        args.markdown.write_text(
            f"# Benchmark results\n\n`{info['command']}`\n\n{_header(info)}\n{table}\n{notes}\n"
        )


def _header(info: dict[str, object]) -> str:
    load = " ".join(map(str, info["load_at_start"]))  # type: ignore[call-overload]
    took = f"; took {info['seconds']} s" if "seconds" in info else " (run in progress)"
    return (
        f"Machine: {info['cpu']}, {info['cores']} cores, Python {info['python']}; "
        f"load average at start {load}; {info['date']}{took}.\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, about a minute")
    parser.add_argument("--messages", type=int, default=1000, help="per Python-client row")
    parser.add_argument("--seconds", type=float, default=15.0, help="per wrk row")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument(
        "--driver", default="auto", choices=["auto", "wrk", "python"],
        help="ingest load: wrk when installed (auto), or the Python client",
    )  # fmt: skip
    parser.add_argument("--sqlite", action="store_true", help="add an ingest row on SQLite")
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--claims", type=int, default=1000)
    parser.add_argument("--claim-sizes", default="1000,100000,1000000")
    parser.add_argument(
        "--processes", type=int, default=2, help="gateway processes for the extra claim row"
    )
    parser.add_argument("--replies", type=int, default=1000)
    parser.add_argument("--json", type=Path, default=HERE / "results.json")
    parser.add_argument("--markdown", type=Path, default=None, help="also write the table here")
    args = parser.parse_args()

    info: dict[str, object] = machine()
    info["command"] = "python bench/run_all.py " + " ".join(sys.argv[1:])
    started = time.perf_counter()
    rows = asyncio.run(run_all(args, info))
    info["seconds"] = round(time.perf_counter() - started)
    _write(args, rows, info)
    print()
    print(_header(info))
    print("\n".join(f"- {r.bench} / {r.case}: {r.notes}" for r in rows if r.notes))


if __name__ == "__main__":
    main()
