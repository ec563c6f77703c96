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

from gateway.routing.classify import Phrase, normalise, phrase_tables
from gateway.routing.release_phrases import RELEASE_GUARDS, RELEASE_WHOLE_WORDS

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


@cache
def _release_index(table_id: str) -> tuple[dict[str, list[Phrase]], dict[str, list[Phrase]]]:
    """A table of `gateway.routing.release_phrases` ("released", "not_released",
    "fake_proof") indexed as `_phrase_index` indexes the category lists."""
    spaced: dict[str, list[Phrase]] = {}
    unspaced: dict[str, list[Phrase]] = {}
    for _, phrase_list in phrase_tables(table_id):
        for p in phrase_list:
            if p.unspaced:
                unspaced.setdefault(p.norm[0], []).append(p)
            else:
                spaced.setdefault(p.norm[:2], []).append(p)
    return spaced, unspaced


@cache
def _release_guards() -> dict[str, frozenset[str]]:
    """`release_phrases.RELEASE_GUARDS` normalised as the text is (a leading space in an
    "after" guard means "the next word" and is kept)."""
    return {
        kind: frozenset(
            (" " if g.startswith(" ") else "") + normalise(g) for g in joined.split("|")
        )
        for kind, joined in RELEASE_GUARDS.items()
    }


def release_reading(text: str) -> tuple[str, Phrase] | None:
    """Whether the customer says the crypto already left them: ("released", phrase) for a
    phrase of `release_phrases.RELEASED_PHRASES` that no guard around it negates ("I
    released the usdt", not "I have not released", "chưa thả", "放币了吗"); else
    ("not_released", phrase) for one of `NOT_RELEASED_PHRASES` ("ainda não liberei");
    else None. Matched as `phrase_keys` matches: after `classify.normalise`, spaced
    phrases at a word start, unspaced ones anywhere; exactly, never with typos."""
    norm = normalise(text[:MAX_FEATURE_CHARS])
    guards = _release_guards()
    for table_id in ("released", "not_released"):
        found = _first(norm, table_id, guards if table_id == "released" else None)
        if found:
            return table_id, found
    return None


def says_fake_proof(text: str) -> bool:
    """Whether `text` calls the payment proof fake (`release_phrases.FAKE_PROOF_PHRASES`)."""
    return _first(normalise(text[:MAX_FEATURE_CHARS]), "fake_proof", None) is not None


def _first(norm: str, table_id: str, guards: dict[str, frozenset[str]] | None) -> Phrase | None:
    """The first phrase of the table in `norm` (already normalised) that no guard negates."""
    spaced, unspaced = _release_index(table_id)
    start = 0
    while start < len(norm):
        for p in spaced.get(norm[start : start + 2], ()):
            if _at(norm, start, p) and not (guards and _guarded(norm, start, p, guards)):
                return p
        nxt = norm.find(" ", start)
        if nxt < 0:
            break
        start = nxt + 1
    for i, ch in enumerate(norm):
        for p in unspaced.get(ch, ()):
            if _at(norm, i, p) and not (guards and _guarded(norm, i, p, guards)):
                return p
    return None


def _at(norm: str, start: int, p: Phrase) -> bool:
    """`p` at `start`, ending at a word end where its language needs it."""
    if not norm.startswith(p.norm, start):
        return False
    end = start + len(p.norm)
    return p.lang not in RELEASE_WHOLE_WORDS or end == len(norm) or norm[end] == " "


def _guarded(norm: str, start: int, p: Phrase, guards: dict[str, frozenset[str]]) -> bool:
    """Whether a negation, plan or question touches the match of `p` at `start`."""
    end = start + len(p.norm)
    if any(norm.startswith(g, end) for g in guards["after"]):
        return True
    before = norm[:start]
    if any(before.endswith(g) for g in guards["before"] if _UNSPACED_CHAR.match(g)):
        return True
    words = before.split()
    k = len(words) - 1
    while k >= 0 and words[k] in guards["filler"] and k > len(words) - 3:
        k -= 1
    if k < 0 or words[k] not in guards["before"]:
        return False
    return k == 0 or f"{words[k - 1]} {words[k]}" not in guards["not_negation"]
