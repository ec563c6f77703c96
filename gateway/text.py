"""One set of rules for text that comes from outside, shared by every surface. Pure.

What the database and every later read can hold: no NUL (PostgreSQL refuses it in text),
no lone surrogates (no encoder can write them), lengths that fit the columns. Names and
subjects are display text on one line: no control characters (CR/LF would let a name
forge a header), no bidi overrides (they make a name read as something else), and a
name that is only invisible characters is no name.

`clean_*` functions repair what can be repaired (intake from channels that retry forever
must store what it can); `problem_in` names what an API should refuse with a 4xx.
"""

from __future__ import annotations

import re
import unicodedata

# Removed from display lines: explicit bidi embeddings, overrides and isolates, the marks
# that turn text around, and zero-width characters no name needs.
_REMOVED = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u200b\u2060\ufeff\u180e"
)
# Kept (joiners shape Persian and Indic names) but invisible: alone they make no name.
_INVISIBLE = frozenset("\u200c\u200d\u00ad")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")

# Integer ids: database columns are 32-bit on the core tables in SQLite and PostgreSQL
# alike; BIGINT where a channel's own ids (Telegram chat ids) are stored.
MAX_INT32 = 2**31 - 1
MAX_INT64 = 2**63 - 1


def has_lone_surrogate(value: str) -> bool:
    return _LONE_SURROGATE.search(value) is not None


def problem_in(value: str, *, max_chars: int | None = None) -> str | None:
    """Why `value` cannot be stored as text, or None when it can."""
    if "\x00" in value:
        return "contains a NUL character"
    if has_lone_surrogate(value):
        return "contains a lone surrogate (not valid Unicode text)"
    if max_chars is not None and len(value) > max_chars:
        return f"is longer than {max_chars} characters"
    return None


def clean_text(value: str, *, max_chars: int | None = None) -> str:
    """Body text as it can be stored: NULs dropped, lone surrogates replaced, cut."""
    value = value.replace("\x00", "")
    if has_lone_surrogate(value):
        value = _LONE_SURROGATE.sub("\ufffd", value)
    if max_chars is not None:
        value = value[:max_chars]
    return value


def display_line(value: str | None, *, max_chars: int) -> str | None:
    """A name or subject as one line of display text, or None when nothing visible is
    left: controls (CR, LF, tab, C1) become spaces, runs of
    space collapse, cut to `max_chars`; zero-width and bidi controls are removed."""
    if value is None:
        return None
    value = clean_text(value)
    out: list[str] = []
    for ch in value:
        if ch in _REMOVED:
            continue
        if unicodedata.category(ch) == "Cc" or ch in "\u2028\u2029":
            out.append(" ")
        else:
            out.append(ch)
    line = " ".join("".join(out).split())[:max_chars].strip()
    if not any(ch not in _INVISIBLE and not ch.isspace() for ch in line):
        return None
    return line


def display_name(value: str | None, *, max_chars: int = 200) -> str | None:
    """A person's display name: a display line that never holds an address (a name
    showing `carol@example.org` would pass for Carol's address)."""
    line = display_line(value, max_chars=max_chars)
    if line is None or "@" in line:
        return None
    return line


def parse_id(value: str, *, maximum: int = MAX_INT32) -> int | None:
    """A positive integer id written in ASCII digits that fits the column, else None.
    (`str.isdigit` and `int` also accept '²', '①' and Arabic-Indic digits.)"""
    if not value or len(value) > 19 or not value.isascii() or not value.isdigit():
        return None
    number = int(value)
    return number if 0 < number <= maximum else None


def first_problem(value: object, *, depth: int = 0) -> str | None:
    """The first string anywhere in a decoded JSON value that cannot be stored, as
    `where: why`; None when every string can. Nesting past 32 levels is a problem too."""
    if depth > 32:
        return "nested too deeply"
    if isinstance(value, str):
        return problem_in(value)
    if isinstance(value, dict):
        for key, item in value.items():
            found = first_problem(key, depth=depth + 1) or first_problem(item, depth=depth + 1)
            if found:
                return (
                    f"{key!s:.40}: {found}" if isinstance(key, str) and "\x00" not in key else found
                )
    elif isinstance(value, list | tuple):
        for item in value:
            found = first_problem(item, depth=depth + 1)
            if found:
                return found
    return None
