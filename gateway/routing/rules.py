"""Queues and ordered routing rules: parsed from TOML, validated, evaluated first-match.

Pure (no I/O). A rules file:

    default_queue = "general"

    [[queues]]
    name = "critical"
    escalates_to = "escalation"

    [[rules]]
    name = "critical-first"
    queue = "critical"
    severity = ["critical"]

A rule's conditions (language, severity, category, channel, customer_flags) are lists;
a missing one matches anything; all given ones must match. `customer_flags` needs every
flag listed to be set on the customer. The first enabled rule that matches names the
queue; otherwise the default queue.

The same file carries the desk's SLA: `[sla]`, `[[sla.policy]]`, `[calendars.NAME]`,
`[escalation]` and `[[rota]]`, parsed and validated by `gateway.sla.policy_file`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.ports import Channel
from gateway.queues.models import DEFAULT_QUEUE
from gateway.sla import policy as sla_policy
from gateway.sla import policy_file as sla_file
from gateway.sla.defaults import DEFAULT_CONFIG as DEFAULT_SLA
from gateway.text import first_problem
from gateway.tickets.models import Category, Severity

# Sections other features add (the SLA policy, for one) join this set with their parser.
TOP_LEVEL_KEYS = {"default_queue", "triage_queue", "queues", "rules"}
CONDITION_KEYS = ("language", "severity", "category", "channel", "customer_flags")
_ALLOWED: dict[str, frozenset[str]] = {
    "severity": frozenset(Severity),
    "category": frozenset(Category),
    "channel": frozenset(Channel),
}


class RulesError(ValueError):
    """A rules file that cannot be used, with the place that is wrong."""


@dataclass(frozen=True, slots=True)
class QueueSpec:
    name: str
    description: str | None = None
    escalates_to: str | None = None
    requires_agent_language: bool = False


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    queue: str
    conditions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    enabled: bool = True

    def describe(self) -> str:
        parts = [f"{k}={'|'.join(v)}" for k, v in self.conditions.items()]
        return " and ".join(parts) or "anything"


@dataclass(frozen=True, slots=True)
class RuleSet:
    queues: tuple[QueueSpec, ...]
    rules: tuple[Rule, ...]
    default_queue: str = DEFAULT_QUEUE
    # Where a ticket goes when routing is not sure enough (None: no triage queue, the
    # rules' own queue takes it anyway).
    triage_queue: str | None = None
    sla: sla_policy.SlaConfig = DEFAULT_SLA


@dataclass(frozen=True, slots=True)
class RoutingFacts:
    """What a rule can look at for one ticket."""

    language_tags: frozenset[str]
    severity: str
    category: str
    channel: str
    customer_flags: frozenset[str]


@dataclass(frozen=True, slots=True)
class Decision:
    queue: str
    rule: str | None
    reason: str


def parse_toml(source: str) -> RuleSet:
    """Parse and validate a rules file's text; raises RulesError saying what is wrong."""
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"not valid TOML: {exc}") from exc
    except RecursionError:
        raise RulesError("not valid TOML: nested too deeply") from None
    if problem := first_problem(data):
        raise RulesError(f"text that cannot be stored: {problem}")
    return parse(data)


