# ruff: noqa: RUF001  (test texts in many scripts)
"""Severity, category and stated fields on real dispute messages in many languages."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.routing.classify import (
    classify,
    extract_amount,
    extract_order_ref,
    normalise,
    parse_number,
)
from gateway.tickets.models import SEVERITY_RANK, Severity
from tests.gateway.routing.conftest import read_tsv

DISPUTES = read_tsv("disputes.tsv")
HIGH, CRITICAL = Decimal(1000), Decimal(10000)


def run(text: str, earlier: int = 0):  # type: ignore[no-untyped-def]
    return classify(
        text, high_amount_usd=HIGH, critical_amount_usd=CRITICAL, earlier_tickets=earlier
    )


@pytest.mark.parametrize(
    ("lang", "category", "severity", "text"),
    DISPUTES,
    ids=[f"{r[0]}-{r[1]}-{i}" for i, r in enumerate(DISPUTES)],
)
def test_dispute_messages(lang: str, category: str, severity: str, text: str) -> None:
    result = run(text)
    assert result.category == category, result.reasons
    assert SEVERITY_RANK[result.severity] <= SEVERITY_RANK[Severity(severity)], result.reasons
    assert any(r.startswith(f"category {category}") for r in result.reasons) or category == "other"


def test_disputes_cover_eight_languages() -> None:
    assert len({row[0] for row in DISPUTES} - {"mixed"}) >= 8


def test_large_amount_raises_to_critical() -> None:
    result = run("seller not released 15,000 USDT")
    assert result.severity == Severity.critical
    assert result.amount == Decimal(15000) and result.currency == "USDT"
    assert any("15000 USDT" in r and ">= 10000 USD" in r for r in result.reasons)


def test_amount_above_high_threshold_raises_to_high() -> None:
    result = run("buyer sent less, wrong amount, 2 000 EUR")
    assert result.severity == Severity.high


def test_small_amount_changes_nothing() -> None:
    assert run("wrong amount 20 USDT").severity == Severity.normal


def test_repeat_dispute_raises_one_step() -> None:
    assert run("wrong amount").severity == Severity.normal
    repeated = run("wrong amount", earlier=2)
    assert repeated.severity == Severity.high
    assert any("repeat dispute" in r for r in repeated.reasons)


def test_urgency_never_makes_critical_alone() -> None:
    assert run("URGENT!!! seller not released").severity == Severity.high


@pytest.mark.parametrize(
    ("raw", "value", "coin"),
    [
        ("1,500.50", "1500.50", False),
        ("1.500,50", "1500.50", False),
        ("1 500", "1500", False),
        ("1,500", "1500", False),
        ("0.125", "0.125", True),
        ("1.5", "1.5", False),
        ("1,500,000", "1500000", False),
    ],
)
def test_parse_number(raw: str, value: str, coin: bool) -> None:
    assert parse_number(raw, prefer_decimal=coin) == Decimal(value)


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("I paid 1,500 USDT yesterday", "1500", "USDT"),
        ("Rp 2 juta sudah transfer", "2000000", "IDR"),
        ("оплатил 15 000 руб", "15000", "RUB"),
        ("$300 gone", "300", "USD"),
        ("0.05 BTC", "0.05", "BTC"),
        ("5 mil reais", "5000", "BRL"),
        ("卖家不放币 5000元", "5000", "CNY"),
        ("500k VND", "500000", "VND"),
        ("₺2.500 gönderdim", "2500", "TRY"),
        ("2천만원 입금했는데", "20000000", "KRW"),
        ("50만원 보냈어요", "500000", "KRW"),
        ("3千万円振り込んだ", "30000000", "JPY"),
        ("被骗了1亿元", "100000000", "CNY"),
        ("转了2百万元", "2000000", "CNY"),
    ],
)
def test_extract_amount(text: str, amount: str, currency: str) -> None:
    assert extract_amount(text) == (Decimal(amount), currency)


@pytest.mark.parametrize("text", ["I try 3 times", "order 22612345678901234567", "no money"])
def test_no_amount(text: str) -> None:
    assert extract_amount(text) is None


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("order 22612345678901234567 not released", "22612345678901234567"),
        ("ордер №22698765432109876543", "22698765432109876543"),
        ("заказ № A1B2C3D4 не пришли деньги", "A1B2C3D4"),
        ("Order ID: P2P-88XK21", "P2P-88XK21"),
        ("paid 1500 USDT", None),
    ],
)
def test_extract_order_ref(text: str, ref: str | None) -> None:
    assert extract_order_ref(text) == ref


def test_normalise_folds_typing_habits() -> None:
    assert normalise("PLEASEEE Tiền chưa về!!!") == "please tien chua ve"
    assert normalise("ödemeyi yaptım") == "odemeyi yaptim"
