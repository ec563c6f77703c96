"""Routing figures: language accuracy per language and on short messages, share routed to
the default queue, messages per second, and the memory the detector adds.

    python bench/routing.py [--low-accuracy]

Data: tests/gateway/routing/data (UDHR Article 1, short customer messages, disputes).
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway.routing.language import (
    LANGUAGE_GROUPS,
    LanguageDetectorService,
    parse_languages,
)
from gateway.routing.rules import RoutingFacts, decide, parse_toml
from gateway.routing.service import Router
from gateway.settings import RoutingSettings

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "gateway" / "routing" / "data"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def rows(name: str) -> list[list[str]]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines if line.strip() and not line.startswith("#")]


def same(code: str, label: str) -> bool:
    return LANGUAGE_GROUPS.get(code, code) == LANGUAGE_GROUPS.get(label, label)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--low-accuracy", action="store_true", help="lingua low accuracy mode")
    args = parser.parse_args()
    settings = RoutingSettings(low_accuracy=args.low_accuracy)

    before = rss_mb()
    started = time.perf_counter()
    detector = LanguageDetectorService(
        parse_languages(settings.languages),
        min_confidence=settings.min_confidence,
        low_accuracy=settings.low_accuracy,
    )
    build_s = time.perf_counter() - started
    added = rss_mb() - before

    labelled = [
        (lang, text) for lang, text in rows("udhr_article1.tsv") + rows("short_messages.tsv")
    ]
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    short = {text for _lang, text in rows("short_messages.tsv")}
    short_right = short_total = 0
    for lang, text in labelled:
        ok = same(detector.detect(text).code, lang)
        right[lang] += ok
        total[lang] += 1
        if text in short:  # five words or fewer, by construction of that file
            short_total += 1
            short_right += ok

    print(
        f"detector: lingua, {'low' if args.low_accuracy else 'high'} accuracy mode, "
        f"{len(detector.languages)} languages, built in {build_s:.2f} s"
    )
    print(f"resident memory added by the detector: {added:.0f} MB")
    print("\nlanguage accuracy (UDHR Article 1 + short customer messages):")
    for lang in sorted(total):
        print(
            f"  {lang:3} {right[lang]:3}/{total[lang]:<3} {100 * right[lang] / total[lang]:5.1f} %"
        )
    overall = sum(right.values()) / sum(total.values())
    print(f"  overall {sum(right.values())}/{sum(total.values())} {100 * overall:.1f} %")
    print(
        f"accuracy on messages of five words or fewer: {short_right}/{short_total} "
        f"{100 * short_right / short_total:.1f} %"
    )

    router = Router(settings)
    router._detector = detector
    rule_set = parse_toml((ROOT / "gateway" / "routing" / "rules.sample.toml").read_text())
    texts = [text for _lang, text in labelled] + [r[3] for r in rows("disputes.tsv")]
    texts += ["22612345678901234567", "1500 USDT", "ok", "???", "https://t.me/x"]
    default = 0
    for text in texts:
        outcome = router.evaluate(text, rule_set, channel="telegram")
        default += outcome.decision.queue == rule_set.default_queue
    print(
        f"routed to the default queue (sample rules): {default}/{len(texts)} "
        f"{100 * default / len(texts):.1f} %"
    )

    rounds = 5
    started = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            detector.detect(text)
    detect_s = (time.perf_counter() - started) / (rounds * len(texts))
    started = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            outcome = router.evaluate(text, rule_set, channel="telegram")
            decide(
                rule_set,
                RoutingFacts(outcome.language.tags, "normal", "other", "email", frozenset()),
            )
    full_s = (time.perf_counter() - started) / (rounds * len(texts))
    print(f"language detection: {1000 * detect_s:.3f} ms per message, {1 / detect_s:,.0f} msgs/s")
    print(
        f"full decision (language + classification + rules): {1000 * full_s:.3f} ms per "
        f"message, {1 / full_s:,.0f} msgs/s"
    )


if __name__ == "__main__":
    main()
