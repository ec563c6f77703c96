"""The SLA configuration as data: policies and their targets, business calendars per
queue, the escalation matrix and the shift rota. `gateway.sla.policy_file` reads it from
and writes it to the rules file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from gateway.sla.calendar import BusinessCalendar

TARGETS = ("first_response", "next_response", "resolution")
SEVERITIES = ("critical", "high", "normal", "low")
STATUSES = ("new", "open", "pending_customer", "escalated")
POLICY_CONDITIONS = ("severity", "category", "queue", "channel")
SECTIONS = ("sla", "calendars", "escalation", "rota")
NOTIFY_CHANNELS = ("email", "telegram")


class SlaConfigError(ValueError):
    """An SLA section that cannot be used, with the place that is wrong."""


@dataclass(frozen=True, slots=True)
class Targets:
    first_response: timedelta | None = None
    next_response: timedelta | None = None
    resolution: timedelta | None = None

    def get(self, target: str) -> timedelta | None:
        value: timedelta | None = getattr(self, target)
        return value


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    targets: Targets
    conditions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def matches(self, *, severity: str, category: str, queue: str, channel: str) -> bool:
        facts = {"severity": severity, "category": category, "queue": queue, "channel": channel}
        return all(facts[k] in v for k, v in self.conditions.items())


@dataclass(frozen=True, slots=True)
class Level:
    level: int
    agents: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    queue: str | None = None
    telegram_chat: str | None = None
    after: timedelta | None = None


@dataclass(frozen=True, slots=True)
class EscalationRule:
    name: str
    level: int
    unclaimed_for: timedelta
    severity: tuple[str, ...] = ()
    queue: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class EscalationMatrix:
    line_managers: Mapping[str, str] = field(default_factory=dict)
    on_breach: Mapping[str, int] = field(
        default_factory=lambda: {"first_response": 2, "next_response": 2, "resolution": 2}
    )
    levels: Mapping[int, Level] = field(default_factory=dict)
    rules: tuple[EscalationRule, ...] = ()

    @property
    def top(self) -> int:
        return max([2, *self.levels])

    def level(self, number: int) -> Level:
        return self.levels.get(number, Level(number))


@dataclass(frozen=True, slots=True)
class RotaEntry:
    agent: str
    calendar: BusinessCalendar
    hand_to: str | None = None


@dataclass(frozen=True, slots=True)
class SlaConfig:
    policies: tuple[Policy, ...] = ()
    warn_at: float = 0.75
    pause_statuses: frozenset[str] = frozenset({"pending_customer"})
    calendars: Mapping[str, BusinessCalendar] = field(default_factory=dict)
    queue_calendars: Mapping[str, str] = field(default_factory=dict)
    escalation: EscalationMatrix = field(default_factory=EscalationMatrix)
    rota: tuple[RotaEntry, ...] = ()
    document: Mapping[str, Any] = field(default_factory=dict)

    def policy_for(
        self, *, severity: str, category: str, queue: str, channel: str
    ) -> Policy | None:
        """The first policy whose conditions all hold; None = no SLA for this ticket."""
        for policy in self.policies:
            if policy.matches(severity=severity, category=category, queue=queue, channel=channel):
                return policy
        return None

    def calendar_for(self, queue: str) -> BusinessCalendar:
        name = self.queue_calendars.get(queue)
        return self.calendars[name] if name else BusinessCalendar()
