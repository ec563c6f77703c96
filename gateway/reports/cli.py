"""`gateway rates load|show` and `gateway report losses` on the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from gateway.cli.database import open_runtime, read_only_session
from gateway.reports import rates
from gateway.settings import Settings


async def cmd_rates_load(settings: Settings, args: argparse.Namespace) -> int:
    try:
        parsed = rates.parse(args.file)
    except rates.RatesFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    runtime = await open_runtime(settings)
    try:
        async with runtime.sessionmaker.begin() as session:
            added, replaced = await rates.load(session, parsed)
    finally:
        await runtime.close()
    unchanged = len(parsed) - added - replaced
    print(f"exchange rates: {added} added, {replaced} replaced, {unchanged} unchanged")
    if all(r.quote != settings.reports.currency for r in parsed):
        print(
            f"note: no rate in the file converts into the reporting currency "
            f"{settings.reports.currency} (GATEWAY_REPORTS_CURRENCY)",
            file=sys.stderr,
        )
    return 0


async def cmd_rates_show(settings: Settings, _args: argparse.Namespace) -> int:
    async with read_only_session(settings) as session:
        rows = await rates.listing(session)
    if not rows:
        print("no exchange rates yet: `gateway rates load FILE` loads a CSV or TOML file")
        return 0
    print("currency,quote,rate,effective_from")
    for r in rows:
        print(f"{r.currency},{r.quote},{r.rate.normalize():f},{r.effective_from.isoformat()}")
    return 0


def add_commands(sub: Any) -> None:
    """`gateway rates ...` and `gateway report ...` on the CLI's subparsers."""
    group = sub.add_parser("rates", help="exchange rates for loss reports").add_subparsers(
        dest="rates_command", required=True, metavar="SUBCOMMAND"
    )
    p = group.add_parser(
        "load", help="add or replace exchange rates from a CSV or TOML file (no network)"
    )
    p.add_argument("file", type=Path, help="rates file: currency,quote,rate,effective_from")
    p.set_defaults(func=cmd_rates_load)
    p = group.add_parser("show", help="print the stored exchange rates as CSV")
    p.set_defaults(func=cmd_rates_show)
