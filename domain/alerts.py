"""Queue alert rules and how they are evaluated: pure functions, no I/O.

A rule watches one metric of a team's queues (or of one queue) against two thresholds.
Each observation moves a small state machine (`evaluate`) per rule and queue:

- **onset**: a breach must hold for `onset` before an incident opens. Short dips back
  under the threshold (shorter than `clear`) do not restart the onset, so a queue
  flapping around the threshold still opens one incident instead of none or many;
- **hysteresis**: once at a level, the value must be better than that level's threshold
  by the metric's margin to leave it (SL 79.5 % / 80.5 % around an 80 % threshold is not a
  recovery);
- **severity**: warning and critical follow the value (up at once, down past the margin);
- **recovery**: the incident resolves once the value has been clear for `clear`;
- **cooldown**: a breach within `cooldown` of a resolution reopens that same incident
  (its message is edited back) instead of announcing a new one;
- **escalation**: critical for `escalate` (continuously) escalates once per incident.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from enum import IntEnum, StrEnum

from domain.live import Observation
from domain.shifts import is_working, next_working_moment

OPS = ("<", "<=", ">", ">=")


@dataclass(frozen=True)
class AlertMetric:
    """A live metric a rule can watch."""

    key: str
    name: str
    unit: str  # "%", "s" or "count" (domain.fmt units)
    higher_is_better: bool
    margin: float  # hysteresis: how far past a threshold the value must come back
    aliases: tuple[str, ...] = ()


ALERT_METRICS: dict[str, AlertMetric] = {
    m.key: m
    for m in (
        AlertMetric("sl", "Service level (30 min)", "%", True, 2.0, ("service_level", "svl")),
        AlertMetric("waiting", "Contacts waiting", "count", False, 1.0, ("queue", "inqueue")),
        AlertMetric("longest", "Longest wait", "s", False, 10.0, ("longest_wait", "oldest")),
        AlertMetric("abandon", "Abandonment rate", "%", False, 1.0, ("abandoned", "aband")),
        AlertMetric("available", "Agents available", "count", True, 1.0, ("agents", "avail")),
        AlertMetric("occupancy", "Occupancy", "%", False, 2.0, ("occ",)),
    )
}


def find_metric(word: str) -> AlertMetric | None:
    w = word.lower()
    return next((m for m in ALERT_METRICS.values() if w == m.key or w in m.aliases), None)


def metric_value(key: str, obs: Observation) -> float | None:
    """The figure a rule on `key` watches, from one observation (None: not reported)."""
    if key == "sl":
        return obs.service_level
    if key == "waiting":
        return None if obs.waiting is None else float(obs.waiting)
    if key == "longest":
        return obs.longest_wait_seconds
    if key == "abandon":
        return obs.abandon_rate
    if key == "available":
        return None if obs.agents_available is None else float(obs.agents_available)
    if key == "occupancy":
        return obs.occupancy
    return None


@dataclass(frozen=True)
class RuleSpec:
    """What the evaluation needs of a rule."""

    metric: str
    op: str  # the comparison that is bad: "sl < 80" alerts when SL drops under 80
    warning: float
    critical: float
    onset: dt.timedelta = dt.timedelta(minutes=5)
    cooldown: dt.timedelta = dt.timedelta(minutes=30)
    clear: dt.timedelta = dt.timedelta(minutes=2)
    escalate: dt.timedelta | None = dt.timedelta(minutes=15)

    @property
    def margin(self) -> float:
        m = ALERT_METRICS.get(self.metric)
        return m.margin if m else 0.0


@dataclass(frozen=True)
class DefaultRule:
    metric: str
    op: str
    warning: float
    critical: float
    onset_minutes: int


# The 80/20 convention (80 % of contacts answered within 20 s) and what usually goes with
# it; `/alert add defaults` adds these for a team.
DEFAULT_RULES = (
    DefaultRule("sl", "<", 80.0, 70.0, 5),
    DefaultRule("longest", ">=", 60.0, 180.0, 2),
    DefaultRule("waiting", ">=", 10.0, 20.0, 2),
    DefaultRule("abandon", ">=", 5.0, 10.0, 5),
)


def breaches(op: str, value: float, threshold: float) -> bool:
    if op == "<":
        return value < threshold
    if op == "<=":
        return value <= threshold
    if op == ">":
        return value > threshold
    if op == ">=":
        return value >= threshold
    raise ValueError(f"unknown comparison {op!r}")


def low_is_bad(op: str) -> bool:
    return op in ("<", "<=")


def clears(op: str, value: float, threshold: float, margin: float) -> bool:
    """True when the value is better than the threshold by at least the margin."""
    shifted = value - margin if low_is_bad(op) else value + margin
    return not breaches(op, shifted, threshold)


def thresholds_problem(op: str, warning: float, critical: float) -> str | None:
    """Why a pair of thresholds makes no sense for a comparison, or None."""
    if op not in OPS:
        return f"the comparison must be one of {' '.join(OPS)}"
    if low_is_bad(op) and critical > warning:
        return "for `<` the critical threshold must be at or below the warning one"
    if not low_is_bad(op) and critical < warning:
        return "for `>` the critical threshold must be at or above the warning one"
    return None


class Level(IntEnum):
    ok = 0
    warning = 1
    critical = 2


def level_for(rule: RuleSpec, value: float, current: Level) -> Level:
    """The level of a value, holding the current level until it clears by the margin."""
    op, m = rule.op, rule.margin
    if breaches(op, value, rule.critical):
        return Level.critical
    if current is Level.critical and not clears(op, value, rule.critical, m):
        return Level.critical
    if breaches(op, value, rule.warning):
        return Level.warning
    if current >= Level.warning and not clears(op, value, rule.warning, m):
        return Level.warning
    return Level.ok


@dataclass(frozen=True)
class State:
    """One rule on one queue. `level` is the value's level now (with hysteresis);
    `severity` the open incident's announced one."""

    open: bool = False
    level: Level = Level.ok
    severity: Level = Level.ok
    breach_since: dt.datetime | None = None  # start of the current breach (pending or open)
    clear_since: dt.datetime | None = None
    critical_since: dt.datetime | None = None
    opened_at: dt.datetime | None = None
    resolved_at: dt.datetime | None = None  # the last resolution (for the cooldown)
    escalated: bool = False
    peak: float | None = None  # the worst value of the current (or last) incident


