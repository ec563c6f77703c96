"""The console's labels: every language has every label, placeholders intact; Arabic is
laid out right to left; the chosen language sticks."""

from __future__ import annotations

import json
import re

import pytest
from fastapi import FastAPI

from gateway.console import i18n
from gateway.runtime import Runtime
from tests.desk import make_agent
from tests.gateway.console.helpers import browser, sign_in

ENGLISH = json.loads((i18n.LOCALES / "en.json").read_text("utf-8"))


@pytest.mark.parametrize("lang", sorted(set(i18n.LANGUAGES) - {"en"}))
def test_every_label_is_translated_with_its_placeholders(lang: str) -> None:
    labels = json.loads((i18n.LOCALES / f"{lang}.json").read_text("utf-8"))
    assert set(labels) == set(ENGLISH)
    for key, text in labels.items():
        assert text.strip(), key
        assert set(re.findall(r"\{\w+\}", text)) == set(re.findall(r"\{\w+\}", ENGLISH[key])), key


async def test_language_choice_and_right_to_left(
    app: FastAPI, runtime: Runtime, unique: str
) -> None:
    token = await make_agent(runtime, [f"q-{unique}"])
    async with browser(app) as http:
        ru = await http.get("/console/sign-in", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
        assert 'lang="ru" dir="ltr"' in ru.text and "Войти" in ru.text
        await sign_in(http, token)
        chosen = await http.post(
            "/console/language", data={"lang": "ar", "next": "/console/queues"}
        )
        assert chosen.status_code == 303 and chosen.headers["location"] == "/console/queues"
        page = await http.get("/console/queues")
        assert 'lang="ar" dir="rtl"' in page.text and "طوابيرك" in page.text
        # An off-site `next` never becomes a redirect elsewhere (no open redirect).
        away = await http.post("/console/language", data={"lang": "zh", "next": "//evil.example"})
        assert away.headers["location"] == "/console/queues"
        unknown = await http.post(
            "/console/language", data={"lang": "xx", "next": "/console/queues"}
        )
        assert "parley_console_lang" not in unknown.headers.get("set-cookie", "")
