"""The SLA clock computation: every target's state on a ticket, recomputed from the
ticket's history under the policy in force now. Pure (no I/O, no wall clock: `now` is
passed in).

Targets, all counted in the queue's business calendar:

- first_response: from the ticket's creation to the first agent reply. A customer's
  follow-up before that reply changes nothing (Zammad let the update clock overrule it).
- next_response: one cycle per customer message that arrives while no cycle is open,
  but only after the first response; the next agent reply fulfils it.
- resolution: from creation to resolved/closed; it stands still in the pause statuses
  (pending_customer by default) and while resolved, and runs on again after a reopen.

- evidence: one clock per evidence request an agent sent on the ticket (cycle = the
  request's id), from the request to the party's next file, due at the request's own
  deadline (wall-clock time the agent chose, not the policy's business calendar, and not
  paused while the ticket waits on the customer: waiting on them is the point). It does
  not depend on a policy, and the ticket's status does not end it: the case shows the
  request until it is met or breached, and this clock agrees with the case.

Resolving or closing fulfils every open policy target: a ticket closed without an answer (spam,
a duplicate) is done, not overdue. Because the computation always starts from the
history, a severity change simply recomputes: the new targets apply from the start.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from gateway.sla.calendar import BusinessCalendar
from gateway.sla.policy import Targets

TERMINAL = frozenset({"resolved", "closed"})


class State:
    active = "active"
    paused = "paused"
    fulfilled = "fulfilled"
    breached = "breached"


@dataclass(frozen=True, slots=True)
class History:
    """What happened on a ticket, oldest first."""

    created_at: datetime
    customer_messages: Sequence[datetime] = ()
    agent_replies: Sequence[datetime] = ()
    # (when, new status); the ticket starts as `new` at created_at.
    statuses: Sequence[tuple[datetime, str]] = ()
    evidence_requests: Sequence[EvidenceAsk] = ()


@dataclass(frozen=True, slots=True)
class EvidenceAsk:
    """An agent's request for evidence on the ticket: `answered_at` is when the party's
    file fulfilled it (the case domain records which file), None while it is open."""

    request_id: int
    requested_at: datetime
    deadline_at: datetime
    answered_at: datetime | None = None


@dataclass(slots=True)
class Clock:
    """One target on one ticket (one cycle of next_response)."""

    target: str
    cycle: int
    started_at: datetime
    due_at: datetime | None  # None while paused with no end in sight
    warn_at: datetime | None
    state: str
    fulfilled_at: datetime | None = None
    breached_at: datetime | None = None
    # Metric events up to now: (kind, at), kind one of active, paused, fulfilled, breached.
    events: list[tuple[str, datetime]] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self.state in (State.active, State.paused) or (
            self.state == State.breached and self.fulfilled_at is None
        )


Segment = tuple[datetime, datetime | None, bool]  # [start, end), running?


def compute(
    history: History,
    targets: Targets,
    calendar: BusinessCalendar,
    *,
    now: datetime,
    warn_share: float = 0.75,
    pause_statuses: Iterable[str] = ("pending_customer",),
) -> list[Clock]:
    """Every clock of the ticket at `now`."""
    pauses = frozenset(pause_statuses)
    # Everything in the history counts, even a moment "after" now: another process's
    # clock may run a little ahead, and a stored reply is a reply.
    statuses = sorted(history.statuses)
    done_at = _terminal_since(statuses)
    clocks: list[Clock] = []

    first_reply = min(history.agent_replies, default=None)
    if targets.first_response is not None:
        end = _earliest(first_reply, _first_terminal(statuses))
        clocks.append(
            _simple(
                "first_response", 0, history.created_at, end, targets.first_response,
                calendar, now, warn_share,
            )
        )  # fmt: skip
    gate = _earliest(first_reply, _first_terminal(statuses))
    if targets.next_response is not None and gate is not None:
        for cycle, (start, end) in enumerate(_reply_cycles(history, statuses, gate)):
            clocks.append(
                _simple(
                    "next_response", cycle + 1, start, end, targets.next_response,
                    calendar, now, warn_share,
                )
            )  # fmt: skip
    if targets.resolution is not None:
        segments = _segments(history.created_at, statuses, pauses)
        clocks.append(
            _paused_clock(
                "resolution", history.created_at, segments, done_at, targets.resolution,
                calendar, now, warn_share,
            )
        )  # fmt: skip
    clocks.extend(evidence_clocks(history, now=now))
    return clocks


def evidence_clocks(history: History, *, now: datetime) -> list[Clock]:
    """The ticket's evidence-request clocks at `now` (with or without a policy)."""
    clocks = []
    for ask in sorted(history.evidence_requests, key=lambda a: a.request_id):
        clock = Clock(
            "evidence", ask.request_id, ask.requested_at, ask.deadline_at, None,
            State.active, events=[(State.active, ask.requested_at)],
        )  # fmt: skip
        _settle(clock, ask.answered_at, now)
        clocks.append(clock)
    return clocks