def parse(data: Mapping[str, Any]) -> RuleSet:
    """Validate an already decoded rules document (TOML or JSON)."""
    unknown = set(data) - TOP_LEVEL_KEYS - set(sla_policy.SECTIONS)
    if unknown:
        raise RulesError(f"unknown top-level keys: {', '.join(sorted(unknown))}")
    default_queue = _name(data.get("default_queue", DEFAULT_QUEUE), "default_queue")
    queues: dict[str, QueueSpec] = {}
    for i, raw in enumerate(_tables(data.get("queues", []), "queues")):
        where = f"queues[{i}]"
        _only(raw, {"name", "description", "escalates_to", "requires_agent_language"}, where)
        name = _name(raw.get("name"), f"{where}.name")
        if name in queues:
            raise RulesError(f"{where}: queue {name!r} is defined twice")
        escalates = raw.get("escalates_to")
        strict = raw.get("requires_agent_language", False)
        if not isinstance(strict, bool):
            raise RulesError(f"{where}.requires_agent_language must be true or false")
        queues[name] = QueueSpec(
            name=name,
            description=_opt_str(raw.get("description"), f"{where}.description"),
            escalates_to=_name(escalates, f"{where}.escalates_to") if escalates else None,
            requires_agent_language=strict,
        )
    if default_queue not in queues:
        queues[default_queue] = QueueSpec(default_queue, "Everything no routing rule claims")
    triage_queue = data.get("triage_queue")
    if triage_queue is not None:
        triage_queue = _name(triage_queue, "triage_queue")
        if triage_queue not in queues:
            raise RulesError(f"triage_queue {triage_queue!r} is not a defined queue")
    for spec in queues.values():
        if spec.escalates_to and spec.escalates_to not in queues:
            raise RulesError(
                f"queue {spec.name!r} escalates to {spec.escalates_to!r}, which is not defined"
            )
        if spec.escalates_to == spec.name:
            raise RulesError(f"queue {spec.name!r} escalates to itself")

    rules: list[Rule] = []
    seen: set[str] = set()
    for i, raw in enumerate(_tables(data.get("rules", []), "rules")):
        where = f"rules[{i}]"
        _only(raw, {"name", "queue", "enabled", *CONDITION_KEYS}, where)
        name = _name(raw.get("name"), f"{where}.name")
        if name in seen:
            raise RulesError(f"{where}: rule {name!r} is defined twice")
        seen.add(name)
        queue = _name(raw.get("queue"), f"{where}.queue")
        if queue not in queues:
            raise RulesError(f"rule {name!r} names queue {queue!r}, which is not defined")
        conditions: dict[str, tuple[str, ...]] = {}
        for key in CONDITION_KEYS:
            if key in raw:
                values = _strings(raw[key], f"rule {name!r} {key}")
                if not values:
                    raise RulesError(f"rule {name!r}: {key} is empty (leave it out to match any)")
                allowed = _ALLOWED.get(key)
                bad = [v for v in values if allowed is not None and v not in allowed]
                if bad:
                    raise RulesError(
                        f"rule {name!r}: {key} {', '.join(bad)} is not one of "
                        f"{', '.join(sorted(allowed or ()))}"
                    )
                conditions[key] = tuple(v.lower() if key == "language" else v for v in values)
        enabled = raw.get("enabled", True)
        if not isinstance(enabled, bool):
            raise RulesError(f"rule {name!r}: enabled must be true or false")
        rules.append(Rule(name, queue, conditions, enabled))
    sla = DEFAULT_SLA
    if any(key in data for key in sla_policy.SECTIONS):
        try:
            sla = sla_file.parse(data, queues=frozenset(queues))
        except sla_policy.SlaConfigError as exc:
            raise RulesError(str(exc)) from None
    return RuleSet(tuple(queues.values()), tuple(rules), default_queue, triage_queue, sla)


def matches(rule: Rule, facts: RoutingFacts) -> bool:
    c = rule.conditions
    if "language" in c and not facts.language_tags & {v.lower() for v in c["language"]}:
        return False
    if "severity" in c and facts.severity not in c["severity"]:
        return False
    if "category" in c and facts.category not in c["category"]:
        return False
    if "channel" in c and facts.channel not in c["channel"]:
        return False
    return not ("customer_flags" in c and not set(c["customer_flags"]) <= facts.customer_flags)


def decide(rule_set: RuleSet, facts: RoutingFacts) -> Decision:
    """The first enabled rule that matches names the queue; else the default queue."""
    for rule in rule_set.rules:
        if rule.enabled and matches(rule, facts):
            return Decision(
                rule.queue, rule.name, f"rule {rule.name!r} ({rule.describe()}) -> {rule.queue}"
            )
    return Decision(
        rule_set.default_queue, None, f"no rule matched -> default queue {rule_set.default_queue}"
    )


def to_toml(rule_set: RuleSet) -> str:
    """The rule set written back as a rules file (what `gateway rules show` prints)."""
    lines = [f"default_queue = {_q(rule_set.default_queue)}"]
    if rule_set.triage_queue:
        lines.append(f"triage_queue = {_q(rule_set.triage_queue)}")
    lines.append("")
    for q in rule_set.queues:
        lines += ["[[queues]]", f"name = {_q(q.name)}"]
        if q.description:
            lines.append(f"description = {_q(q.description)}")
        if q.escalates_to:
            lines.append(f"escalates_to = {_q(q.escalates_to)}")
        if q.requires_agent_language:
            lines.append("requires_agent_language = true")
        lines.append("")
    for r in rule_set.rules:
        lines += ["[[rules]]", f"name = {_q(r.name)}", f"queue = {_q(r.queue)}"]
        lines += [f"{k} = {_list(v)}" for k, v in r.conditions.items()]
        if not r.enabled:
            lines.append("enabled = false")
        lines.append("")
    lines.append(sla_file.to_toml(rule_set.sla))
    return "\n".join(lines)


def _q(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _list(values: Iterable[str]) -> str:
    return "[" + ", ".join(_q(v) for v in values) + "]"


def _tables(value: Any, where: str) -> list[Mapping[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise RulesError(f"{where} must be an array of tables ([[{where}]])")
    return value


def _only(raw: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = set(raw) - allowed
    if unknown:
        raise RulesError(f"{where}: unknown keys {', '.join(sorted(unknown))}")


def _name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > 64:
        raise RulesError(f"{where} must be a name of 1 to 64 characters")
    return value.strip()


def _opt_str(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 500:
        raise RulesError(f"{where} must be text of at most 500 characters")
    return value


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise RulesError(f"{where} must be a list of strings")
    return tuple(v.strip() for v in value)
