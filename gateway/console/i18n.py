"""The console's own labels, per language (locales/<lang>.json; English fills any gap)."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path

from fastapi import Request

LOCALES = Path(__file__).parent / "locales"
COOKIE = "parley_console_lang"
LANGUAGES = {
    "en": "English",
    "ru": "Русский",
    "zh": "中文",
    "vi": "Tiếng Việt",
    "id": "Bahasa Indonesia",
    "tr": "Türkçe",
    "es": "Español",
    "pt": "Português",
    "ar": "العربية",
}
RTL = frozenset({"ar"})


@cache
def catalogue(lang: str) -> dict[str, str]:
    english: dict[str, str] = json.loads((LOCALES / "en.json").read_text("utf-8"))
    path = LOCALES / f"{lang}.json"
    if lang == "en" or not path.exists():
        return english
    translated: dict[str, str] = json.loads(path.read_text("utf-8"))
    return english | translated


def translator(lang: str) -> Callable[..., str]:
    labels = catalogue(lang if lang in LANGUAGES else "en")

    def t(key: str, **values: str) -> str:
        text = labels.get(key, key)
        for name, value in values.items():
            text = text.replace("{" + name + "}", value)
        return text

    return t


def pick(request: Request) -> str:
    """The language chosen in the console, else the browser's first supported one."""
    chosen = request.cookies.get(COOKIE, "")
    if chosen in LANGUAGES:
        return chosen
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "en"