def _simple(
    target: str,
    cycle: int,
    start: datetime,
    end: datetime | None,
    amount: timedelta,
    calendar: BusinessCalendar,
    now: datetime,
    warn_share: float,
) -> Clock:
    """A clock that never pauses: due after `amount` of business time from `start`."""
    due = calendar.add(start, amount)
    warn = calendar.add(start, amount * warn_share)
    clock = Clock(target, cycle, start, due, warn, State.active, events=[(State.active, start)])
    _settle(clock, end, now)
    return clock


def _paused_clock(
    target: str,
    start: datetime,
    segments: list[Segment],
    done_at: datetime | None,
    amount: timedelta,
    calendar: BusinessCalendar,
    now: datetime,
    warn_share: float,
) -> Clock:
    due = _deadline(segments, amount, calendar)
    warn = _deadline(segments, amount * warn_share, calendar)
    last_running = segments[-1][2]
    clock = Clock(target, 0, start, due, warn, State.active if last_running else State.paused)
    previous: bool | None = None
    for seg_start, _end, running in segments:
        if running != previous and not (done_at is not None and seg_start >= done_at):
            clock.events.append((State.active if running else State.paused, seg_start))
        previous = running
    _settle(clock, done_at, now)
    return clock


def _settle(clock: Clock, end: datetime | None, now: datetime) -> None:
    """Fulfilled at `end` (if any), breached at the due time if that came first."""
    due = clock.due_at
    if due is not None and due <= now and (end is None or due < end):
        clock.breached_at = due
        clock.events.append((State.breached, due))
        clock.state = State.breached
    if end is not None:
        clock.fulfilled_at = end
        clock.events.append((State.fulfilled, end))
        if clock.state != State.breached:
            clock.state = State.fulfilled
    clock.events.sort(key=lambda e: e[1])


def _deadline(
    segments: list[Segment], amount: timedelta, calendar: BusinessCalendar
) -> datetime | None:
    """When `amount` of business time has run in the running segments; None when the
    clock stands still (the last segment is a pause) before that."""
    left = amount
    for start, end, running in segments:
        if not running:
            continue
        if end is None:
            return calendar.add(start, left)
        worked = calendar.between(start, end)
        if worked >= left:
            return calendar.add(start, left)
        left -= worked
    return None


def _segments(
    created_at: datetime, statuses: list[tuple[datetime, str]], pauses: frozenset[str]
) -> list[Segment]:
    points = [(created_at, "new"), *((at, s) for at, s in statuses if at >= created_at)]
    segments: list[Segment] = []
    for i, (at, status) in enumerate(points):
        end = points[i + 1][0] if i + 1 < len(points) else None
        running = status not in pauses and status not in TERMINAL
        if segments and segments[-1][2] == running:
            segments[-1] = (segments[-1][0], end, running)  # merge equal neighbours
        else:
            segments.append((at, end, running))
    return segments


def _reply_cycles(
    history: History, statuses: list[tuple[datetime, str]], gate: datetime
) -> list[tuple[datetime, datetime | None]]:
    """(start, end) of each next-response cycle after `gate` (the first response)."""
    # At one instant an agent reply or a closing status comes before a customer message.
    events = sorted(
        [(t, 1, "customer") for t in history.customer_messages if gate < t]
        + [(t, 0, "agent") for t in history.agent_replies if gate < t]
        + [(t, 0, "done") for t, s in statuses if s in TERMINAL and t > gate]
    )
    cycles: list[tuple[datetime, datetime | None]] = []
    open_at: datetime | None = None
    for at, _order, kind in events:
        if kind == "customer" and open_at is None:
            open_at = at
        elif kind in ("agent", "done") and open_at is not None:
            cycles.append((open_at, at))
            open_at = None
    if open_at is not None:
        cycles.append((open_at, None))
    return cycles


def _terminal_since(statuses: list[tuple[datetime, str]]) -> datetime | None:
    """When the ticket's current run of resolved/closed began; None when it is open."""
    since = None
    for at, status in statuses:
        if status in TERMINAL:
            since = since or at
        else:
            since = None
    return since


def _first_terminal(statuses: list[tuple[datetime, str]]) -> datetime | None:
    return next((at for at, s in statuses if s in TERMINAL), None)


def _earliest(*moments: datetime | None) -> datetime | None:
    present = [m for m in moments if m is not None]
    return min(present) if present else None


def overall_state(clocks: Sequence[Clock], now: datetime) -> str:
    """The ticket's one-word SLA state: breached > warning > active > paused >
    fulfilled; `none` when no policy applies."""
    if not clocks:
        return "none"
    running = [c for c in clocks if c.fulfilled_at is None]
    if any(c.state == State.breached for c in running):
        return "breached"
    if any(c.state == State.active and c.warn_at and c.warn_at <= now for c in running):
        return "warning"
    if any(c.state == State.active for c in running):
        return "active"
    if any(c.state == State.paused for c in running):
        return "paused"
    return "fulfilled"
