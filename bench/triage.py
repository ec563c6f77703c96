"""Triage figures: the shipped model beside the phrase lists, in one run, on the held-out
split of the development set (tests/data/routing), plus model size and added memory.

    python bench/triage.py [--markdown bench/TRIAGE.md]

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway.routing import dataset
from gateway.routing.evaluation import evaluate, render
from gateway.routing.language import LanguageDetectorService, parse_languages
from gateway.routing.model import TriageModel
from gateway.routing.rules import parse_toml
from gateway.routing.service import Router
from gateway.routing.triage import default_model_path
from gateway.settings import RoutingSettings

ROOT = Path(__file__).resolve().parents[1]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", help="also write the table and both reports here")
    args = parser.parse_args()
    examples = dataset.read([ROOT / "tests" / "data" / "routing"])
    train, held_out = dataset.split(examples)
    rule_set = parse_toml((ROOT / "gateway" / "routing" / "rules.sample.toml").read_text())
    settings = RoutingSettings()
    detector = LanguageDetectorService(
        parse_languages(settings.languages), min_confidence=settings.min_confidence
    )

    gc.collect()
    before = rss_mb()
    started = time.perf_counter()
    model = TriageModel.load(default_model_path())
    load_s = time.perf_counter() - started
    gc.collect()
    model_mb = rss_mb() - before
    size_kib = default_model_path().stat().st_size / 1024
    del model

    load = Path("/proc/loadavg").read_text().split()[0]
    rows, reports = [], []
    for name in ("phrases", "model"):
        router = Router(settings.model_copy(update={"classifier": name}))
        router._detector = detector
        report = evaluate(held_out, router, rule_set)
        f = report.figures()
        reports.append(render(report, title=f"## {name}, held-out split ({len(held_out)})"))
        cat, sev = 100 * f["category_accuracy"], 100 * f["severity_accuracy"]
        worst = f"{100 * f['worst_language_category']:.1f} % / "
        worst += f"{100 * f['worst_language_severity']:.1f} %"
        rows.append(
            f"| {name} | {cat:.1f} % | {sev:.1f} % | {report.critical_found}/{report.critical} "
            f"| {worst} | {100 * f['triage_share']:.1f} % | {f['classify_ms_mean']:.3f} | "
            f"{f['classify_ms_p95']:.3f} | {f['classify_cpu_ms_mean']:.3f} |"
        )
    header = [
        f"Development set: {len(examples)} messages, {len(train)} for training, "
        f"{len(held_out)} held out. Model file {size_kib:.0f} KiB, loaded in {load_s:.2f} s, "
        f"{model_mb:.0f} MB added resident memory. Language on the held-out split: see the "
        "model report below (lingua, high accuracy). Load average when the run began: "
        f"{load} on {os.cpu_count()} cores (wall times include waiting for a core; CPU "
        "times do not).",
        "",
        "| classifier | category | severity | critical recall | worst language (cat / sev) "
        "| triage queue | ms/msg mean | ms/msg p95 | CPU ms/msg mean |",
        "|---|---|---|---|---|---|---|---|---|",
        *rows,
    ]
    text = "\n".join([*header, "", *(f"```\n{r}\n```" for r in reports)])
    print(text)
    if args.markdown:
        Path(args.markdown).write_text("# Triage bench\n\n" + text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
