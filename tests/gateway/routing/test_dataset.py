"""The development set: coverage the issue asks for, valid lines, a fixed held-out split."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from gateway.routing import dataset
from gateway.settings import DEFAULT_LANGUAGES
from gateway.tickets.models import Category

DEV_SET = Path(__file__).parents[2] / "data" / "routing"
EXAMPLES = dataset.read([DEV_SET])


def test_at_least_forty_messages_in_every_desk_language() -> None:
    counts = Counter(e.language for e in EXAMPLES)
    for code in DEFAULT_LANGUAGES.split(","):
        assert counts[code] >= 40, code


def test_at_least_thirty_messages_in_every_category() -> None:
    counts = Counter(e.category for e in EXAMPLES)
    for category in Category:
        assert counts[category] >= 30, category


def test_every_example_names_the_pattern_it_follows() -> None:
    assert all(e.source.startswith("pattern: ") for e in EXAMPLES)
    assert "written for parley" in (DEV_SET / "SOURCES.md").read_text().casefold()


def test_no_text_appears_twice() -> None:
    texts = Counter(" ".join(e.text.split()).casefold() for e in EXAMPLES)
    assert [t for t, n in texts.items() if n > 1] == []


def test_held_out_split_is_fixed_and_about_a_fifth() -> None:
    _train, held_out = dataset.split(EXAMPLES)
    assert 0.15 < len(held_out) / len(EXAMPLES) < 0.25
    # The split depends on the text alone, not on order or file.
    assert dataset.split(list(reversed(EXAMPLES)))[1] == list(reversed(held_out))
    assert dataset.held_out("  Seller NOT released ") == dataset.held_out("seller not released")


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("not json", "not JSON"),
        (json.dumps({"text": "x"}), "needs string fields"),
        (
            json.dumps(
                {
                    "text": "x",
                    "language": "en",
                    "category": "nope",
                    "severity": "low",
                    "source": "s",
                }
            ),
            "unknown category",
        ),
    ],
)
def test_bad_lines_are_refused_with_their_place(tmp_path: Path, line: str, error: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(dataset.DatasetError, match=f"bad.jsonl:1: {error}"):
        dataset.read([path])
