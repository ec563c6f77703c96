"""`gateway routing eval`: how right triage is on labelled examples, and how fast.

Scores what ingest would decide for each example opening a new ticket: language,
category, severity, confidence and queue, through `Router.decide`.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from gateway.routing.dataset import Example
from gateway.routing.language import LANGUAGE_GROUPS
from gateway.routing.rules import RuleSet
from gateway.routing.service import Router
from gateway.tickets.models import Category, Severity

SHORT = {
    "crypto_not_released": "notrel",
    "payment_not_received": "norecv",
    "amount_mismatch": "amount",
    "cancelled_after_payment": "cancel",
    "third_party_payment": "3rdpty",
    "bank_account_frozen": "bankfz",
    "chargeback": "chgbck",
    "fraud_or_scam": "fraud",
    "account_takeover": "takeov",
    "account_frozen": "accfz",
    "other": "other",
}


@dataclass
class Report:
    total: int = 0
    category_right: Counter[str] = field(default_factory=Counter)  # by language
    severity_right: Counter[str] = field(default_factory=Counter)
    by_language: Counter[str] = field(default_factory=Counter)
    category_total: Counter[str] = field(default_factory=Counter)
    category_hits: Counter[str] = field(default_factory=Counter)
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    critical: int = 0
    critical_found: int = 0
    critical_missed: list[str] = field(default_factory=list)
    language_right: int = 0
    language_wrong: int = 0
    language_unknown: int = 0
    triaged: int = 0
    classify_ms: list[float] = field(default_factory=list)
    # CPU time of the same calls: what a message costs when other processes share the
    # cores (wall time then includes waiting for one).
    classify_cpu_ms: list[float] = field(default_factory=list)
    decide_ms: list[tuple[float, str]] = field(default_factory=list)

    def figures(self) -> dict[str, float]:
        n = self.total or 1
        return {
            "examples": self.total,
            "category_accuracy": sum(self.category_right.values()) / n,
            "severity_accuracy": sum(self.severity_right.values()) / n,
            "critical_recall": self.critical_found / (self.critical or 1),
            "worst_language_category": min(
                (self.category_right[k] / v for k, v in self.by_language.items()), default=0
            ),
            "worst_language_severity": min(
                (self.severity_right[k] / v for k, v in self.by_language.items()), default=0
            ),
            "language_wrong": self.language_wrong / n,
            "language_auto_routed": (self.language_right + self.language_wrong) / n,
            "triage_share": self.triaged / n,
            "classify_ms_mean": sum(self.classify_ms) / (len(self.classify_ms) or 1),
            "classify_ms_p95": _percentile(self.classify_ms, 0.95),
            "classify_cpu_ms_mean": sum(self.classify_cpu_ms) / (len(self.classify_cpu_ms) or 1),
            "decide_ms_mean": sum(ms for ms, _ in self.decide_ms) / (len(self.decide_ms) or 1),
        }


def _percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _same_language(code: str, label: str) -> bool:
    return LANGUAGE_GROUPS.get(code, code) == LANGUAGE_GROUPS.get(label, label)


def evaluate(examples: Sequence[Example], router: Router, rule_set: RuleSet) -> Report:
    report = Report()
    classifier = router.classifier
    router.detector  # noqa: B018  (built before the clock starts)
    for e in examples:
        started, cpu = time.perf_counter(), time.process_time()
        classifier.classify(e.text)
        report.classify_ms.append((time.perf_counter() - started) * 1000)
        report.classify_cpu_ms.append((time.process_time() - cpu) * 1000)
        started = time.perf_counter()
        outcome = router.decide(router.new_ticket_facts(e.text, rule_set, channel="webchat"))
        report.decide_ms.append(((time.perf_counter() - started) * 1000, e.text))

        report.total += 1
        report.by_language[e.language] += 1
        report.category_total[e.category] += 1
        report.confusion[(e.category, outcome.category)] += 1
        if outcome.category == e.category:
            report.category_right[e.language] += 1
            report.category_hits[e.category] += 1
        if outcome.severity == e.severity:
            report.severity_right[e.language] += 1
        if e.severity == Severity.critical:
            report.critical += 1
            if outcome.severity == Severity.critical:
                report.critical_found += 1
            else:
                report.critical_missed.append(f"[{e.language}] {e.text} -> {outcome.severity}")
        if outcome.message_language is None:
            report.language_unknown += 1
        elif _same_language(outcome.message_language, e.language):
            report.language_right += 1
        else:
            report.language_wrong += 1
        if outcome.confidence < router.settings.triage_confidence:
            report.triaged += 1
    return report


def render(report: Report, *, title: str, slowest: int = 5) -> str:
    f = report.figures()
    lines = [
        title,
        f"examples: {report.total}",
        f"category accuracy: {100 * f['category_accuracy']:.1f} %",
        f"severity accuracy: {100 * f['severity_accuracy']:.1f} %",
        f"critical recall:   {report.critical_found}/{report.critical} "
        f"({100 * f['critical_recall']:.1f} %)",
        f"language: right {report.language_right}, wrong {report.language_wrong} "
        f"({100 * f['language_wrong']:.1f} %), unknown {report.language_unknown}; "
        f"auto-routed {100 * f['language_auto_routed']:.1f} %",
        f"low confidence (triage queue): {report.triaged} ({100 * f['triage_share']:.1f} %)",
        f"classification: {f['classify_ms_mean']:.3f} ms mean, {f['classify_ms_p95']:.3f} ms p95 "
        f"({f['classify_cpu_ms_mean']:.3f} ms CPU mean); "
        f"full decision with language: {f['decide_ms_mean']:.3f} ms mean",
        "",
        "per language    n  category  severity",
    ]
    for lang in sorted(report.by_language):
        n = report.by_language[lang]
        lines.append(
            f"  {lang:6} {n:7}  {100 * report.category_right[lang] / n:7.1f} %"
            f" {100 * report.severity_right[lang] / n:7.1f} %"
        )
    lines += ["", "per category (recall)          n   right"]
    for cat in Category:
        n = report.category_total[cat]
        if n:
            lines.append(f"  {cat:26} {n:5} {100 * report.category_hits[cat] / n:6.1f} %")
    cats = [c for c in Category if report.category_total[c]]
    lines += ["", "confusion (rows: label, columns: decided)"]
    lines.append(" " * 8 + "".join(f"{SHORT[c]:>7}" for c in cats))
    for row in cats:
        lines.append(
            f"{SHORT[row]:8}" + "".join(f"{report.confusion[(row, col)] or '.':>7}" for col in cats)
        )
    if report.critical_missed:
        lines += ["", "critical missed:", *(f"  {m}" for m in report.critical_missed)]
    lines += ["", f"slowest {slowest} (full decision):"]
    for ms, text in sorted(report.decide_ms, reverse=True)[:slowest]:
        lines.append(f"  {ms:7.2f} ms  {text[:70]}")
    return "\n".join(lines)
