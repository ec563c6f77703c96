"""What a text's letters alone say about its language, before any statistical model.

Pure. Three rules of spelling, each certain enough to decide without the detector:

- Letters only one desk language writes: kana is Japanese, Hangul Korean, Thai script
  Thai, Devanagari Hindi; a vowel with a hook above or a dot below, a horned o or u
  and the barred d (ả ạ ơ ư đ) are Vietnamese.
- Arabic script: Urdu alone writes ye barree, noon ghunna, tte, ddal, rreh, heh
  doachashmee and heh goal (`_URDU_ONLY`); Persian (and Urdu) write پ چ ژ گ and the
  Persian kaf and yeh (ک ی), which Arabic writes ك ي. So a text with a letter
  of the first set is Urdu, one with a letter of the second and none of the first is
  Persian, and pure Arabic letters are left to the detector.
- A Latin word inside a text written in another script ("p2pで認証…", a brand, a ticker
  the scrubber did not know) is a loan: it is dropped before the detector reads the
  text, when the other script's letters outnumber Latin ones at least two to one.

Found by the detector's mistakes on the routing data's *training* split (`gateway routing
eval --all`); the held-out split only measures them.
"""

from __future__ import annotations

import re
import unicodedata

_URDU_ONLY = frozenset("ےںٹڈڑھہۃ")
_PERSIAN_LETTERS = frozenset("پچژگکی")
_ARABIC_BLOCK = (0x0600, 0x06FF)

_SCRIPT_LANGUAGE = (
    ((0x3040, 0x30FF), "ja", "kana"),
    ((0x31F0, 0x31FF), "ja", "kana"),
    ((0xAC00, 0xD7AF), "ko", "Hangul"),
    ((0x1100, 0x11FF), "ko", "Hangul"),
    ((0x0E00, 0x0E7F), "th", "Thai script"),
    ((0x0900, 0x097F), "hi", "Devanagari"),
)

_LATIN_WORD = re.compile(r"\b[A-Za-z][A-Za-z'-]*\b")


# Combining marks of letters no other desk language writes: hook above, dot below, horn.
_VIETNAMESE_MARKS = frozenset("\u0309\u0323\u031b")


def _vietnamese(ch: str) -> bool:
    if ch in "đĐ":
        return True
    return any(mark in _VIETNAMESE_MARKS for mark in unicodedata.normalize("NFD", ch))


def _letters(text: str) -> list[str]:
    return [ch for ch in text if unicodedata.category(ch).startswith("L")]


def spelled_language(text: str, languages: frozenset[str]) -> tuple[str, str] | None:
    """(language, reason) when the letters decide it among `languages`, else None."""
    letters = _letters(text)
    if not letters:
        return None
    for (low, high), code, script in _SCRIPT_LANGUAGE:
        if code in languages and any(low <= ord(ch) <= high for ch in letters):
            return code, f"language {code}: written in {script}"
    if "vi" in languages and any(_vietnamese(ch) for ch in letters):
        return "vi", "language vi: letters only Vietnamese writes"
    arabic = [ch for ch in letters if _ARABIC_BLOCK[0] <= ord(ch) <= _ARABIC_BLOCK[1]]
    if len(arabic) * 2 < len(letters):
        return None
    if "ur" in languages and any(ch in _URDU_ONLY for ch in arabic):
        return "ur", "language ur: Arabic script with letters only Urdu writes"
    if "fa" in languages and any(ch in _PERSIAN_LETTERS for ch in arabic):
        return "fa", "language fa: Arabic script with Persian letters and none only Urdu has"
    return None


def without_loanwords(text: str) -> str:
    """`text` without its Latin words when another script's letters outnumber the
    Latin ones two to one; otherwise `text` as it is."""
    letters = _letters(text)
    latin = sum(1 for ch in letters if ch.isascii())
    if latin == 0 or (len(letters) - latin) < 2 * latin:
        return text
    return " ".join(_LATIN_WORD.sub(" ", text).split())
