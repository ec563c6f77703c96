"""The desk's own language model for text in Latin letters: character 1-4-gram counts
of the routing data's training split (naive Bayes), shipped as `language_ngrams.json.gz`.

Pure; about 16,000 n-grams, 90 KB on disk. lingua knows each language from large
general corpora; this model knows how customers of a P2P desk write in Latin letters:
unaccented Spanish and Portuguese, Malay and Indonesian chat shorthand (`sy dah tf`),
Hindi, Russian and Persian in Latin letters, Vietnamese without its marks. The detector
(`language.LanguageDetectorService`) adds this model's posterior to lingua's confidence
for a text whose letters are all Latin, so a confident lingua still wins where this
model is unsure, and this model wins where lingua (in low-accuracy mode especially)
confuses close languages.

Rebuild after the routing data changes: `python -m gateway.routing.ngrams` (reads
tests/data/routing, writes the file beside this module; only the training split, so
`gateway routing eval` still measures it on examples it never saw).
"""

from __future__ import annotations

import gzip
import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from functools import cache
from pathlib import Path

MODEL_PATH = Path(__file__).with_name("language_ngrams.json.gz")
ORDERS = (1, 2, 3, 4)
# Added to every count: an n-gram a language never showed is unlikely, not impossible.
SMOOTHING = 0.1


def latin_only(text: str) -> bool:
    """Every letter Latin (basic, Latin-1 and Extended-A/B)."""
    return all(ord(ch) < 0x250 for ch in text if ch.isalpha())


def grams(text: str) -> list[str]:
    """The character 1-4-grams of a scrubbed text, casefolded, spaces squeezed, padded."""
    padded = " " + " ".join(text.casefold().split()) + " "
    return [padded[i : i + n] for n in ORDERS for i in range(len(padded) - n + 1)]


class NgramModel:
    """Per-language n-gram log-probabilities; `posterior` of a text over the languages."""

    def __init__(self, counts: dict[str, dict[str, int]]) -> None:
        self.languages = sorted(counts)
        vocab = set().union(*counts.values()) if counts else set()
        size = len(vocab) or 1
        self._unseen: dict[str, float] = {}
        self._logp: dict[str, dict[str, float]] = {}
        for code in self.languages:
            total = sum(counts[code].values()) + SMOOTHING * size
            self._unseen[code] = math.log(SMOOTHING / total)
            self._logp[code] = {
                g: math.log((n + SMOOTHING) / total) for g, n in counts[code].items()
            }

    def posterior(self, text: str, among: Iterable[str] | None = None) -> dict[str, float]:
        """P(language | text) over the model's languages (those in `among`, if given)."""
        codes = [c for c in self.languages if among is None or c in set(among)]
        if not codes or not any(ch.isalpha() for ch in text):
            return {}
        found = grams(text)
        scores = {
            code: sum(self._logp[code].get(g, self._unseen[code]) for g in found) for code in codes
        }
        top = max(scores.values())
        weights = {code: math.exp(value - top) for code, value in scores.items()}
        total = sum(weights.values())
        return {code: weight / total for code, weight in weights.items()}


@cache
def shipped() -> NgramModel | None:
    """The model shipped beside this module, loaded once; None without the file."""
    if not MODEL_PATH.exists():
        return None
    return NgramModel(json.loads(gzip.decompress(MODEL_PATH.read_bytes())))


def count(examples: Iterable[tuple[str, str]]) -> dict[str, dict[str, int]]:
    """{language: {n-gram: count}} of (text, language) pairs written in Latin letters."""
    from gateway.routing.language import scrub

    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for text, language in examples:
        cleaned = scrub(text)
        if latin_only(cleaned) and any(ch.isalpha() for ch in cleaned):
            counts[language].update(grams(cleaned))
    return {code: dict(sorted(c.items())) for code, c in sorted(counts.items())}


def main() -> None:
    from gateway.routing import dataset

    data = Path(__file__).resolve().parents[2] / "tests" / "data" / "routing"
    train, _held_out = dataset.split(dataset.read([data]))
    counts = count((e.text, e.language) for e in train)
    body = json.dumps(counts, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    MODEL_PATH.write_bytes(gzip.compress(body.encode(), mtime=0))
    grams_total = sum(len(c) for c in counts.values())
    print(f"{MODEL_PATH.name}: {len(counts)} languages, {grams_total} n-grams from {len(train)}")


if __name__ == "__main__":
    main()
