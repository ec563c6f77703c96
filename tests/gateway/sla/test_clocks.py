"""The SLA clock computation on an injected clock: every target's state from history."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from gateway.clock import ManualClock
from gateway.sla.calendar import BusinessCalendar
from gateway.sla.clocks import EvidenceAsk, History, compute, evidence_clocks, overall_state
from gateway.sla.policy import Targets

T0 = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)  # a Wednesday
CRITICAL = Targets(timedelta(minutes=15), timedelta(minutes=30), timedelta(hours=4))
NORMAL = Targets(timedelta(hours=4), timedelta(hours=8), timedelta(hours=72))
H24 = BusinessCalendar()
BERLIN = ZoneInfo("Europe/Berlin")


def by_target(clocks, target, cycle=0):
    return next(c for c in clocks if c.target == target and c.cycle == cycle)


def test_first_response_met() -> None:
    clock = ManualClock(T0)
    history = History(T0, customer_messages=[T0], agent_replies=[T0 + timedelta(minutes=10)])
    clock.advance(minutes=20)
    first = by_target(compute(history, CRITICAL, H24, now=clock.now()), "first_response")
    assert first.state == "fulfilled"
    assert first.fulfilled_at == T0 + timedelta(minutes=10)
    assert first.breached_at is None
    assert first.due_at == T0 + timedelta(minutes=15)


def test_first_response_missed_breaches_at_the_due_time_not_when_noticed() -> None:
    clock = ManualClock(T0)
    history = History(T0, customer_messages=[T0])
    clock.advance(minutes=14)
    assert by_target(compute(history, CRITICAL, H24, now=clock.now()), "first_response").state == (
        "active"
    )
    clock.advance(minutes=30)
    clocks = compute(history, CRITICAL, H24, now=clock.now())
    first = by_target(clocks, "first_response")
    assert first.state == "breached"
    assert first.breached_at == T0 + timedelta(minutes=15)
    assert ("breached", T0 + timedelta(minutes=15)) in first.events
    assert overall_state(clocks, clock.now()) == "breached"


def test_pending_customer_pauses_resolution_and_reopening_resumes_it() -> None:
    answered = History(T0, customer_messages=[T0], agent_replies=[T0 + timedelta(minutes=5)])
    waiting = replace(answered, statuses=[(T0 + timedelta(hours=1), "pending_customer")])
    history = replace(
        answered,
        statuses=[*waiting.statuses, (T0 + timedelta(hours=3), "open")],
    )
    paused = by_target(compute(waiting, CRITICAL, H24, now=T0 + timedelta(hours=2)), "resolution")
    assert paused.state == "paused"
    assert paused.due_at is None
    # 1 h ran before the pause, 3 h more after it: due 2 h (the pause) later than 4 h.
    resumed = by_target(compute(history, CRITICAL, H24, now=T0 + timedelta(hours=4)), "resolution")
    assert resumed.state == "active"
    assert resumed.due_at == T0 + timedelta(hours=6)
    kinds = [kind for kind, _at in resumed.events]
    assert kinds == ["active", "paused", "active"]


def test_next_response_clock_starts_at_each_customer_message_after_an_answer() -> None:
    m = lambda n: T0 + timedelta(minutes=n)  # noqa: E731
    history = History(
        T0,
        customer_messages=[T0, m(20), m(25), m(60)],
        agent_replies=[m(5), m(40)],
    )
    clocks = compute(history, CRITICAL, H24, now=m(70))
    first_cycle, second_cycle = (
        by_target(clocks, "next_response", 1),
        by_target(clocks, "next_response", 2),
    )
    assert (first_cycle.started_at, first_cycle.fulfilled_at) == (m(20), m(40))
    assert first_cycle.state == "fulfilled"  # 20 minutes, inside 30
    assert second_cycle.started_at == m(60)
    assert second_cycle.due_at == m(90)
    assert second_cycle.state == "active"
    late = by_target(compute(history, CRITICAL, H24, now=m(95)), "next_response", 2)
    assert late.state == "breached"


def test_business_hours_skip_nights_weekends_and_holidays() -> None:
    calendar = BusinessCalendar(
        "emea",
        "Europe/Berlin",
        {d: ((9 * 60, 17 * 60),) for d in range(5)},
        frozenset({date(2026, 12, 7)}),  # Monday
    )
    friday_4pm = datetime(2026, 12, 4, 16, 0, tzinfo=BERLIN)
    history = History(friday_4pm.astimezone(UTC), customer_messages=[friday_4pm])
    first = by_target(compute(history, NORMAL, calendar, now=friday_4pm), "first_response")
    # 1 h on Friday, Monday is a holiday, 3 h on Tuesday.
    assert first.due_at == datetime(2026, 12, 8, 12, 0, tzinfo=BERLIN)
    assert calendar.between(friday_4pm, datetime(2026, 12, 8, 12, 0, tzinfo=BERLIN)) == (
        timedelta(hours=4)
    )


def test_changing_severity_recomputes_from_the_start() -> None:
    history = History(T0, customer_messages=[T0])
    now = T0 + timedelta(minutes=20)
    as_normal = by_target(compute(history, NORMAL, H24, now=now), "first_response")
    as_critical = by_target(compute(history, CRITICAL, H24, now=now), "first_response")
    assert as_normal.due_at == T0 + timedelta(hours=4)
    assert as_normal.state == "active"
    # Raised to critical 20 minutes in: the 15 minutes counted from creation are gone.
    assert as_critical.due_at == T0 + timedelta(minutes=15)
    assert as_critical.state == "breached"


def test_zammad_follow_up_before_first_answer_does_not_overrule_first_response() -> None:
    """Zammad let the update clock (next response) overrule an unanswered first response."""
    history = History(T0, customer_messages=[T0, T0 + timedelta(minutes=10)])
    clocks = compute(history, CRITICAL, H24, now=T0 + timedelta(minutes=12))
    assert [c.target for c in clocks] == ["first_response", "resolution"]
    assert by_target(clocks, "first_response").due_at == T0 + timedelta(minutes=15)


def test_zammad_first_reply_updates_the_escalation_at_once() -> None:
    """Zammad kept escalating a ticket after its first reply."""
    history = History(T0, customer_messages=[T0], agent_replies=[T0 + timedelta(minutes=14)])
    clocks = compute(history, CRITICAL, H24, now=T0 + timedelta(minutes=16))
    assert by_target(clocks, "first_response").state == "fulfilled"
    assert overall_state(clocks, T0 + timedelta(minutes=16)) == "active"  # resolution only


@pytest.mark.parametrize("created_local_hour", [8, 13, 16])
def test_zammad_reminders_fall_in_working_hours_not_at_midnight(created_local_hour: int) -> None:
    """Zammad sent reminders at midnight: warnings must fall inside the calendar's hours,
    in its own timezone."""
    calendar = BusinessCalendar("apac", "Asia/Tokyo", {d: ((9 * 60, 18 * 60),) for d in range(5)})
    tokyo = ZoneInfo("Asia/Tokyo")
    created = datetime(2026, 12, 3, created_local_hour, 0, tzinfo=tokyo)  # Thursday
    history = History(created.astimezone(UTC), customer_messages=[created])
    for clock in compute(history, NORMAL, calendar, now=created, warn_share=0.75):
        for moment in (clock.warn_at, clock.due_at):
            assert moment is not None
            local = moment.astimezone(tokyo)
            assert local.weekday() < 5
            assert 9 <= local.hour < 18 or (local.hour, local.minute) == (18, 0), local


def test_resolving_fulfils_every_open_target() -> None:
    history = History(
        T0, customer_messages=[T0], statuses=[(T0 + timedelta(minutes=5), "resolved")]
    )
    clocks = compute(history, CRITICAL, H24, now=T0 + timedelta(hours=9))
    assert {c.target: c.state for c in clocks} == {
        "first_response": "fulfilled",
        "resolution": "fulfilled",
    }
    assert overall_state(clocks, T0 + timedelta(hours=9)) == "fulfilled"


def test_an_evidence_request_is_a_target_on_its_own_deadline() -> None:
    """Due at the agent's deadline in wall-clock time (not the business calendar), not
    paused while the ticket waits on the customer, and met by a file at the deadline."""
    office = BusinessCalendar("apac", "Asia/Tokyo", {d: ((9 * 60, 18 * 60),) for d in range(5)})
    asked, deadline = T0 + timedelta(minutes=5), T0 + timedelta(hours=2)
    waiting = [(asked, "pending_customer")]
    open_ask = EvidenceAsk(7, asked, deadline)
    history = History(T0, customer_messages=[T0], statuses=waiting, evidence_requests=[open_ask])
    before = by_target(
        compute(history, NORMAL, office, now=deadline - timedelta(seconds=1)), "evidence", 7
    )
    assert (before.state, before.due_at, before.warn_at) == ("active", deadline, None)
    at = by_target(compute(history, NORMAL, office, now=deadline), "evidence", 7)
    assert (at.state, at.breached_at) == ("breached", deadline)
    assert [kind for kind, _at in at.events] == ["active", "breached"]

    met = replace(history, evidence_requests=[replace(open_ask, answered_at=deadline)])
    clock = by_target(
        compute(met, NORMAL, office, now=deadline + timedelta(hours=1)), "evidence", 7
    )
    assert (clock.state, clock.breached_at, clock.fulfilled_at) == ("fulfilled", None, deadline)
    late = replace(
        history, evidence_requests=[replace(open_ask, answered_at=deadline + timedelta(minutes=1))]
    )
    clock = by_target(
        compute(late, NORMAL, office, now=deadline + timedelta(hours=1)), "evidence", 7
    )
    assert (clock.state, clock.breached_at) == ("breached", deadline)
    assert overall_state([clock], deadline + timedelta(hours=1)) == "fulfilled"  # answered since
    assert evidence_clocks(History(T0), now=deadline) == []
