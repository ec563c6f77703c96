"""The SLA sections of the rules file: parsed, validated with the place that is wrong,
and printed back so that `rules show` round-trips."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from gateway.routing import rules as routing_rules
from gateway.sla.defaults import DEFAULT_CONFIG
from gateway.sla.policy_file import parse_duration

SAMPLE = Path(routing_rules.__file__).with_name("rules.sample.toml")
QUEUES = '[[queues]]\nname = "general"\n[[queues]]\nname = "ja"\n'


def test_sample_file_has_a_matrix_and_round_trips() -> None:
    rule_set = routing_rules.parse_toml(SAMPLE.read_text())
    sla = rule_set.sla
    assert [p.name for p in sla.policies] == ["critical", "high", "normal", "low"]
    assert sla.policies[0].targets.first_response == timedelta(minutes=15)
    assert sla.calendar_for("ja").timezone == "Asia/Tokyo"
    assert sla.calendar_for("en").always_open
    assert sla.escalation.on_breach["resolution"] == 3
    assert sla.escalation.level(3).queue == "escalation"
    assert sla.escalation.rules[0].unclaimed_for == timedelta(minutes=10)
    assert routing_rules.parse_toml(routing_rules.to_toml(rule_set)) == rule_set


def test_policy_matches_on_optional_category_queue_and_channel() -> None:
    text = QUEUES + (
        '[[sla.policy]]\nname = "vip-chat"\nseverity = ["high"]\nchannel = ["webchat"]\n'
        'queue = ["ja"]\nfirst_response = "5m"\n'
        '[[sla.policy]]\nname = "rest"\nfirst_response = "1h30m"\n'
    )
    sla = routing_rules.parse_toml(text).sla
    facts = {"severity": "high", "category": "other", "queue": "ja", "channel": "webchat"}
    assert sla.policy_for(**facts).name == "vip-chat"  # type: ignore[union-attr]
    assert sla.policy_for(**(facts | {"channel": "email"})).name == "rest"  # type: ignore[union-attr]
    assert sla.policies[1].targets.first_response == timedelta(minutes=90)


def test_a_file_without_sla_sections_keeps_the_desk_defaults() -> None:
    assert routing_rules.parse_toml(QUEUES).sla == DEFAULT_CONFIG


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('[[sla.policy]]\nname = "x"\nfirst_response = "soon"', "duration like"),
        ('[[sla.policy]]\nname = "x"\nfirst_response = "0m"', "more than 0"),
        ('[[sla.policy]]\nname = "x"', "sets no target"),
        ('[[sla.policy]]\nname = "x"\nseverity = ["urgent"]\nresolution = "1h"', "urgent"),
        ('[[sla.policy]]\nname = "x"\nqueue = ["nope"]\nresolution = "1h"', "nope"),
        ("[sla]\nwarn_at = 1.5", "between 0 and 1"),
        ('[sla]\npause_statuses = ["resolved"]', "pause_statuses"),
        ('[calendars.x]\ntimezone = "Mars/Olympus"', "IANA timezone"),
        ('[calendars.x]\nhours = { mon = "17:00-09:00" }', "start before it ends"),
        ('[calendars.x]\nhours = { funday = "09:00-17:00" }', "not a weekday"),
        ('[calendars.x]\nholidays = ["25.12.2026"]', "not a date"),
        ('[calendars.x]\nqueues = ["nope"]', "nope"),
        ("[escalation]\non_breach = { first_response = 1 }", "from 2 to 9"),
        ('[escalation]\nline_managers = { nope = "ana" }', "nope"),
        ('[[escalation.level]]\nlevel = 3\ntelegram_chat = "not a chat"', "chat id"),
        ('[[escalation.rule]]\nname = "r"\nlevel = 2', "unclaimed_for is required"),
        ('[sla]\nspeed = "fast"', "unknown keys speed"),
        ('[[sla.policy]]\nname = "x"\nresolution = "99999999999999d"', "at most 365 days"),
        (
            '[[sla.policy]]\nname = "x"\nresolution = "300d"\n'
            '[calendars.x]\nhours = { mon = "09:00-10:00" }',
            "working hours a week cannot hold",
        ),
    ],
)
def test_bad_sla_sections_say_what_is_wrong(text: str, error: str) -> None:
    with pytest.raises(routing_rules.RulesError, match=error):
        routing_rules.parse_toml(QUEUES + text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("15m", timedelta(minutes=15)), ("1h30m", timedelta(minutes=90)), ("2d", timedelta(days=2)),
     (45, timedelta(minutes=45)), ("90s", timedelta(seconds=90))],
)  # fmt: skip
def test_durations(value: object, expected: timedelta) -> None:
    assert parse_duration(value) == expected


def test_the_readme_example_matrix_is_a_valid_rules_file() -> None:
    readme = (Path(__file__).parents[3] / "README.md").read_text()
    start = readme.index("[sla]\nwarn_at")
    block = readme[start : readme.index("```", start)]
    queues = "".join(f'[[queues]]\nname = "{n}"\n' for n in ("ja", "ko", "escalation", "critical"))
    sla = routing_rules.parse_toml(queues + block).sla
    assert sla.escalation.level(3).telegram_chat == "-1001234567890"
    assert sla.rota[0].hand_to == "night-lead"


def test_an_evidence_breach_escalates_only_where_the_rules_name_a_level() -> None:
    assert "evidence" not in DEFAULT_CONFIG.escalation.on_breach
    text = QUEUES + "[escalation]\non_breach = { evidence = 3 }\n"
    rule_set = routing_rules.parse_toml(text)
    assert rule_set.sla.escalation.on_breach["evidence"] == 3
    assert rule_set.sla.escalation.on_breach["first_response"] == 2  # the others keep theirs
    assert routing_rules.parse_toml(routing_rules.to_toml(rule_set)) == rule_set
    with pytest.raises(routing_rules.RulesError, match="evidence"):
        routing_rules.parse_toml(QUEUES + "[escalation]\non_breach = { evidense = 3 }\n")
