"""`gateway route` output and the `gateway routing eval|train|export-corrections` commands.

eval and train read files only (no database, no migration); export-corrections reads the
database. The language detector loads only for eval (it scores language too).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from gateway.routing import dataset
from gateway.routing.decision import RoutingOutcome
from gateway.settings import Settings

# Where the development set lives in a checkout of the repository.
DEV_SET = Path(__file__).resolve().parents[2] / "tests" / "data" / "routing"
SAMPLE_RULES = Path(__file__).with_name("rules.sample.toml")


def describe(outcome: RoutingOutcome) -> str:
    """What `gateway route` prints: the decision, its confidence and every reason."""
    lang = outcome.language
    amount = f"{outcome.amount} {outcome.currency}" if outcome.amount is not None else "-"
    lines = [
        f"language:   {lang.code} (confidence {lang.confidence:.2f})",
        f"severity:   {outcome.severity}",
        f"category:   {outcome.category}",
        f"confidence: {outcome.confidence:.2f}",
        f"order_ref:  {outcome.order_ref or '-'}",
        f"amount:     {amount}",
        f"queue:      {outcome.decision.queue}",
        f"rule:       {outcome.decision.rule or '(default queue)'}",
        "reasons:",
        *(f"  - {reason}" for reason in outcome.reasons),
    ]
    return "\n".join(lines)


def _examples(paths: list[str]) -> list[dataset.Example]:
    return dataset.read([Path(p) for p in paths] if paths else [DEV_SET])


async def cmd_eval(settings: Settings, args: argparse.Namespace) -> int:
    from gateway.routing.evaluation import evaluate, render
    from gateway.routing.rules import parse_toml
    from gateway.routing.service import Router

    try:
        examples = await asyncio.to_thread(_examples, args.files)
        source = await asyncio.to_thread(
            Path(args.rules or SAMPLE_RULES).read_text, encoding="utf-8"
        )
        rule_set = parse_toml(source)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    chosen = examples if args.all else dataset.split(examples)[1]
    routing = settings.routing.model_copy(update={"classifier": args.classifier})
    router = Router(routing)
    report = await asyncio.to_thread(evaluate, chosen, router, rule_set)
    split_name = "all examples" if args.all else "held-out split (never trained on)"
    print(render(report, title=f"routing eval: {args.classifier}, {split_name}"))
    if args.json:
        figures = json.dumps(report.figures(), indent=2) + "\n"
        await asyncio.to_thread(Path(args.json).write_text, figures)
    return 0


async def cmd_train(settings: Settings, args: argparse.Namespace) -> int:
    from gateway.routing.training import train
    from gateway.routing.triage import default_model_path

    try:
        examples = await asyncio.to_thread(_examples, args.files)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    model = await asyncio.to_thread(train, examples)
    out = Path(args.out) if args.out else default_model_path()
    model.save(out)
    size = out.stat().st_size
    print(
        f"trained on {model.meta['trained_on']} examples ({model.meta['held_out']} held out); "
        f"{len(model.rows)} features; wrote {out} ({size / 1024:.0f} KiB)"
    )
    return 0


async def cmd_export_corrections(
    settings: Settings, args: argparse.Namespace, open_runtime: Callable[[Settings], Awaitable[Any]]
) -> int:
    from gateway.routing.corrections import export_examples

    runtime = await open_runtime(settings)
    try:
        async with runtime.sessionmaker() as session:
            examples = await export_examples(session)
    finally:
        await runtime.close()
    text = "".join(e.to_json() + "\n" for e in examples)
    if args.out:
        await asyncio.to_thread(Path(args.out).write_text, text, encoding="utf-8")
        print(f"wrote {len(examples)} corrections to {args.out}")
    else:
        sys.stdout.write(text)
    return 0


def add_commands(sub: Any, open_runtime: Callable[[Settings], Awaitable[Any]]) -> None:
    """`gateway routing ...` on the CLI's subparsers."""
    routing = sub.add_parser("routing", help="measure and train triage").add_subparsers(
        dest="routing_command", required=True, metavar="SUBCOMMAND"
    )
    p = routing.add_parser("eval", help="accuracy, confusion, critical recall and speed")
    p.add_argument("files", nargs="*", help="JSONL files or folders (default: the dev set)")
    p.add_argument("--all", action="store_true", help="score training examples too")
    p.add_argument("--classifier", choices=["model", "phrases"], default="model")
    p.add_argument("--rules", help="rules file for queues (default: the sample rules)")
    p.add_argument("--json", help="also write the headline figures to this file")
    p.set_defaults(func=cmd_eval)
    p = routing.add_parser("train", help="train the triage model on the training split")
    p.add_argument("files", nargs="*", help="JSONL files or folders (default: the dev set)")
    p.add_argument("--out", help="model file (default: the one shipped in the package)")
    p.set_defaults(func=cmd_train)
    p = routing.add_parser(
        "export-corrections", help="agents' triage corrections as labelled JSONL"
    )
    p.add_argument("--out", help="file to write (default: standard output)")
    p.set_defaults(func=lambda settings, args: cmd_export_corrections(settings, args, open_runtime))
