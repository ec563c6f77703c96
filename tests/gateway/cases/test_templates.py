"""The texts parties receive: every language has every outcome, and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.cases import templates
from gateway.cases.models import DecisionOutcome

WHEN = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize("language", sorted(templates.DECISION))
@pytest.mark.parametrize("outcome", list(DecisionOutcome))
def test_decision_texts_name_the_order_outcome_and_deadline(
    language: str, outcome: DecisionOutcome
) -> None:
    text = templates.decision(language, order="77123", outcome=outcome, appeal_until=WHEN)
    assert "77123" in text and "2026-12-02 09:30 UTC" in text
    assert templates.OUTCOMES[language][outcome] in text


def test_decision_and_request_languages_agree_and_fall_back_to_english() -> None:
    assert set(templates.DECISION) == set(templates.OUTCOMES) == set(templates.EVIDENCE_REQUEST)
    text = templates.evidence_request("pt-BR", order="1", what="o extrato", deadline=WHEN)
    assert text.startswith("Sobre a ordem 1")
    fallback = templates.decision(
        "ja", order="1", outcome=DecisionOutcome.no_action, appeal_until=WHEN
    )
    assert fallback.startswith("Our decision on order 1")
