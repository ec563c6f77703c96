"""`gateway rates load|show` and `gateway report losses` on the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from gateway.cli.database import open_runtime, read_only_session
from gateway.clock import SystemClock
from gateway.errors import InvalidRequest
from gateway.reports import charts, rates, report
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


async def cmd_report_losses(settings: Settings, args: argparse.Namespace) -> int:
    start, end = report.window(
        report.parse_moment(args.from_, "--from", end=False),
        report.parse_moment(args.to, "--to", end=True),
        SystemClock().now(),
    )
    group_by = report.parse_group_by(args.group_by)
    if args.format == "png" and args.out is None:
        raise InvalidRequest("--format png writes a file: name it with --out FILE.png")
    async with read_only_session(settings) as session:
        built = await report.build(
            session,
            start=start,
            end=end,
            group_by=group_by,
            currency=settings.reports.currency,
            top=args.top,
        )
    if args.format == "png":
        others = [d for d in group_by if d != "week"]
        chart = (
            charts.by_week(built, others[0] if others else "week", "stacked")
            if "week" in group_by
            else charts.by_group(built)
        )
        args.out.write_bytes(charts.png(chart))
        print(f"wrote {args.out} ({chart.title})")
        return 0
    text = report.to_csv(built) if args.format == "csv" else "\n".join(table(built)) + "\n"
    if args.out is not None:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")
    else:
        print(text, end="")
    return 0


def table(built: report.LossReport) -> list[str]:
    """The report for a terminal: the groups, the totals, week over week, top movers."""
    cur = built.reporting_currency
    head = [*built.group_by, "cases", f"lost {cur}", f"recovered {cur}", f"net loss {cur}"]
    with_change = "week" in built.group_by
    if with_change:
        head.append("vs week before")
    rows = []
    for item in built.items:
        row = [item.key[d] or "-" for d in built.group_by]
        row += [str(item.cases), f"{item.lost:,}", f"{item.recovered:,}", f"{item.net_loss:,}"]
        if with_change:
            row.append(_change(item.change))
        rows.append(row)
    t = built.totals
    total = ["total", *[""] * (len(built.group_by) - 1), str(t.cases), f"{t.lost:,}"]
    total += [f"{t.recovered:,}", f"{t.net_loss:,}"] + ([""] if with_change else [])
    widths = [max(len(r[i]) for r in [head, *rows, total]) for i in range(len(head))]
    numeric = len(built.group_by)

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i >= numeric else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    out = [
        f"losses decided {built.from_.isoformat()} to {built.to.isoformat()} ({cur})",
        line(head),
        line(["-" * w for w in widths]),
        *(line(r) for r in rows),
        line(total),
    ]
    if built.week_over_week is not None:
        out.append(f"last week against the one before: {_change(built.week_over_week)}")
    if built.other_currency_cases:
        out.append(f"{built.other_currency_cases} cases in another reporting currency left out")
    if built.top_movers:
        out.append("top movers (last week against the one before):")
        for m in built.top_movers:
            name = " / ".join(v or "-" for v in m.key.values())
            out.append(f"  {name}: {m.net_loss:,} {cur}, {_change(m.change)}")
    return out


def _change(change: report.Change | None) -> str:
    if change is None:
        return "-"
    pct = f" ({change.net_loss_change_pct:+.1f}%)" if change.net_loss_change_pct is not None else ""
    sign = "+" if change.net_loss_change > 0 else ""
    return f"{sign}{change.net_loss_change:,}{pct}"


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

    group = sub.add_parser("report", help="desk reports").add_subparsers(
        dest="report_command", required=True, metavar="SUBCOMMAND"
    )
    p = group.add_parser(
        "losses", help="loss trends: totals, week over week, top movers (table, CSV or PNG)"
    )
    p.add_argument("--from", dest="from_", help="date or ISO time (default: 8 weeks ago)")
    p.add_argument("--to", help="date (through its end) or ISO time (default: now)")
    p.add_argument(
        "--group-by",
        action="append",
        help=f"one or several, comma-separated: {', '.join(report.DIMENSIONS)} (default week)",
    )
    p.add_argument("--format", choices=["table", "csv", "png"], default="table")
    p.add_argument("--out", type=Path, help="write to this file (needed for png)")
    p.add_argument(
        "--top",
        type=int,
        default=5,
        choices=range(1, 51),
        metavar="N",
        help="how many top movers (1-50, default 5)",
    )
    p.set_defaults(func=cmd_report_losses)
