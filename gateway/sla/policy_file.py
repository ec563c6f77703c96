"""The SLA sections of the rules file: policies, business calendars, the escalation
matrix and the shift rota. Pure (no I/O): `parse` validates the decoded TOML sections and
returns an `SlaConfig` whose `document` is the canonical form that is stored and that
`to_toml` prints back (`gateway rules show`).

    [sla]
    warn_at = 0.75                      # share of each target at which the worker warns
    pause_statuses = ["pending_customer"]  # the resolution clock stops in these

    [[sla.policy]]                      # first match wins; conditions are optional lists
    name = "critical"
    severity = ["critical"]             # also: category, queue, channel
    first_response = "15m"
    next_response = "30m"
    resolution = "4h"

    [calendars.emea]                    # a queue without a calendar runs 24x7
    timezone = "Europe/Berlin"
    queues = ["de", "fr"]
    hours = { weekdays = "09:00-18:00", sat = ["10:00-14:00"] }
    holidays = ["2026-12-25"]

    [escalation]
    line_managers = { general = "ana" } # level 2: the queue's line manager
    on_breach = { first_response = 2, next_response = 2, resolution = 3 }

    [[escalation.level]]
    level = 3
    agents = ["head-of-desk"]           # and/or roles = ["admin"]
    queue = "escalation"                # move the ticket there (else: watchers)
    telegram_chat = "-1001234"          # the on-call chat of this level
    after = "30m"                       # still overdue this long here -> next level

    [[escalation.rule]]
    name = "critical-unclaimed"
    severity = ["critical"]
    unclaimed_for = "10m"
    level = 2

    [[rota]]
    agent = "ana"
    timezone = "Europe/Berlin"
    days = ["mon", "tue", "wed", "thu", "fri"]
    hours = "08:00-16:00"
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gateway.sla import policy_values as read
from gateway.sla.calendar import MAX_DAYS, WEEKDAYS, BusinessCalendar, Span
from gateway.sla.policy import (
    POLICY_CONDITIONS,
    SEVERITIES,
    STATUSES,
    TARGETS,
    EscalationMatrix,
    EscalationRule,
    Level,
    Policy,
    RotaEntry,
    SlaConfig,
    SlaConfigError,
    Targets,
)


def parse(data: Mapping[str, Any], *, queues: frozenset[str] | None = None) -> SlaConfig:
    """Validate the SLA sections of a rules document (`sla`, `calendars`, `escalation`,
    `rota`); `queues` are the file's queue names, checked where a section names one."""
    doc: dict[str, Any] = {}
    sla = read.table(data.get("sla", {}), "sla")
    read.only(sla, {"warn_at", "pause_statuses", "policy"}, "sla")
    warn_at = sla.get("warn_at", 0.75)
    if isinstance(warn_at, bool) or not isinstance(warn_at, int | float) or not 0 < warn_at < 1:
        raise SlaConfigError("sla.warn_at must be a share between 0 and 1, e.g. 0.75")
    pause = read.strings(sla.get("pause_statuses", ["pending_customer"]), "sla.pause_statuses")
    bad = [s for s in pause if s not in STATUSES]
    if bad:
        raise SlaConfigError(
            f"sla.pause_statuses: {', '.join(bad)} is not one of {', '.join(STATUSES)}"
        )
    policies: list[Policy] = []
    doc_policies = []
    for i, raw in enumerate(read.tables(sla.get("policy", []), "sla.policy")):
        where = f"sla.policy[{i}]"
        read.only(raw, {"name", *TARGETS, *POLICY_CONDITIONS}, where)
        name = read.name(raw.get("name"), f"{where}.name")
        if any(p.name == name for p in policies):
            raise SlaConfigError(f"{where}: policy {name!r} is defined twice")
        conditions = {
            k: read.strings(raw[k], f"policy {name!r} {k}") for k in POLICY_CONDITIONS if k in raw
        }
        if "severity" in conditions:
            wrong = [s for s in conditions["severity"] if s not in SEVERITIES]
            if wrong:
                raise SlaConfigError(
                    f"policy {name!r}: severity {', '.join(wrong)} is not one of "
                    f"{', '.join(SEVERITIES)}"
                )
        if queues is not None and "queue" in conditions:
            read.known_queues(conditions["queue"], queues, f"policy {name!r}")
        targets = {t: read.duration(raw[t], f"policy {name!r} {t}") for t in TARGETS if t in raw}
        if not targets:
            raise SlaConfigError(f"policy {name!r} sets no target ({', '.join(TARGETS)})")
        policies.append(Policy(name, Targets(**targets), conditions))
        doc_policies.append(
            {
                "name": name,
                **{k: list(v) for k, v in conditions.items()},
                **{t: _format(d) for t, d in targets.items()},
            }
        )
    doc["sla"] = {"warn_at": float(warn_at), "pause_statuses": list(pause), "policy": doc_policies}

    calendars: dict[str, BusinessCalendar] = {}
    queue_calendars: dict[str, str] = {}
    doc["calendars"] = {}
    for name, raw in read.table(data.get("calendars", {}), "calendars").items():
        where = f"calendars.{name}"
        read.name(name, where)
        calendar, cal_doc = _calendar(name, read.table(raw, where), where)
        for queue in read.strings(raw.get("queues", []), f"{where}.queues"):
            if queue in queue_calendars:
                raise SlaConfigError(
                    f"{where}: queue {queue!r} already has calendar {queue_calendars[queue]!r}"
                )
            queue_calendars[queue] = name
        if queues is not None:
            read.known_queues(tuple(queue_calendars), queues, where)
        calendars[name] = calendar
        doc["calendars"][name] = cal_doc | {
            "queues": sorted(q for q, c in queue_calendars.items() if c == name)
        }

    longest = max(
        (t for p in policies for t in (p.targets.get(n) for n in TARGETS) if t), default=None
    )
    for calendar in calendars.values():
        _check_capacity(calendar, longest)
    escalation, doc["escalation"] = _escalation(
        read.table(data.get("escalation", {}), "escalation"), queues
    )
    rota: list[RotaEntry] = []
    doc["rota"] = []
    for i, raw in enumerate(read.tables(data.get("rota", []), "rota")):
        where = f"rota[{i}]"
        read.only(raw, {"agent", "timezone", "days", "hours", "hand_to"}, where)
        agent = read.name(raw.get("agent"), f"{where}.agent")
        days = read.strings(raw.get("days", list(WEEKDAYS)), f"{where}.days")
        spans = raw.get("hours", "00:00-24:00")
        calendar, cal_doc = _calendar(
            f"rota:{agent}",
            {"timezone": raw.get("timezone", "UTC"), "hours": {d: spans for d in days}},
            where,
        )
        hand_to = read.name(raw["hand_to"], f"{where}.hand_to") if raw.get("hand_to") else None
        rota.append(RotaEntry(agent, calendar, hand_to))
        doc["rota"].append(
            {
                "agent": agent,
                "timezone": cal_doc["timezone"],
                "days": list(days),
                "hours": cal_doc["hours"][days[0]] if days else [],
                **({"hand_to": hand_to} if hand_to else {}),
            }
        )
    return SlaConfig(
        policies=tuple(policies),
        warn_at=float(warn_at),
        pause_statuses=frozenset(pause),
        calendars=calendars,
        queue_calendars=queue_calendars,
        escalation=escalation,
        rota=tuple(rota),
        document=doc,
    )


