"""Labelled routing examples: the development set (tests/data/routing/*.jsonl) and agents'
corrections, one JSON object a line with text, language, category, severity, source.

Pure (reads files, nothing else). The held-out split is fixed by a hash of the text, so
every run, and every machine, trains and evaluates on the same halves.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from gateway.tickets.models import Category, Severity

# One in five examples is held out; training never reads them.
HELD_OUT_BUCKETS = 5

FIELDS = ("text", "language", "category", "severity", "source")


class DatasetError(ValueError):
    """A line of a labelled file that cannot be used, with its place."""


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    language: str
    category: str
    severity: str
    source: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)


def held_out(text: str) -> bool:
    """Whether an example belongs to the evaluation split (same answer everywhere)."""
    digest = hashlib.sha256(" ".join(text.split()).casefold().encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % HELD_OUT_BUCKETS == 0


def parse_line(line: str, where: str) -> Example:
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{where}: not JSON: {exc}") from None
    if not isinstance(raw, dict) or not all(isinstance(raw.get(k), str) for k in FIELDS):
        raise DatasetError(f"{where}: needs string fields {', '.join(FIELDS)}")
    if raw["category"] not in set(Category):
        raise DatasetError(f"{where}: unknown category {raw['category']!r}")
    if raw["severity"] not in set(Severity):
        raise DatasetError(f"{where}: unknown severity {raw['severity']!r}")
    if not raw["text"].strip():
        raise DatasetError(f"{where}: empty text")
    return Example(*(raw[k] for k in FIELDS))


def read(paths: Iterable[Path]) -> list[Example]:
    """Every example of the given files, or of every *.jsonl inside given folders."""
    examples: list[Example] = []
    for path in _files(paths):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                examples.append(parse_line(line, f"{path.name}:{number}"))
    return examples


def _files(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(path.glob("*.jsonl"))
        else:
            yield path


def split(examples: Iterable[Example]) -> tuple[list[Example], list[Example]]:
    """(training, held-out)."""
    train: list[Example] = []
    test: list[Example] = []
    for example in examples:
        (test if held_out(example.text) else train).append(example)
    return train, test
