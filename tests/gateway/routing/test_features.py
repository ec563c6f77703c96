# ruff: noqa: RUF001  (test texts in many scripts)
"""What the triage model reads: script-aware folding, unspaced n-grams, phrase hits."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from gateway.routing.classify import extract_amount, normalise, phrase_tables
from gateway.routing.features import feature_text, features, phrase_keys
from gateway.routing.triage import CATEGORY_SEVERITIES, TriageClassifier, shipped_model
from gateway.tickets.models import Category, Severity

DEV_SET = Path(__file__).resolve().parents[2] / "data" / "routing"


def test_marks_that_are_letters_are_kept() -> None:
    # Devanagari matras, Thai vowels and Korean syllables were once stripped or split.
    assert feature_text("मैंने पेमेंट किया") == "मैंने पेमेंट किया"
    assert feature_text("ปล่อยเหรียญ") == "ปล่อยเหรียญ"
    assert feature_text("입금했는데") == "입금했는데"
    assert len(feature_text("입금했는데")) == 5  # syllables, not loose jamo
    assert feature_text("がぎぐ") == "がぎぐ"


def test_accents_fold_where_customers_drop_them() -> None:
    assert feature_text("yêu cầu ngân hàng!!") == "yeu cau ngan hang"
    assert feature_text("ödemeyi yaptım PLEASEEE") == "odemeyi yaptim please"
    assert feature_text("сَرقوا").endswith("رقوا")  # harakat go


def test_unspaced_scripts_give_character_ngrams() -> None:
    feats = features("我付了款但賣家沒有放幣")
    assert {"c:放", "c:放幣", "c:賣家沒"} <= set(feats)
    assert not any(f.startswith("w:我") for f in feats)  # no one-sentence "word"


def test_phrase_index_finds_what_a_scan_of_every_phrase_finds() -> None:
    def scan(text: str) -> set[str]:
        padded = " " + normalise(text)
        return {
            key
            for key, phrase_list in phrase_tables("category")
            if any(
                (p.norm in padded) if p.unspaced else (" " + p.norm in padded) for p in phrase_list
            )
        }

    for path in sorted(DEV_SET.glob("*.jsonl"))[:6]:
        for line in path.read_text(encoding="utf-8").splitlines():
            text = json.loads(line)["text"]
            assert phrase_keys(text) == scan(text), text


def test_ringgit_and_rupiah_may_touch_the_number() -> None:
    assert extract_amount("saya bank in rm60000 untuk beli usdt") == (Decimal(60000), "MYR")
    assert extract_amount("rp500.000 kemarin") == (Decimal(500000), "IDR")
    assert extract_amount("usdt2 order") is None


def test_severity_stays_within_what_the_policy_allows_a_category() -> None:
    triage = TriageClassifier(shipped_model(), Decimal(1000), Decimal(10000))
    for text in (
        "buyer paid from his wife's account is that ok",
        "hola necesito ayuda",
        "the amount i got is 5 usdt less than the order",
    ):
        found = triage.classify(text)
        assert found.severity in CATEGORY_SEVERITIES[found.category], (text, found.reasons)
    assert CATEGORY_SEVERITIES[Category.account_takeover] == (Severity.critical,)


def test_a_message_that_says_little_is_routed_weakly() -> None:
    triage = TriageClassifier(shipped_model(), Decimal(1000), Decimal(10000))
    for text in ("ok", "pls check", "any update"):
        found = triage.classify(text)
        assert found.confidence < 0.4, (text, found.reasons)
        assert any("too little to route on" in r for r in found.reasons)
    # A phrase of the lists, an amount or a few more words are enough.
    assert triage.classify("hacked").confidence == 1.0
    assert triage.classify("seller not releasing my usdt").confidence >= 0.4


def test_a_takeover_phrase_decides_over_the_model() -> None:
    triage = TriageClassifier(shipped_model(), Decimal(1000), Decimal(10000))
    found = triage.classify("제가 한 출금이 아니에요 누가 로그인했어요")
    assert (found.category, found.severity) == (Category.account_takeover, Severity.critical)