def _calendar(
    name: str, raw: Mapping[str, Any], where: str
) -> tuple[BusinessCalendar, dict[str, Any]]:
    read.only(raw, {"timezone", "hours", "holidays", "queues"}, where)
    tz = raw.get("timezone", "UTC")
    try:
        ZoneInfo(tz) if isinstance(tz, str) else None
    except (ZoneInfoNotFoundError, ValueError):
        raise SlaConfigError(
            f"{where}.timezone {tz!r} is not an IANA timezone (e.g. Europe/Berlin)"
        ) from None
    if not isinstance(tz, str):
        raise SlaConfigError(f"{where}.timezone must be text")
    hours: dict[int, tuple[Span, ...]] | None = None
    doc_hours: dict[str, list[str]] = {}
    if "hours" in raw:
        hours = {}
        for key, value in read.table(raw["hours"], f"{where}.hours").items():
            days = {"weekdays": WEEKDAYS[:5], "weekend": WEEKDAYS[5:], "daily": WEEKDAYS}.get(
                key, (key,)
            )
            if any(d not in WEEKDAYS for d in days):
                raise SlaConfigError(
                    f"{where}.hours: {key!r} is not a weekday "
                    f"({', '.join(WEEKDAYS)}, weekdays, weekend, daily)"
                )
            spans = tuple(
                read.span(s, f"{where}.hours.{key}")
                for s in read.strings(value, f"{where}.hours.{key}")
            )
            for day in days:
                hours[WEEKDAYS.index(day)] = tuple(
                    sorted(hours.get(WEEKDAYS.index(day), ()) + spans)
                )
        if not any(hours.values()):
            raise SlaConfigError(f"{where}.hours has no working time at all")
        doc_hours = {
            WEEKDAYS[d]: [_format_span(s) for s in spans] for d, spans in sorted(hours.items())
        }
    holidays = []
    for value in raw.get("holidays", []) if isinstance(raw.get("holidays", []), list) else [None]:
        try:
            holidays.append(value if isinstance(value, date) else date.fromisoformat(str(value)))
        except ValueError:
            raise SlaConfigError(
                f"{where}.holidays: {value!r} is not a date like 2026-12-25"
            ) from None
    calendar = BusinessCalendar(name, tz, hours, frozenset(holidays))
    doc: dict[str, Any] = {"timezone": tz}
    if doc_hours:
        doc["hours"] = doc_hours
    if holidays:
        doc["holidays"] = sorted(d.isoformat() for d in holidays)
    return calendar, doc