class Event(StrEnum):
    opened = "opened"
    reopened = "reopened"  # a breach inside the cooldown: the last incident again
    worse = "worse"  # severity up
    better = "better"  # severity down, still open
    escalated = "escalated"
    resolved = "resolved"


@dataclass(frozen=True)
class Decision:
    state: State
    events: tuple[Event, ...] = ()


def _worse(rule: RuleSpec, a: float | None, b: float) -> float:
    if a is None:
        return b
    return min(a, b) if low_is_bad(rule.op) else max(a, b)


def _track(rule: RuleSpec, s: State, value: float, now: dt.datetime) -> State:
    """The level and the breach/clear/critical clocks after this value."""
    level = level_for(rule, value, s.level)
    if level > Level.ok:
        return replace(
            s,
            level=level,
            breach_since=s.breach_since or now,
            clear_since=None,
            critical_since=(s.critical_since or now) if level is Level.critical else None,
            peak=_worse(rule, s.peak if s.breach_since else None, value),
        )
    return replace(s, level=level, clear_since=s.clear_since or now, critical_since=None)


def evaluate(rule: RuleSpec, state: State, value: float | None, now: dt.datetime) -> Decision:
    """The next state of a rule on a queue after one value (None: no figure, no change)."""
    if value is None:
        return Decision(state)
    s = _track(rule, state, value, now)
    events: list[Event] = []
    if not s.open:
        if s.level > Level.ok and s.breach_since and now - s.breach_since >= rule.onset:
            cooling = s.resolved_at is not None and now - s.resolved_at < rule.cooldown
            events.append(Event.reopened if cooling else Event.opened)
            s = replace(
                s,
                open=True,
                severity=s.level,
                opened_at=s.opened_at if cooling else now,
                escalated=s.escalated if cooling else False,
            )
        elif s.level is Level.ok and s.clear_since and now - s.clear_since >= rule.clear:
            s = replace(s, breach_since=None)  # the pending breach is over
    elif s.level > Level.ok:
        if s.level != s.severity:
            events.append(Event.worse if s.level > s.severity else Event.better)
            s = replace(s, severity=s.level)
    elif s.clear_since and now - s.clear_since >= rule.clear:
        events.append(Event.resolved)
        s = replace(s, open=False, severity=Level.ok, breach_since=None, resolved_at=now)
    if (
        s.open
        and not s.escalated
        and rule.escalate is not None
        and s.critical_since is not None
        and now - s.critical_since >= rule.escalate
    ):
        events.append(Event.escalated)
        s = replace(s, escalated=True)
    return Decision(s, tuple(events))


