"""The alert evaluation rules (domain/alerts.py): onset, hysteresis, flapping, severity,
recovery, cooldown and escalation, on values at chosen moments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pytest

from domain.alerts import (
    Event,
    Hold,
    Level,
    RuleSpec,
    State,
    evaluate,
    level_for,
    parse_minutes,
    thresholds_problem,
    trend,
    when_to_post,
)

T0 = dt.datetime(2026, 11, 17, 10, 0, tzinfo=dt.UTC)
SL = RuleSpec(
    metric="sl",
    op="<",
    warning=80,
    critical=70,
    onset=dt.timedelta(minutes=2),
    cooldown=dt.timedelta(minutes=30),
    clear=dt.timedelta(minutes=2),
    escalate=dt.timedelta(minutes=10),
)


def run(
    rule: RuleSpec,
    values: Sequence[float | None],
    *,
    every: float = 5,
    state: State | None = None,
    start: dt.datetime = T0,
) -> tuple[State, list[tuple[int, Event]]]:
    s = state or State()
    events: list[tuple[int, Event]] = []
    for i, v in enumerate(values):
        d = evaluate(rule, s, v, start + dt.timedelta(seconds=every * i))
        s = d.state
        events += [(i, e) for e in d.events]
    return s, events


def test_nothing_happens_before_the_onset() -> None:
    s, events = run(SL, [75.0] * 24)  # 115 s of breach
    assert events == []
    assert s.breach_since == T0
    assert not s.open


def test_opens_once_the_onset_has_elapsed_and_stays_one_incident() -> None:
    s, events = run(SL, [75.0] * 100)
    assert events == [(24, Event.opened)]
    assert s.open
    assert s.severity is Level.warning


def test_flapping_around_the_threshold_opens_one_incident_and_never_spams() -> None:
    # 79 / 81 every 5 s for 30 minutes: within the margin, so it never clears.
    values = [79.0 if i % 2 else 81.0 for i in range(360)]
    _s, events = run(SL, values)
    assert [e for _, e in events] == [Event.opened]


def test_wider_flapping_still_one_incident_while_clear_stretches_stay_short() -> None:
    # Breach 60 s, clear 60 s (shorter than `clear`), for an hour.
    values = ([75.0] * 12 + [90.0] * 12) * 30
    _s, events = run(SL, values)
    assert [e for _, e in events] == [Event.opened]


def test_a_short_breach_that_clears_never_opens() -> None:
    values = [75.0] * 12 + [90.0] * 30 + [75.0] * 12
    s, events = run(SL, values)
    assert events == []
    assert s.breach_since is not None  # the last breach is pending again, from its start


def test_severity_up_at_once_down_past_the_margin() -> None:
    s, events = run(SL, [75.0] * 25 + [65.0] + [71.0] + [73.0])
    assert [e for _, e in events] == [Event.opened, Event.worse, Event.better]
    assert s.severity is Level.warning


def test_level_hysteresis() -> None:
    assert level_for(SL, 71.0, Level.critical) is Level.critical  # within 2 pts of 70
    assert level_for(SL, 72.0, Level.critical) is Level.warning
    assert level_for(SL, 81.0, Level.warning) is Level.warning
    assert level_for(SL, 82.0, Level.warning) is Level.ok
    assert level_for(SL, 81.0, Level.ok) is Level.ok


def test_recovery_after_clear_then_cooldown_reopens_the_same_incident() -> None:
    s, events = run(SL, [75.0] * 25 + [90.0] * 25)
    assert [e for _, e in events] == [Event.opened, Event.resolved]
    assert not s.open
    assert s.resolved_at is not None
    resolved = s.resolved_at
    # 10 minutes later (inside the 30 min cooldown) it breaches again for the onset.
    s2, events2 = run(SL, [75.0] * 25, state=s, start=resolved + dt.timedelta(minutes=10))
    assert [e for _, e in events2] == [Event.reopened]
    assert s2.opened_at == s.opened_at  # the same incident
    # After the cooldown, a new one.
    s3, _ = run(SL, [90.0] * 30, state=s2, start=resolved + dt.timedelta(minutes=13))
    assert not s3.open
    assert s3.resolved_at is not None
    _s4, events4 = run(SL, [75.0] * 25, state=s3, start=s3.resolved_at + dt.timedelta(minutes=31))
    assert [e for _, e in events4] == [Event.opened]


def test_escalation_after_continuous_critical() -> None:
    values = [65.0] * (24 + 12 * 10 + 1)
    s, events = run(SL, values)
    names = [e for _, e in events]
    assert names == [Event.opened, Event.escalated]
    escalated_at = next(i for i, e in events if e is Event.escalated)
    assert escalated_at == 120  # 10 min of critical after the first critical value
    assert s.escalated


def test_critical_interrupted_restarts_the_escalation_clock() -> None:
    values = [65.0] * 100 + [75.0] + [65.0] * 100  # 8 min, a warning, 8 min
    _s, events = run(SL, values)
    assert Event.escalated not in [e for _, e in events]


def test_no_value_changes_nothing() -> None:
    s, _ = run(SL, [75.0] * 10)
    assert evaluate(SL, s, None, T0 + dt.timedelta(hours=1)).state == s


def test_high_is_bad_metrics() -> None:
    waiting = RuleSpec("waiting", ">=", 10, 20, onset=dt.timedelta(0), clear=dt.timedelta(0))
    s, events = run(waiting, [5.0, 12.0, 25.0, 19.5, 9.5, 8.0])
    assert [e for _, e in events] == [Event.opened, Event.worse, Event.better, Event.resolved]
    assert not s.open


def test_thresholds_problem() -> None:
    assert thresholds_problem("<", 80, 70) is None
    assert thresholds_problem("<", 70, 80) is not None
    assert thresholds_problem(">=", 60, 30) is not None
    assert thresholds_problem("=", 1, 1) is not None


def test_trend_and_minutes() -> None:
    assert trend("<", 80.0, 70.0, 2.0) == "↓ worse"
    assert trend("<", 70.0, 80.0, 2.0) == "↑ better"
    assert trend(">=", 10.0, 20.0, 1.0) == "↑ worse"
    assert trend("<", 70.0, 70.4, 2.0) == "→ steady"
    assert [parse_minutes(w) for w in ("5m", "5min", "90s", "1h", "7")] == [5, 5, 2, 60, 7]
    with pytest.raises(ValueError, match="not a duration"):
        parse_minutes("soon")


def test_working_hours_hold_or_drop() -> None:
    night = dt.datetime(2026, 11, 17, 3, 0, tzinfo=dt.UTC)  # a Tuesday, 03:00
    hold, at = when_to_post("Mon-Fri 09:00-17:00", "UTC", night, "hold")
    assert hold is Hold.hold
    assert at == dt.datetime(2026, 11, 17, 9, 0, tzinfo=dt.UTC)
    assert when_to_post("Mon-Fri 09:00-17:00", "UTC", night, "drop") == (Hold.drop, None)
    assert when_to_post("always", "UTC", night, "drop") == (Hold.now, night)
