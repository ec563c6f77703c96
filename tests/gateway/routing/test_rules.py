"""Rules files: validation with clear errors, first-match evaluation, the sample file."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.routing.rules import RoutingFacts, RulesError, decide, parse_toml, to_toml

SAMPLE = Path(__file__).parents[3] / "gateway" / "routing" / "rules.sample.toml"


def facts(lang: str = "en", severity: str = "normal", **kw: object) -> RoutingFacts:
    values: dict = {  # type: ignore[type-arg]
        "language_tags": frozenset({lang}),
        "severity": severity,
        "category": "other",
        "channel": "email",
        "customer_flags": frozenset(),
    }
    return RoutingFacts(**(values | kw))


def test_sample_has_language_critical_and_escalation_queues() -> None:
    rule_set = parse_toml(SAMPLE.read_text(encoding="utf-8"))
    names = {q.name for q in rule_set.queues}
    assert {"general", "critical", "escalation", "en", "zh", "ru", "id-ms", "ur"} <= names
    assert all(q.escalates_to == "escalation" for q in rule_set.queues if q.name != "escalation")
    assert rule_set.default_queue == "general"


@pytest.mark.parametrize(
    ("f", "queue", "rule"),
    [
        (facts("ru", "critical"), "critical", "critical"),
        (facts("ru", "high"), "ru", "lang-ru"),
        (facts("ms"), "general", None),  # plain "ms" tag alone: tags_for adds the group
        (frozenset({"ms", "id", "id-ms"}), "id-ms", "lang-id-ms"),
        (facts("zh"), "zh", "lang-zh"),
        (facts("unknown"), "general", None),
        (facts("sw"), "general", None),
        (facts("en", "high", customer_flags=frozenset({"watchlist"})), "escalation", "watchlist"),
    ],
)
def test_first_match_wins(f: RoutingFacts | frozenset[str], queue: str, rule: str | None) -> None:
    rule_set = parse_toml(SAMPLE.read_text(encoding="utf-8"))
    if isinstance(f, frozenset):
        f = facts(language_tags=f)
    decision = decide(rule_set, f)
    assert (decision.queue, decision.rule) == (queue, rule)
    assert decision.queue in decision.reason


def test_conditions_all_must_match() -> None:
    rule_set = parse_toml(
        """
        [[queues]]
        name = "tg-ru-fraud"
        [[rules]]
        name = "r"
        queue = "tg-ru-fraud"
        language = ["ru", "uk"]
        channel = ["telegram"]
        category = ["fraud_or_scam"]
        """
    )
    hit = facts("uk", channel="telegram", category="fraud_or_scam")
    assert decide(rule_set, hit).queue == "tg-ru-fraud"
    assert decide(rule_set, facts("uk", channel="email", category="fraud_or_scam")).rule is None


def test_disabled_rule_is_skipped() -> None:
    rule_set = parse_toml(
        '[[queues]]\nname = "q"\n[[rules]]\nname = "r"\nqueue = "q"\nenabled = false\n'
    )
    assert decide(rule_set, facts()).queue == "general"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("default_queue = ", "not valid TOML"),
        ('[[rules]]\nname = "r"\nqueue = "nowhere"', "names queue 'nowhere'"),
        (
            '[[queues]]\nname = "q"\n[[rules]]\nname = "r"\nqueue = "q"\nseverity = ["urgent"]',
            "severity urgent is not one of",
        ),
        ('[[queues]]\nname = "q"\n[[rules]]\nname = "r"\nqueue = "q"\nlanguage = []', "empty"),
        ('[[queues]]\nname = "q"\nescalates_to = "x"', "escalates to 'x'"),
        ('[[queues]]\nname = "q"\n[[queues]]\nname = "q"', "defined twice"),
        ('[[queues]]\nname = "q"\ncolour = "red"', "unknown keys colour"),
        ("surprise = 1", "unknown top-level keys: surprise"),
        (
            '[[queues]]\nname = "q"\n[[rules]]\nname = "r"\nqueue = "q"\nchannel = ["fax"]',
            "channel fax",
        ),
    ],
)
def test_bad_files_say_what_is_wrong(source: str, message: str) -> None:
    with pytest.raises(RulesError, match=message.replace("(", r"\(").replace("[", r"\[")):
        parse_toml(source)


def test_round_trip() -> None:
    rule_set = parse_toml(SAMPLE.read_text(encoding="utf-8"))
    assert parse_toml(to_toml(rule_set)) == rule_set
