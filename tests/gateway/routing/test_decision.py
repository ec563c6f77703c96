"""The one pure routing decision: commands, weak routing, triage queue, hints."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.routing.decision import MessageFacts, TicketState, is_command
from gateway.routing.language import LanguageDetectorService, LanguageHints
from gateway.routing.rules import RulesError, parse_toml
from gateway.routing.service import Router
from gateway.settings import RoutingSettings

RULES = parse_toml(
    """
default_queue = "general"
triage_queue = "triage"
[[queues]]
name = "triage"
[[queues]]
name = "critical"
[[queues]]
name = "ru"
[[queues]]
name = "en"
[[rules]]
name = "critical"
queue = "critical"
severity = ["critical"]
[[rules]]
name = "ru"
queue = "ru"
language = ["ru"]
[[rules]]
name = "en"
queue = "en"
language = ["en"]
"""
)


@pytest.fixture(scope="module")
def router(detector: LanguageDetectorService) -> Router:
    built = Router(RoutingSettings())
    built._detector = detector
    return built


def weak_ticket(confidence: float | None = 0.0, *, assigned: bool = False) -> TicketState:
    return TicketState(
        language=None, severity="normal", category="other", order_ref=None, amount=None,
        currency=None, assigned=assigned, escalated=False, routing_confidence=confidence,
    )  # fmt: skip


def facts(router: Router, text: str, **kw: object) -> MessageFacts:
    base = router.new_ticket_facts(text, RULES, channel="telegram")
    return MessageFacts(**{**{f: getattr(base, f) for f in base.__slots__}, **kw})  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["/start", "/start c29tZXRva2Vu", " /help@ParleyBot "])
def test_commands_decide_nothing(router: Router, text: str) -> None:
    assert is_command(text)
    outcome = router.decide(facts(router, text, hints=LanguageHints(channel="ru")))
    assert outcome.decision.queue == "general"
    assert outcome.ticket_language is None and outcome.confidence == 0.0
    assert any("command" in r for r in outcome.reasons)


def test_a_sentence_starting_with_a_slash_is_not_a_command() -> None:
    assert not is_command("/start is not working and the seller did not release")


def test_the_first_real_message_reroutes_a_weakly_routed_ticket(router: Router) -> None:
    outcome = router.decide(
        facts(router, "Продавец не отпускает USDT, я оплатил час назад", ticket=weak_ticket())
    )
    assert outcome.move and outcome.rerouted_weak
    assert (outcome.ticket_language, outcome.category) == ("ru", "crypto_not_released")
    assert outcome.decision.queue == "ru"


def test_a_weak_ticket_someone_holds_is_not_moved(router: Router) -> None:
    outcome = router.decide(
        facts(router, "Продавец не отпускает USDT", ticket=weak_ticket(assigned=True))
    )
    assert not outcome.move and not outcome.rerouted_weak


def test_a_confident_ticket_keeps_its_language(router: Router) -> None:
    strong = TicketState(
        language="en", severity="high", category="crypto_not_released", order_ref=None,
        amount=None, currency=None, assigned=False, escalated=False, routing_confidence=0.9,
    )  # fmt: skip
    outcome = router.decide(facts(router, "Продавец не отпускает USDT", ticket=strong))
    assert outcome.ticket_language == "en" and not outcome.rerouted_weak


def test_low_confidence_goes_to_the_triage_queue(router: Router) -> None:
    outcome = router.decide(facts(router, "pls check"))
    assert outcome.confidence < router.settings.triage_confidence
    assert outcome.decision.queue == "triage"
    assert "triage queue" in outcome.decision.reason


def test_critical_never_waits_in_triage(router: Router) -> None:
    outcome = router.decide(facts(router, "hacked"))
    assert outcome.severity == "critical"
    assert outcome.decision.queue == "critical"


def test_russian_in_latin_letters_with_the_telegram_hint(router: Router) -> None:
    outcome = router.decide(
        facts(router, "Prodavec ne otpuskaet usdt, ya oplatil", hints=LanguageHints(channel="ru"))
    )
    assert outcome.ticket_language == "ru"
    assert outcome.decision.queue == "ru"


def test_same_facts_same_outcome(router: Router) -> None:
    one = router.decide(facts(router, "seller did not release 1,500 USDT"))
    two = router.decide(facts(router, "seller did not release 1,500 USDT"))
    assert one == two
    assert one.amount == Decimal(1500)


def test_rules_refuse_an_unknown_triage_queue() -> None:
    with pytest.raises(RulesError, match="triage_queue 'nope' is not a defined queue"):
        parse_toml('triage_queue = "nope"\n')
