"""What the triage model reads in a message: character n-grams, words, and which phrase
list (gateway.routing.phrases) a phrase of the text is on.

Pure. Phrase hits are exact (after normalisation), never fuzzy: typo tolerance across
languages is how "escrow" once read as French "escroc". They are repeated so that one
hit weighs about as much as a handful of n-grams; the model learns how far to trust it.
"""

from __future__ import annotations

from gateway.routing.classify import normalise, phrase_tables

# A message's head says what it is about; the rest of a pasted history only adds noise.
MAX_FEATURE_CHARS = 1000
NGRAM_SIZES = (2, 3, 4)
PHRASE_WEIGHT = 3


def features(text: str) -> list[str]:
    """The distinct features of a text, sorted (the same text gives the same list)."""
    norm = normalise(text[:MAX_FEATURE_CHARS])
    out: set[str] = set()
    for token in norm.split():
        padded = f" {token} "
        for n in NGRAM_SIZES:
            for i in range(len(padded) - n + 1):
                out.add(padded[i : i + n])
        out.add("w:" + token)
    padded_text = " " + norm
    for key, phrase_list in phrase_tables("category"):
        for p in phrase_list:
            if (p.norm in padded_text) if p.unspaced else (" " + p.norm in padded_text):
                out.update(f"p:{key}#{i}" for i in range(PHRASE_WEIGHT))
                break
    return sorted(out)
