"""The exchange-rate table an operator loads (`gateway rates load FILE`), and lookups.

No network calls: rates come only from files. A file is CSV with the header
`currency,quote,rate,effective_from` or TOML with `[[rate]]` tables of those keys; a
rate says 1 `currency` = `rate` `quote` from `effective_from` (a date) until the pair's
next row. Loading the same pair and date again replaces its rate.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.db import utcnow
from gateway.errors import InvalidRequest
from gateway.reports.models import ExchangeRate

CURRENCY = re.compile(r"^[A-Z]{3}$")
FIELDS = ("currency", "quote", "rate", "effective_from")
LOAD_HINT = "load one with `gateway rates load FILE` (see README, Loss reports)"


class RatesFileError(ValueError):
    """A rates file that cannot be loaded; the message names the line and the fix."""


class RateMissing(InvalidRequest):
    """No rate converts the currency on that day; the detail names the fix."""


@dataclass(frozen=True)
class Rate:
    currency: str
    quote: str
    rate: Decimal
    effective_from: date


def parse(path: Path) -> list[Rate]:
    """Every rate of a CSV or TOML file (by its suffix), or RatesFileError."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RatesFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise RatesFileError(f"{path} is not UTF-8 text") from exc
    if path.suffix.lower() == ".toml":
        return parse_toml(text)
    if path.suffix.lower() == ".csv":
        return parse_csv(text)
    raise RatesFileError(f"{path}: name a .csv or .toml file")


def parse_csv(text: str) -> list[Rate]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [f for f in FIELDS if f not in header]
    if missing:
        raise RatesFileError(
            f"line 1: the header needs {', '.join(FIELDS)} (missing {', '.join(missing)})"
        )
    rates = []
    for row in reader:
        values = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        rates.append(_rate(values, f"line {reader.line_num}"))
    return _unique(rates)


def parse_toml(text: str) -> list[Rate]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RatesFileError(f"not valid TOML: {exc}") from exc
    entries = data.get("rate")
    if not isinstance(entries, list) or not entries:
        raise RatesFileError("the file needs [[rate]] tables with " + ", ".join(FIELDS))
    return _unique([_rate(e, f"[[rate]] number {n}") for n, e in enumerate(entries, 1)])


def _rate(values: dict[str, Any], where: str) -> Rate:
    if not isinstance(values, dict):
        raise RatesFileError(f"{where}: not a table")
    currency = str(values.get("currency", "")).strip().upper()
    quote = str(values.get("quote", "")).strip().upper()
    for name, code in (("currency", currency), ("quote", quote)):
        if not CURRENCY.match(code):
            raise RatesFileError(f"{where}: {name} {code!r} is not a 3-letter ISO 4217 code")
    if currency == quote:
        raise RatesFileError(f"{where}: a rate from {currency} to itself is always 1")
    raw_rate = values.get("rate")
    try:
        rate = Decimal(str(raw_rate).strip())
    except InvalidOperation:
        raise RatesFileError(f"{where}: rate {raw_rate!r} is not a number") from None
    if not rate.is_finite() or rate <= 0 or rate >= Decimal(10) ** 20:
        raise RatesFileError(f"{where}: rate {raw_rate!r} must be a positive number")
    if rate.as_tuple().exponent < -12:  # type: ignore[operator]
        raise RatesFileError(f"{where}: rate {raw_rate!r} has more than 12 decimal places")
    raw_date = values.get("effective_from")
    if isinstance(raw_date, date):
        effective = raw_date
    else:
        try:
            effective = date.fromisoformat(str(raw_date).strip())
        except ValueError:
            raise RatesFileError(
                f"{where}: effective_from {raw_date!r} is not a date (YYYY-MM-DD)"
            ) from None
    return Rate(currency, quote, rate, effective)


def _unique(rates: list[Rate]) -> list[Rate]:
    if not rates:
        raise RatesFileError("the file has no rates")
    seen: dict[tuple[str, str, date], Rate] = {}
    for r in rates:
        key = (r.currency, r.quote, r.effective_from)
        if key in seen and seen[key].rate != r.rate:
            raise RatesFileError(
                f"{r.currency}->{r.quote} on {r.effective_from} is given twice with "
                f"different rates ({seen[key].rate} and {r.rate})"
            )
        seen[key] = r
    return list(seen.values())


async def load(session: AsyncSession, rates: list[Rate]) -> tuple[int, int]:
    """Store the rates (a pair and date already stored gets the new rate). Returns
    (added, replaced). Flushes; the caller commits."""
    added = replaced = 0
    now = utcnow()
    for r in rates:
        row = await session.scalar(
            sa.select(ExchangeRate).where(
                col(ExchangeRate.currency) == r.currency,
                col(ExchangeRate.quote) == r.quote,
                col(ExchangeRate.effective_from) == r.effective_from,
            )
        )
        if row is None:
            session.add(
                ExchangeRate(
                    currency=r.currency,
                    quote=r.quote,
                    rate=r.rate,
                    effective_from=r.effective_from,
                    loaded_at=now,
                )
            )
            added += 1
        elif row.rate != r.rate:
            row.rate, row.loaded_at = r.rate, now
            replaced += 1
    await session.flush()
    return added, replaced


async def rate_on(
    session: AsyncSession, currency: str, quote: str, day: date
) -> tuple[Decimal, date | None]:
    """The rate converting `currency` into `quote` on `day` and the date it took effect
    (None for a currency into itself); RateMissing when none is loaded for that day."""
    if currency == quote:
        return Decimal(1), None
    row = await session.scalar(
        sa.select(ExchangeRate)
        .where(
            col(ExchangeRate.currency) == currency,
            col(ExchangeRate.quote) == quote,
            col(ExchangeRate.effective_from) <= day,
        )
        .order_by(col(ExchangeRate.effective_from).desc())
        .limit(1)
    )
    if row is None:
        raise RateMissing(f"no {currency}->{quote} exchange rate effective on {day}: {LOAD_HINT}")
    return exact(Decimal(row.rate)), row.effective_from


def exact(value: Decimal) -> Decimal:
    """Without trailing zeros, never in exponent form (`1.080000` -> `1.08`, `100`)."""
    return Decimal(format(value.normalize(), "f"))


async def listing(session: AsyncSession) -> list[ExchangeRate]:
    rows = await session.execute(
        sa.select(ExchangeRate).order_by(
            col(ExchangeRate.currency), col(ExchangeRate.quote), col(ExchangeRate.effective_from)
        )
    )
    return list(rows.scalars())
