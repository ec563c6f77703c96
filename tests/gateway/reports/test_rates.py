"""The rates table an operator loads: CSV and TOML, refused files name the line and the
fix, reloads replace, and lookups take the rate in force on the day."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.reports import rates
from gateway.reports.codes import reason_code_problem
from gateway.runtime import Runtime
from tests.processes import gateway_env, run_cli

CSV = "currency,quote,rate,effective_from\nSEK,USD,0.094,2026-11-01\nSEK,USD,0.095,2026-11-20\n"
TOML = """
[[rate]]
currency = "NOK"
quote = "USD"
rate = "0.091"
effective_from = 2026-11-01
"""


def test_csv_and_toml_give_the_same_rates(tmp_path: Path) -> None:
    assert rates.parse_csv(CSV) == [
        rates.Rate("SEK", "USD", Decimal("0.094"), date(2026, 11, 1)),
        rates.Rate("SEK", "USD", Decimal("0.095"), date(2026, 11, 20)),
    ]
    assert rates.parse_toml(TOML) == [rates.Rate("NOK", "USD", Decimal("0.091"), date(2026, 11, 1))]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("currency,quote,rate\nSEK,USD,1\n", "line 1: the header needs"),
        ("currency,quote,rate,effective_from\nSEK,USD,x,2026-11-01\n", "line 2: rate 'x'"),
        ("currency,quote,rate,effective_from\nSEK,USD,-1,2026-11-01\n", "positive"),
        ("currency,quote,rate,effective_from\nsekk,USD,1,2026-11-01\n", "3-letter ISO 4217"),
        ("currency,quote,rate,effective_from\nUSD,USD,1,2026-11-01\n", "to itself"),
        ("currency,quote,rate,effective_from\nSEK,USD,1,30.11.2026\n", "YYYY-MM-DD"),
        ("currency,quote,rate,effective_from\n", "no rates"),
        (
            "currency,quote,rate,effective_from\nSEK,USD,1,2026-11-01\nSEK,USD,2,2026-11-01\n",
            "given twice",
        ),
    ],
)
def test_a_bad_csv_names_the_line_and_the_problem(text: str, reason: str) -> None:
    with pytest.raises(rates.RatesFileError, match=reason):
        rates.parse_csv(text)


def test_a_bad_toml_is_refused() -> None:
    with pytest.raises(rates.RatesFileError, match="not valid TOML"):
        rates.parse_toml("[[rate]\n")
    with pytest.raises(rates.RatesFileError, match=r"\[\[rate\]\] tables"):
        rates.parse_toml('title = "x"\n')


async def test_the_rate_in_force_on_the_day_is_used(runtime: Runtime) -> None:
    async with runtime.sessionmaker.begin() as session:
        assert await rates.load(session, rates.parse_csv(CSV)) == (2, 0)
        assert await rates.load(session, rates.parse_csv(CSV)) == (0, 0)
        replaced = CSV.replace("0.095", "0.096")
        assert await rates.load(session, rates.parse_csv(replaced)) == (0, 1)
        assert await rates.rate_on(session, "SEK", "USD", date(2026, 11, 19)) == (
            Decimal("0.094"),
            date(2026, 11, 1),
        )
        assert await rates.rate_on(session, "SEK", "USD", date(2026, 12, 1)) == (
            Decimal("0.096"),
            date(2026, 11, 20),
        )
        assert await rates.rate_on(session, "USD", "USD", date(2026, 12, 1)) == (Decimal(1), None)
        with pytest.raises(rates.RateMissing, match="gateway rates load FILE"):
            await rates.rate_on(session, "SEK", "USD", date(2026, 10, 31))


def test_rates_load_and_show_on_the_command_line(database_url: str, tmp_path: Path) -> None:
    env = gateway_env(database_url, tmp_path)
    path = tmp_path / "rates.toml"
    path.write_text(TOML.replace("NOK", "DKK"), encoding="utf-8")
    loaded = run_cli(["rates", "load", str(path)], env, tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    assert "1 added, 0 replaced, 0 unchanged" in loaded.stdout
    shown = run_cli(["rates", "show"], env, tmp_path)
    assert shown.returncode == 0 and "DKK,USD,0.091,2026-11-01" in shown.stdout
    bad = tmp_path / "rates.csv"
    bad.write_text("currency,quote,rate,effective_from\nDKK,USD,zero,2026-11-01\n")
    refused = run_cli(["rates", "load", str(bad)], env, tmp_path)
    assert refused.returncode == 2 and "line 2: rate 'zero' is not a number" in refused.stderr
    other = run_cli(["rates", "load", str(tmp_path / "rates.xlsx")], env, tmp_path)
    assert other.returncode == 2 and "cannot read" in other.stderr


@pytest.mark.parametrize(
    ("network", "code", "ok"),
    [
        ("visa", "10.4", True),
        ("visa", "13.9", True),
        ("visa", "12.7", True),
        ("visa", "10.6", False),
        ("visa", "14.1", False),
        ("visa", "9.1", False),
        ("mastercard", "4837", True),
        ("mastercard", "4853", True),
        ("mastercard", "4937", False),
        ("mastercard", "48371", False),
        ("amex", "4837", False),
    ],
)
def test_reason_codes(network: str, code: str, ok: bool) -> None:
    assert (reason_code_problem(network, code) is None) is ok
