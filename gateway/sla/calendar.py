"""Business calendars: when the desk's clocks run. Pure (no I/O).

A calendar has a timezone (IANA name, through zoneinfo), weekly working hours per
weekday and holidays (local dates). SLA targets count only working time: a 4 h target
on a ticket that arrives Friday 16:00 in a 09:00-17:00 Mon-Fri calendar is due Monday
12:00 local time. The default calendar is 24x7 (every second counts).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A calendar with working hours but a date far beyond any target is misconfigured; the
# walk stops here instead of looping forever (about three years of days).
MAX_DAYS = 1100

Span = tuple[int, int]  # minutes from local midnight: [start, end), end may be 1440


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    name: str = "24x7"
    timezone: str = "UTC"
    # weekday (0 = Monday) -> working spans; None = open around the clock, every day.
    hours: Mapping[int, tuple[Span, ...]] | None = None
    holidays: frozenset[date] = field(default_factory=frozenset)

    @property
    def always_open(self) -> bool:
        return self.hours is None and not self.holidays

    def open_spans(
        self, start: datetime, end: datetime | None = None
    ) -> Iterator[tuple[datetime, datetime]]:
        """Working time from `start` on, as UTC [from, to) pieces in order, cut at `end`."""
        start = start.astimezone(UTC)
        if self.always_open:
            yield start, end.astimezone(UTC) if end else datetime.max.replace(tzinfo=UTC)
            return
        zone = ZoneInfo(self.timezone)
        day = start.astimezone(zone).date() - timedelta(days=1)  # a span may cross midnight
        for _ in range(MAX_DAYS):
            if end is not None and datetime.combine(day, time(), zone) >= end:
                return
            for lo, hi in self._spans(day):
                lo_at = _local(day, lo, zone)
                hi_at = _local(day, hi, zone)
                lo_at, hi_at = max(lo_at, start), hi_at if end is None else min(hi_at, end)
                if lo_at < hi_at:
                    yield lo_at, hi_at
            day += timedelta(days=1)
        raise ValueError(f"calendar {self.name!r} has no working time within {MAX_DAYS} days")

    def _spans(self, day: date) -> tuple[Span, ...]:
        if day in self.holidays:
            return ()
        if self.hours is None:
            return ((0, 1440),)
        return self.hours.get(day.weekday(), ())

    def add(self, start: datetime, amount: timedelta) -> datetime:
        """The moment `amount` of working time after `start`."""
        left = amount
        for lo, hi in self.open_spans(start):
            if hi - lo >= left:
                return lo + left
            left -= hi - lo
        raise AssertionError("open_spans is unbounded")  # pragma: no cover

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Working time in [start, end)."""
        if end <= start:
            return timedelta(0)
        return sum((hi - lo for lo, hi in self.open_spans(start, end)), timedelta(0))


def _local(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    """A local wall time as UTC; 1440 is the next midnight."""
    when = datetime.combine(day, time(), zone) + timedelta(days=minutes // 1440)
    when = when.replace(hour=(minutes % 1440) // 60, minute=minutes % 60)
    return when.astimezone(UTC)


TWENTY_FOUR_SEVEN = BusinessCalendar()
