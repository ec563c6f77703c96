"""Readers of the SLA sections' values (durations, spans, levels, names, tables): each
checks one value of the decoded TOML and says where it is wrong (SlaConfigError)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from gateway.sla.calendar import Span
from gateway.sla.policy import SlaConfigError

_DURATION = re.compile(r"(\d+)\s*(d|h|m|s)")
_SPAN = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
MAX_TARGET = timedelta(days=365)


def duration(value: Any, where: str = "duration") -> timedelta:
    """`"15m"`, `"4h"`, `"1h30m"`, `"2d"`, `"90s"`, or whole minutes as a number."""
    try:
        return _checked_duration(value, where)
    except OverflowError:  # "99999999999d": beyond what a timedelta holds
        raise SlaConfigError(f"{where} must be at most 365 days") from None


def _checked_duration(value: Any, where: str) -> timedelta:
    if isinstance(value, int) and not isinstance(value, bool):
        result = timedelta(minutes=value)
    elif (
        isinstance(value, str)
        and (text := value.replace(" ", "").lower())
        and _DURATION.sub("", text) == ""
    ):
        units = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
        result = sum(
            (timedelta(**{units[u]: int(n)}) for n, u in _DURATION.findall(text)), timedelta(0)
        )
    else:
        raise SlaConfigError(f'{where} must be a duration like "15m", "4h", "1h30m" or "2d"')
    if not timedelta(0) < result <= MAX_TARGET:
        raise SlaConfigError(f"{where} must be more than 0 and at most 365 days")
    return result


def span(text: str, where: str) -> Span:
    m = _SPAN.match(text.strip())
    if not m:
        raise SlaConfigError(f'{where}: {text!r} is not a span like "09:00-17:00"')
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    lo, hi = h1 * 60 + m1, h2 * 60 + m2
    if h1 > 23 or m1 > 59 or m2 > 59 or hi > 1440 or hi <= lo:
        raise SlaConfigError(
            f"{where}: {text!r} must start before it ends, within one day (end at most 24:00)"
        )
    return lo, hi


def level(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 2 <= value <= 9:
        raise SlaConfigError(
            f"{where} must be a level from 2 to 9 (level 1 is the assignee or queue)"
        )
    return value


def known_queues(names: tuple[str, ...], queues: frozenset[str], where: str) -> None:
    unknown = [q for q in names if q not in queues]
    if unknown:
        raise SlaConfigError(f"{where}: queue {', '.join(unknown)} is not defined in [[queues]]")


def table(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise SlaConfigError(f"{where} must be a table ([{where}])")
    return value


def tables(value: Any, where: str) -> list[Mapping[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise SlaConfigError(f"{where} must be an array of tables ([[{where}]])")
    return value


def only(raw: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = set(raw) - allowed
    if unknown:
        raise SlaConfigError(f"{where}: unknown keys {', '.join(sorted(unknown))}")


def name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > 100:
        raise SlaConfigError(f"{where} must be a name of 1 to 100 characters")
    return value.strip()


def strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise SlaConfigError(f"{where} must be a list of strings")
    return tuple(v.strip() for v in value)
