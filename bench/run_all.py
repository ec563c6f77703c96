"""Every Parley benchmark with sizes that finish in minutes on a 2-core machine: one
Markdown table (every figure beside its same-run baseline), also written as JSON.

    python bench/run_all.py [--quick] [--json bench/results.json] [--markdown bench/RESULTS.md]
                            [--claim-sizes 1000,100000,1000000] [--processes 1]

Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth) or PARLEY_BENCH_DSN;
each bench creates its own database and drops it at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import claim
import deliver
import ingest
from _common import Row, machine, markdown, write_json

HERE = Path(__file__).resolve().parent


async def run_all(args: argparse.Namespace) -> list[Row]:
    quick = args.quick
    rows: list[Row] = []
    rows += await ingest.run(
        messages=300 if quick else args.messages,
        clients=args.clients,
        surfaces=["webchat", "smtp", "telegram"],
    )
    # lingua's low accuracy mode: the memory it saves, what it costs per message.
    rows += await ingest.run(
        messages=300 if quick else args.messages,
        clients=args.clients,
        surfaces=["webchat"],
        low_accuracy=True,
        half_rate=False,
    )
    if args.sqlite:
        rows += await ingest.run(
            messages=300 if quick else args.messages,
            clients=args.clients,
            surfaces=["webchat"],
            sqlite=True,
            half_rate=False,
        )
    rows += await claim.run(
        agents=args.agents,
        claims=300 if quick else args.claims,
        sizes=[1000, 100_000] if quick else [int(s) for s in args.claim_sizes.split(",")],
        processes=1,
    )
    if args.processes > 1:
        # The design allows many gateway processes on one database: the same claims
        # spread over several, at the smallest size.
        rows += await claim.run(
            agents=args.agents,
            claims=300 if quick else args.claims,
            sizes=[1000],
            processes=args.processes,
        )
    rows += await deliver.run(replies=300 if quick else args.replies)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, about a minute")
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=16)
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

    info = machine()
    started = time.perf_counter()
    rows = asyncio.run(run_all(args))
    info["seconds"] = round(time.perf_counter() - started)
    info["command"] = "python bench/run_all.py " + " ".join(sys.argv[1:])
    table = markdown(rows)
    notes = "\n".join(f"- {r.bench} / {r.case}: {r.notes}" for r in rows if r.notes)
    header = (
        f"Machine: {info['cpu']}, {info['cores']} cores, Python {info['python']}; "
        f"load average at start {' '.join(map(str, info['load_at_start']))}; "
        f"{info['date']}; took {info['seconds']} s.\n"
    )
    print(header)
    print(table)
    print(notes)
    write_json(args.json, rows, info)
    if args.markdown:
        args.markdown.write_text(
            f"# Benchmark results\n\n`{info['command']}`\n\n{header}\n{table}\n{notes}\n"
        )


if __name__ == "__main__":
    main()
