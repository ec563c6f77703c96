"""Spelling rules and the desk's own n-gram model: what decides a language before, and
beside, lingua."""

from __future__ import annotations

import pytest

from gateway.routing import ngrams
from gateway.routing.language import LanguageDetectorService, parse_languages
from gateway.routing.scripts import spelled_language, without_loanwords
from gateway.settings import DEFAULT_LANGUAGES

DESK = parse_languages(DEFAULT_LANGUAGES)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("アカウントが凍結された", "ja"),  # kana
        ("판매자가 코인을 안 풀어요", "ko"),
        ("ผู้ขายไม่ปล่อยเหรียญ", "th"),
        ("पैसे नहीं आए", "hi"),
        ("cảm ơn hỗ trợ nhanh quá", "vi"),  # hook above, dot below
        ("تھرڈ پارٹی پیمنٹ ہے", "ur"),  # letters only Urdu writes
        ("پرداخت از طرف شخص ثالث", "fa"),  # Persian letters, none only Urdu has
    ],
)
def test_letters_only_one_desk_language_writes_decide(text: str, code: str) -> None:
    found = spelled_language(text, DESK)
    assert found is not None and found[0] == code


def test_arabic_letters_and_latin_text_are_left_to_the_detector() -> None:
    assert spelled_language("تم الغاء الاوردر بعد ما دفعت", DESK) is None
    assert spelled_language("the seller did not release", DESK) is None
    # A language the desk does not serve is never named.
    assert spelled_language("アカウント", frozenset({"en", "zh"})) is None


def test_latin_loanwords_are_dropped_only_inside_another_script() -> None:
    assert without_loanwords("p で認証マーチャントになる方法") == "で認証マーチャントになる方法"
    assert without_loanwords("seller не отпускает") == "seller не отпускает"


def test_the_shipped_model_knows_unaccented_portuguese_from_spanish() -> None:
    model = ngrams.shipped()
    assert model is not None
    assert {"es", "pt", "tl", "ms", "id"} <= set(model.languages)
    pt = model.posterior("voce nao liberou a cripto e o vendedor nao responde")
    es = model.posterior("el vendedor no libera la cripto y no responde")
    assert max(pt, key=pt.__getitem__) == "pt"
    assert max(es, key=es.__getitem__) == "es"
    assert model.posterior("") == {}


def test_low_accuracy_detection_hears_the_own_models_vote() -> None:
    detector = LanguageDetectorService(DESK, min_confidence=0.25, low_accuracy=True)
    result = detector.detect("vendedor nao libera a cripto e nao responde o chat")
    assert result.code == "pt"
    # Text in another script never asks it.
    assert detector.detect("Продавец не отпускает крипту").code == "ru"