def _escalation(
    raw: Mapping[str, Any], queues: frozenset[str] | None
) -> tuple[EscalationMatrix, dict[str, Any]]:
    read.only(raw, {"line_managers", "on_breach", "level", "rule"}, "escalation")
    managers = {
        q: read.name(a, f"escalation.line_managers.{q}")
        for q, a in read.table(raw.get("line_managers", {}), "escalation.line_managers").items()
    }
    if queues is not None:
        read.known_queues(
            tuple(q for q in managers if q != "*"), queues, "escalation.line_managers"
        )
    on_breach = {"first_response": 2, "next_response": 2, "resolution": 2}
    for target, level in read.table(raw.get("on_breach", {}), "escalation.on_breach").items():
        # An evidence request's deadline is a target too (gateway/sla/clocks.py), with
        # no level unless the desk names one.
        if target not in (*TARGETS, "evidence"):
            raise SlaConfigError(
                f"escalation.on_breach: {target!r} is not one of {', '.join(TARGETS)}, evidence"
            )
        on_breach[target] = read.level(level, f"escalation.on_breach.{target}")
    levels: dict[int, Level] = {}
    doc_levels = []
    for i, lv in enumerate(read.tables(raw.get("level", []), "escalation.level")):
        where = f"escalation.level[{i}]"
        read.only(lv, {"level", "agents", "roles", "queue", "telegram_chat", "after"}, where)
        number = read.level(lv.get("level"), f"{where}.level")
        if number in levels:
            raise SlaConfigError(f"{where}: level {number} is defined twice")
        queue = read.name(lv["queue"], f"{where}.queue") if lv.get("queue") else None
        if queue and queues is not None:
            read.known_queues((queue,), queues, where)
        chat = lv.get("telegram_chat")
        if chat is not None and not re.fullmatch(r"-?\d{1,20}|@\w{4,64}", str(chat)):
            raise SlaConfigError(
                f"{where}.telegram_chat must be a chat id like -1001234 or @channel"
            )
        level = Level(
            number,
            agents=read.strings(lv.get("agents", []), f"{where}.agents"),
            roles=read.strings(lv.get("roles", []), f"{where}.roles"),
            queue=queue,
            telegram_chat=str(chat) if chat is not None else None,
            after=read.duration(lv["after"], f"{where}.after") if "after" in lv else None,
        )
        levels[number] = level
        doc_levels.append(
            {
                k: v
                for k, v in {
                    "level": number,
                    "agents": list(level.agents),
                    "roles": list(level.roles),
                    "queue": queue,
                    "telegram_chat": level.telegram_chat,
                    "after": _format(level.after) if level.after else None,
                }.items()
                if v not in (None, [])
            }
        )
    rules = []
    doc_rules = []
    for i, r in enumerate(read.tables(raw.get("rule", []), "escalation.rule")):
        where = f"escalation.rule[{i}]"
        read.only(r, {"name", "level", "unclaimed_for", "severity", "queue"}, where)
        if "unclaimed_for" not in r:
            raise SlaConfigError(f'{where}: unclaimed_for is required (e.g. "10m")')
        rule = EscalationRule(
            read.name(r.get("name"), f"{where}.name"),
            read.level(r.get("level"), f"{where}.level"),
            read.duration(r["unclaimed_for"], f"{where}.unclaimed_for"),
            read.strings(r.get("severity", []), f"{where}.severity"),
            read.strings(r.get("queue", []), f"{where}.queue"),
        )
        rules.append(rule)
        doc_rules.append(
            {
                "name": rule.name,
                "level": rule.level,
                "unclaimed_for": _format(rule.unclaimed_for),
                **({"severity": list(rule.severity)} if rule.severity else {}),
                **({"queue": list(rule.queue)} if rule.queue else {}),
            }
        )
    matrix = EscalationMatrix(managers, on_breach, levels, tuple(rules))
    doc = {
        "line_managers": managers,
        "on_breach": on_breach,
        "level": doc_levels,
        "rule": doc_rules,
    }
    return matrix, doc