def close(state: State, now: dt.datetime) -> State:
    """The state after an incident is closed by hand (rule paused or removed)."""
    return replace(
        state, open=False, severity=Level.ok, breach_since=None, clear_since=None, resolved_at=now
    )


# --- presentation helpers (pure) ----------------------------------------------------------


def trend(rule_op: str, previous: float | None, value: float | None, margin: float) -> str:
    """An arrow for how the value moved since the last update: worse, better or steady."""
    if previous is None or value is None or abs(value - previous) < max(margin / 2, 1e-9):
        return "→ steady"
    getting_lower = value < previous
    worse = getting_lower if low_is_bad(rule_op) else not getting_lower
    arrow = "↓" if getting_lower else "↑"
    return f"{arrow} {'worse' if worse else 'better'}"


class Hold(StrEnum):
    now = "now"
    hold = "hold"
    drop = "drop"


def when_to_post(
    hours: str, tz: str, now: dt.datetime, outside: str
) -> tuple[Hold, dt.datetime | None]:
    """Whether an alert goes out now, is held until the next working moment, or is
    dropped, for a rule's hours (`always`, or a shift pattern such as the lead's)."""
    if not hours or hours == "always":
        return Hold.now, now
    try:
        if is_working(hours, tz, now):
            return Hold.now, now
        if outside == Hold.drop.value:
            return Hold.drop, None
        return Hold.hold, next_working_moment(hours, tz, now)
    except ValueError:
        return Hold.now, now  # a bad stored pattern never silences an alert


def duration_text(delta: dt.timedelta) -> str:
    """`42 min`, `1 h 05 min`, `3 d 2 h`."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 1:
        return f"{max(int(delta.total_seconds()), 0)} s"
    if minutes < 60:
        return f"{minutes} min"
    h, m = divmod(minutes, 60)
    if h < 48:
        return f"{h} h {m:02d} min"
    d, h = divmod(h, 24)
    return f"{d} d {h} h"


_UNITS = (("min", 1.0), ("m", 1.0), ("h", 60.0), ("s", 1 / 60))


def parse_minutes(word: str) -> int:
    """`5m`, `5min`, `90s` (rounded up to minutes), `1h`, `5`: minutes; ValueError else."""
    w = word.lower().strip()
    number, factor = w, 1.0
    suffix = next((u for u in _UNITS if w.endswith(u[0])), None)
    if suffix is not None:
        number, factor = w[: -len(suffix[0])], suffix[1]
    try:
        value = float(number)
    except ValueError:
        raise ValueError(f"{word!r} is not a duration (e.g. 5m, 1h)") from None
    minutes = value * factor
    if not 0 <= minutes <= 7 * 24 * 60:
        raise ValueError(f"{word!r} is out of range")
    return int(-(-minutes // 1))
