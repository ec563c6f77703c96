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

_DURATION = re.compile(r"(\d+)\s*(d|h|m|s)")
_SPAN = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
MAX_TARGET = timedelta(days=365)


def parse(data: Mapping[str, Any], *, queues: frozenset[str] | None = None) -> SlaConfig:
    """Validate the SLA sections of a rules document (`sla`, `calendars`, `escalation`,
    `rota`); `queues` are the file's queue names, checked where a section names one."""
    doc: dict[str, Any] = {}
    sla = _table(data.get("sla", {}), "sla")
    _only(sla, {"warn_at", "pause_statuses", "policy"}, "sla")
    warn_at = sla.get("warn_at", 0.75)
    if isinstance(warn_at, bool) or not isinstance(warn_at, int | float) or not 0 < warn_at < 1:
        raise SlaConfigError("sla.warn_at must be a share between 0 and 1, e.g. 0.75")
    pause = _strings(sla.get("pause_statuses", ["pending_customer"]), "sla.pause_statuses")
    bad = [s for s in pause if s not in STATUSES]
    if bad:
        raise SlaConfigError(
            f"sla.pause_statuses: {', '.join(bad)} is not one of {', '.join(STATUSES)}"
        )
    policies: list[Policy] = []
    doc_policies = []
    for i, raw in enumerate(_tables(sla.get("policy", []), "sla.policy")):
        where = f"sla.policy[{i}]"
        _only(raw, {"name", *TARGETS, *POLICY_CONDITIONS}, where)
        name = _name(raw.get("name"), f"{where}.name")
        if any(p.name == name for p in policies):
            raise SlaConfigError(f"{where}: policy {name!r} is defined twice")
        conditions = {
            k: _strings(raw[k], f"policy {name!r} {k}") for k in POLICY_CONDITIONS if k in raw
        }
        if "severity" in conditions:
            wrong = [s for s in conditions["severity"] if s not in SEVERITIES]
            if wrong:
                raise SlaConfigError(
                    f"policy {name!r}: severity {', '.join(wrong)} is not one of "
                    f"{', '.join(SEVERITIES)}"
                )
        if queues is not None and "queue" in conditions:
            _known_queues(conditions["queue"], queues, f"policy {name!r}")
        targets = {t: _duration(raw[t], f"policy {name!r} {t}") for t in TARGETS if t in raw}
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
    for name, raw in _table(data.get("calendars", {}), "calendars").items():
        where = f"calendars.{name}"
        _name(name, where)
        calendar, cal_doc = _calendar(name, _table(raw, where), where)
        for queue in _strings(raw.get("queues", []), f"{where}.queues"):
            if queue in queue_calendars:
                raise SlaConfigError(
                    f"{where}: queue {queue!r} already has calendar {queue_calendars[queue]!r}"
                )
            queue_calendars[queue] = name
        if queues is not None:
            _known_queues(tuple(queue_calendars), queues, where)
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
        _table(data.get("escalation", {}), "escalation"), queues
    )
    rota: list[RotaEntry] = []
    doc["rota"] = []
    for i, raw in enumerate(_tables(data.get("rota", []), "rota")):
        where = f"rota[{i}]"
        _only(raw, {"agent", "timezone", "days", "hours", "hand_to"}, where)
        agent = _name(raw.get("agent"), f"{where}.agent")
        days = _strings(raw.get("days", list(WEEKDAYS)), f"{where}.days")
        spans = raw.get("hours", "00:00-24:00")
        calendar, cal_doc = _calendar(
            f"rota:{agent}",
            {"timezone": raw.get("timezone", "UTC"), "hours": {d: spans for d in days}},
            where,
        )
        hand_to = _name(raw["hand_to"], f"{where}.hand_to") if raw.get("hand_to") else None
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
    _only(raw, {"timezone", "hours", "holidays", "queues"}, where)
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
        for key, value in _table(raw["hours"], f"{where}.hours").items():
            days = {"weekdays": WEEKDAYS[:5], "weekend": WEEKDAYS[5:], "daily": WEEKDAYS}.get(
                key, (key,)
            )
            if any(d not in WEEKDAYS for d in days):
                raise SlaConfigError(
                    f"{where}.hours: {key!r} is not a weekday "
                    f"({', '.join(WEEKDAYS)}, weekdays, weekend, daily)"
                )
            spans = tuple(
                _span(s, f"{where}.hours.{key}") for s in _strings(value, f"{where}.hours.{key}")
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
    _only(raw, {"line_managers", "on_breach", "level", "rule"}, "escalation")
    managers = {
        q: _name(a, f"escalation.line_managers.{q}")
        for q, a in _table(raw.get("line_managers", {}), "escalation.line_managers").items()
    }
    if queues is not None:
        _known_queues(tuple(q for q in managers if q != "*"), queues, "escalation.line_managers")
    on_breach = {"first_response": 2, "next_response": 2, "resolution": 2}
    for target, level in _table(raw.get("on_breach", {}), "escalation.on_breach").items():
        # An evidence request's deadline is a target too (gateway/sla/clocks.py), with
        # no level unless the desk names one.
        if target not in (*TARGETS, "evidence"):
            raise SlaConfigError(
                f"escalation.on_breach: {target!r} is not one of {', '.join(TARGETS)}, evidence"
            )
        on_breach[target] = _level(level, f"escalation.on_breach.{target}")
    levels: dict[int, Level] = {}
    doc_levels = []
    for i, lv in enumerate(_tables(raw.get("level", []), "escalation.level")):
        where = f"escalation.level[{i}]"
        _only(lv, {"level", "agents", "roles", "queue", "telegram_chat", "after"}, where)
        number = _level(lv.get("level"), f"{where}.level")
        if number in levels:
            raise SlaConfigError(f"{where}: level {number} is defined twice")
        queue = _name(lv["queue"], f"{where}.queue") if lv.get("queue") else None
        if queue and queues is not None:
            _known_queues((queue,), queues, where)
        chat = lv.get("telegram_chat")
        if chat is not None and not re.fullmatch(r"-?\d{1,20}|@\w{4,64}", str(chat)):
            raise SlaConfigError(
                f"{where}.telegram_chat must be a chat id like -1001234 or @channel"
            )
        level = Level(
            number,
            agents=_strings(lv.get("agents", []), f"{where}.agents"),
            roles=_strings(lv.get("roles", []), f"{where}.roles"),
            queue=queue,
            telegram_chat=str(chat) if chat is not None else None,
            after=_duration(lv["after"], f"{where}.after") if "after" in lv else None,
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
    for i, r in enumerate(_tables(raw.get("rule", []), "escalation.rule")):
        where = f"escalation.rule[{i}]"
        _only(r, {"name", "level", "unclaimed_for", "severity", "queue"}, where)
        if "unclaimed_for" not in r:
            raise SlaConfigError(f'{where}: unclaimed_for is required (e.g. "10m")')
        rule = EscalationRule(
            _name(r.get("name"), f"{where}.name"),
            _level(r.get("level"), f"{where}.level"),
            _duration(r["unclaimed_for"], f"{where}.unclaimed_for"),
            _strings(r.get("severity", []), f"{where}.severity"),
            _strings(r.get("queue", []), f"{where}.queue"),
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


def parse_duration(value: Any, where: str = "duration") -> timedelta:
    return _duration(value, where)


def _duration(value: Any, where: str) -> timedelta:
    """`"15m"`, `"4h"`, `"1h30m"`, `"2d"`, `"90s"`, or whole minutes as a number."""
    try:
        return _checked_duration(value, where)
    except OverflowError:  # "99999999999d": beyond what a timedelta holds
        raise SlaConfigError(f"{where} must be at most 365 days") from None


def _checked_duration(value: Any, where: str) -> timedelta:
    if isinstance(value, int) and not isinstance(value, bool):
        result = timedelta(minutes=value)
    elif (
        isinstance(value, str)
        and (text := value.replace(" ", "").lower())
        and _DURATION.sub("", text) == ""
    ):
        units = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
        result = sum(
            (timedelta(**{units[u]: int(n)}) for n, u in _DURATION.findall(text)), timedelta(0)
        )
    else:
        raise SlaConfigError(f'{where} must be a duration like "15m", "4h", "1h30m" or "2d"')
    if not timedelta(0) < result <= MAX_TARGET:
        raise SlaConfigError(f"{where} must be more than 0 and at most 365 days")
    return result


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


def _span(text: str, where: str) -> Span:
    m = _SPAN.match(text.strip())
    if not m:
        raise SlaConfigError(f'{where}: {text!r} is not a span like "09:00-17:00"')
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    lo, hi = h1 * 60 + m1, h2 * 60 + m2
    if h1 > 23 or m1 > 59 or m2 > 59 or hi > 1440 or hi <= lo:
        raise SlaConfigError(
            f"{where}: {text!r} must start before it ends, within one day (end at most 24:00)"
        )
    return lo, hi


def _format_span(span: Span) -> str:
    return f"{span[0] // 60:02d}:{span[0] % 60:02d}-{span[1] // 60:02d}:{span[1] % 60:02d}"


def _level(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 2 <= value <= 9:
        raise SlaConfigError(
            f"{where} must be a level from 2 to 9 (level 1 is the assignee or queue)"
        )
    return value


def _known_queues(names: tuple[str, ...], queues: frozenset[str], where: str) -> None:
    unknown = [q for q in names if q not in queues]
    if unknown:
        raise SlaConfigError(f"{where}: queue {', '.join(unknown)} is not defined in [[queues]]")


def _table(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise SlaConfigError(f"{where} must be a table ([{where}])")
    return value


def _tables(value: Any, where: str) -> list[Mapping[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise SlaConfigError(f"{where} must be an array of tables ([[{where}]])")
    return value


def _only(raw: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = set(raw) - allowed
    if unknown:
        raise SlaConfigError(f"{where}: unknown keys {', '.join(sorted(unknown))}")


def _name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > 100:
        raise SlaConfigError(f"{where} must be a name of 1 to 100 characters")
    return value.strip()


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise SlaConfigError(f"{where} must be a list of strings")
    return tuple(v.strip() for v in value)


def _q(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _key(value: str) -> str:
    return value if re.fullmatch(r"[A-Za-z0-9_-]+", value) else _q(value)


def _list(values: Any) -> str:
    return "[" + ", ".join(_q(str(v)) for v in values) + "]"


def _kv(key: str, value: Any) -> str:
    if isinstance(value, list):
        return f"{key} = {_list(value)}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"{key} = {_q(str(value))}"
    return f"{key} = {value}"