def to_toml(config: SlaConfig) -> str:
    """The SLA sections written back in rules-file form."""
    doc = config.document
    if not doc:
        return ""
    sla = doc["sla"]
    lines = [
        "[sla]",
        f"warn_at = {sla['warn_at']}",
        f"pause_statuses = {_list(sla['pause_statuses'])}",
        "",
    ]
    for p in sla["policy"]:
        lines += ["[[sla.policy]]", *(_kv(k, v) for k, v in p.items()), ""]
    for name, cal in doc["calendars"].items():
        lines += [f"[calendars.{_key(name)}]", _kv("timezone", cal["timezone"])]
        if cal.get("queues"):
            lines.append(_kv("queues", cal["queues"]))
        if cal.get("hours"):
            lines.append(
                "hours = { "
                + ", ".join(f"{d} = {_list(s)}" for d, s in cal["hours"].items())
                + " }"
            )
        if cal.get("holidays"):
            lines.append(_kv("holidays", cal["holidays"]))
        lines.append("")
    esc = doc["escalation"]
    lines += ["[escalation]"]
    lines.append(
        "line_managers = { "
        + ", ".join(f"{_key(q)} = {_q(a)}" for q, a in esc["line_managers"].items())
        + " }"
    )
    lines.append(
        "on_breach = { " + ", ".join(f"{t} = {n}" for t, n in esc["on_breach"].items()) + " }"
    )
    lines.append("")
    for lv in esc["level"]:
        lines += ["[[escalation.level]]", *(_kv(k, v) for k, v in lv.items()), ""]
    for r in esc["rule"]:
        lines += ["[[escalation.rule]]", *(_kv(k, v) for k, v in r.items()), ""]
    for entry in doc["rota"]:
        lines += ["[[rota]]", *(_kv(k, v) for k, v in entry.items()), ""]
    return "\n".join(lines)


# The duration reader, for the callers that parse one outside a rules file.
parse_duration = read.duration


def _check_capacity(calendar: BusinessCalendar, longest: timedelta | None) -> None:
    """A target must end within the calendar's reach (MAX_DAYS of days): a calendar with
    one hour a week cannot hold a 30-day target, and must say so now, not at a ticket."""
    if longest is None or calendar.hours is None:
        return
    weekly = sum((hi - lo for spans in calendar.hours.values() for lo, hi in spans), 0)
    days = longest.total_seconds() / 60 / weekly * 7 + len(calendar.holidays) + 14
    if days > MAX_DAYS:
        raise SlaConfigError(
            f"calendars.{calendar.name}: {weekly / 60:g} working hours a week cannot hold a "
            f"{_format(longest)} target (it would take {days / 365:.1f} years)"
        )


def _format(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts)


def _format_span(span: Span) -> str:
    return f"{span[0] // 60:02d}:{span[0] % 60:02d}-{span[1] // 60:02d}:{span[1] % 60:02d}"


def _q(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _key(value: str) -> str:
    return value if re.fullmatch(r"[A-Za-z0-9_-]+", value) else _q(value)


def _list(items: Any) -> str:
    return "[" + ", ".join(_q(str(v)) for v in items) + "]"


def _kv(key: str, value: Any) -> str:
    if isinstance(value, list):
        return f"{key} = {_list(value)}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"{key} = {_q(str(value))}"
    return f"{key} = {value}"
