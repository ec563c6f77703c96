"""Routing fixtures: one detector for the whole run (the models take ~360 MB)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.routing.language import LanguageDetectorService, parse_languages
from gateway.settings import DEFAULT_LANGUAGES, RoutingSettings

DATA = Path(__file__).parent / "data"


def read_tsv(name: str) -> list[list[str]]:
    """Rows of a data file, comments and blank lines skipped."""
    rows = []
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            rows.append(line.split("\t"))
    return rows


@pytest.fixture(scope="session")
def detector() -> LanguageDetectorService:
    return LanguageDetectorService(
        parse_languages(DEFAULT_LANGUAGES), min_confidence=RoutingSettings().min_confidence
    )
