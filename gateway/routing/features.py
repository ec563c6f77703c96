# ruff: noqa: RUF001, RUF002  (letters of many scripts)
"""What the triage model reads in a message: character n-grams, words, and which phrase
list (gateway.routing.phrases) a phrase of the text is on.

Pure. The text is normalised by script (`feature_text`):

- Latin, Greek, Cyrillic and Arabic letters lose their accents and marks, because
  customers type "tien chua ve" as often as "tiền chưa về"; "ё" reads "е", harakat go.
- Every other script keeps its marks and composed letters: a Thai vowel, a Devanagari
  matra, a Japanese dakuten or a Korean syllable is part of the word, not decoration
  ("मैंने पेमेंट किया" was once read as "मन पमट क य" and "입금" as its loose jamo).
- Runs of Chinese, Japanese and Thai, written without spaces, give character 1- to
  3-grams (a segmentation-free reading); spaced scripts give 2- to 4-grams within each
  word, plus the word itself.

Phrase hits are exact (after `classify.normalise`, the phrase lists' own folding), never
fuzzy: typo tolerance across languages is how "escrow" once read as French "escroc".
They are repeated so that one hit weighs about as much as a handful of n-grams; the model
learns how far to trust it.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from gateway.routing.classify import normalise, phrase_tables

# A message's head says what it is about; the rest of a pasted history only adds noise.
MAX_FEATURE_CHARS = 1000
NGRAM_SIZES = (2, 3, 4)
UNSPACED_NGRAM_SIZES = (1, 2, 3)
PHRASE_WEIGHT = 3

_UNSPACED = "\u0e00-\u0e7f\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff"
_RUNS = re.compile(rf"[{_UNSPACED}]+|[^{_UNSPACED}]+")
_UNSPACED_CHAR = re.compile(rf"[{_UNSPACED}]")
_ARABIC_FOLD = str.maketrans(
    {"ک": "ك", "ی": "ي", "ى": "ي", "ې": "ي", "ة": "ه", "ہ": "ه", "ھ": "ه", "ۀ": "ه",
     "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ؤ": "و", "\u200c": " ", "\u200d": "",
     "’": "'", "`": "'", "ـ": "", "đ": "d", "ı": "i"}
)  # fmt: skip
_REPEATS = re.compile(r"(.)\1{2,}")


def _folds(base: str) -> bool:
    """Scripts whose marks are folded away: Latin, Greek, Cyrillic, Arabic."""
    cp = ord(base)
    return cp < 0x0530 or 0x0600 <= cp <= 0x06FF or 0x1E00 <= cp <= 0x1FFF


@cache
def _fold_char(ch: str, after_folded: bool) -> str:
    """One character as `feature_text` keeps it ("" drops it, " " separates words)."""
    if ch.isascii():
        return ch if ch.isalnum() or ch in "'-" else " "
    parts = unicodedata.normalize("NFD", ch)
    if _folds(parts[0]):
        ch = "".join(c for c in parts if unicodedata.category(c) != "Mn")
    elif unicodedata.category(ch) == "Mn" and after_folded:
        return ""  # a loose mark on a folded letter (Arabic harakat)
    ch = ch.translate(_ARABIC_FOLD)
    return "".join(c if c in "'-" or unicodedata.category(c)[0] in "LNM" else " " for c in ch)


def feature_text(text: str) -> str:
    """Lower case, marks folded where typing drops them (see module doc), Arabic letter
    variants unified, runs of one letter shortened, punctuation turned into spaces."""
    text = unicodedata.normalize("NFKC", text).casefold()
    out: list[str] = []
    folded = False
    for ch in text:
        kept = _fold_char(ch, folded)
        if kept:
            out.append(kept)
            folded = _folds(kept[-1])
    return " ".join(_REPEATS.sub(r"\1", "".join(out)).split())


def word_count(text: str) -> int:
    """Words of a text, a run of Chinese, Japanese or Thai counting one word per two
    characters."""
    count = 0
    for token in feature_text(text).split():
        for run in _RUNS.findall(token):
            count += (len(run) + 1) // 2 if _UNSPACED_CHAR.match(run) else 1
    return count


def _grams(out: set[str], padded: str, sizes: tuple[int, ...], prefix: str = "") -> None:
    for n in sizes:
        for i in range(len(padded) - n + 1):
            gram = padded[i : i + n]
            if gram.strip():
                out.add(prefix + gram)


def features(text: str) -> list[str]:
    """The distinct features of a text, sorted (the same text gives the same list)."""
    return read(text)[0]


def read(text: str) -> tuple[list[str], set[str]]:
    """(features, the phrase lists with a phrase in the text)."""
    head = text[:MAX_FEATURE_CHARS]
    out: set[str] = set()
    for token in feature_text(head).split():
        for run in _RUNS.findall(token) if not token.isascii() else (token,):
            if _UNSPACED_CHAR.match(run):
                _grams(out, f" {run} ", UNSPACED_NGRAM_SIZES, "c:")
            else:
                _grams(out, f" {run} ", NGRAM_SIZES)
                out.add("w:" + run)
    keys = phrase_keys(head)
    out.update(f"p:{key}#{i}" for key in keys for i in range(PHRASE_WEIGHT))
    return sorted(out), keys


@cache
def _phrase_index() -> tuple[dict[str, list[tuple[str, str]]], dict[str, list[tuple[str, str]]]]:
    """The category phrase lists by how a match must start: spaced phrases by their first
    two letters (they match at a word start), unspaced ones by their first letter
    (anywhere). A thousand phrases, a handful of candidates per word."""
    spaced: dict[str, list[tuple[str, str]]] = {}
    unspaced: dict[str, list[tuple[str, str]]] = {}
    for key, phrase_list in phrase_tables("category"):
        for p in phrase_list:
            if p.unspaced:
                unspaced.setdefault(p.norm[0], []).append((key, p.norm))
            else:
                spaced.setdefault(p.norm[:2], []).append((key, p.norm))
    return spaced, unspaced


def phrase_keys(text: str) -> set[str]:
    """The phrase lists with a phrase in `text`: as `" " + phrase in " " + text` after
    `classify.normalise` (a spaced phrase starts a word; an unspaced one goes anywhere)."""
    spaced, unspaced = _phrase_index()
    norm = normalise(text)
    hits: set[str] = set()
    start = 0
    while start < len(norm):
        for probe in (norm[start : start + 2], norm[start : start + 1]):
            for key, phrase in spaced.get(probe, ()):
                if key not in hits and norm.startswith(phrase, start):
                    hits.add(key)
        nxt = norm.find(" ", start)
        if nxt < 0:
            break
        start = nxt + 1
    if unspaced:
        for i, ch in enumerate(norm):
            for key, phrase in unspaced.get(ch, ()):
                if key not in hits and norm.startswith(phrase, i):
                    hits.add(key)
    return hits
