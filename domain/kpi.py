"""KPI arithmetic: the additive sums behind every figure, and how a metric combines them.

Every aggregate stays contact-weighted and every ratio a ratio of sums, whatever mix of
people, days and sources the rows come from.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum


class Aggregation(StrEnum):
    weighted_mean = "weighted_mean"  # mean weighted by contacts (AHT, CSAT %, ...)
    ratio = "ratio"  # sum(numerator) / sum(denominator) when given, else weighted mean
    nps = "nps"  # (promoters - detractors) / responses when counts are given
    sum = "sum"


@dataclass(frozen=True)
class KpiRow:
    """One validated value: a person's (team_id = their team) or a whole team's (no person)."""

    day: dt.date
    metric_key: str
    value: float
    person_id: int | None = None
    team_id: int | None = None
    weight: float = 1.0
    numerator: float | None = None
    denominator: float | None = None


# Every figure is built from a handful of sums that add up across people and days, so
# storage does one GROUP BY over the (team_id, metric_key, day) index and Python
# combines the sums per metric (see combine()):
#   n  = sum(numerator if given, else value * weight / 100)   (ratios, NPS)
#   d  = sum(denominator if given, else weight)
#   vw = sum(value * weight), w = sum(weight)                   (weighted means)
#   v  = sum(value), c = count(*)                               (sums, row counts)
# A ratio row without counts thus counts as its percentage weighted by its contacts,
# and one with counts as exactly those counts: both mix correctly in one total.


@dataclass(frozen=True)
class Sums:
    """The additive sums behind one figure (one metric over some rows)."""

    n: float = 0.0
    d: float = 0.0
    vw: float = 0.0
    w: float = 0.0
    v: float = 0.0
    c: int = 0

    def __add__(self, other: Sums) -> Sums:
        return Sums(
            self.n + other.n,
            self.d + other.d,
            self.vw + other.vw,
            self.w + other.w,
            self.v + other.v,
            self.c + other.c,
        )


ZERO = Sums()


def combine(aggregation: Aggregation | str, s: Sums) -> float | None:
    """The figure for a metric from its sums; None when there is nothing to divide by.

    - weighted_mean (AHT, ASA, QA): sum(value x contacts) / sum(contacts);
    - ratio (CSAT, FCR, service level, abandonment, occupancy, adherence):
      100 x sum(numerator) / sum(denominator), rows without counts weighted by contacts;
    - nps: 100 x sum(promoters - detractors) / sum(responses), rows with only a score
      weighted by their responses;
    - sum: the plain total.
    """
    if s.c == 0:
        return None
    agg = Aggregation(aggregation)
    if agg is Aggregation.weighted_mean:
        return s.vw / s.w if s.w > 0 else None
    if agg in (Aggregation.ratio, Aggregation.nps):
        return 100.0 * s.n / s.d if s.d > 0 else None
    return s.v


@dataclass(frozen=True)
class DaySums:
    """Per metric and day: the team-level (queue) rows and the people's rows apart."""

    team: dict[tuple[str, dt.date], Sums]
    people: dict[tuple[str, dt.date], Sums]

    def chosen(self, metric_key: str, day: dt.date) -> Sums:
        """A team's figure for a day: its queue-level row when it has one, else its people.

        Queue metrics (service level, ASA, abandonment) come per team; adding the people's
        rows on top would count the same contacts twice.
        """
        t = self.team.get((metric_key, day))
        if t is not None and t.c:
            return t
        return self.people.get((metric_key, day), ZERO)

    def over(self, metric_key: str, start: dt.date, end: dt.date) -> Sums:
        total = ZERO
        day = start
        while day <= end:
            total = total + self.chosen(metric_key, day)
            day += dt.timedelta(days=1)
        return total


# --- plausibility: what a value of a unit can be, whatever a file or platform says -----

SECONDS_PER_DAY = 86_400.0

# A value outside these can only be a mistake (a percentage of 500, a handle time of
# 123456 hours); a metric's own min/max narrow them further.
_PLAUSIBLE: dict[str, tuple[float | None, float | None]] = {
    "%": (0.0, 100.0),
    "pts": (-100.0, 100.0),  # NPS
    "s": (0.0, SECONDS_PER_DAY),  # a handle time or wait of at most a day
    "count": (0.0, None),
}


def plausible_range(unit: str) -> tuple[float | None, float | None]:
    """The widest range a value in `unit` can plausibly take (None: unbounded)."""
    return _PLAUSIBLE.get(unit, (None, None))


def value_range(
    unit: str, min_value: float | None, max_value: float | None
) -> tuple[float | None, float | None]:
    """The range a metric's values must lie in: its own, within its unit's plausible one."""
    lo, hi = plausible_range(unit)
    if min_value is not None:
        lo = min_value if lo is None else max(lo, min_value)
    if max_value is not None:
        hi = max_value if hi is None else min(hi, max_value)
    return lo, hi


# How far a stated percentage may sit from the one its counts make (rounding: 91.7 for
# 11/12, 92 for 91.67).
VALUE_TOLERANCE = 0.51


def counts_problem(
    aggregation: Aggregation | str, value: float, numerator: float, denominator: float
) -> str | None:
    """Why a value's counts cannot be right, or None: a ratio's part is non-negative and
    at most its whole, NPS's net promoters at most its responses, and the value what the
    counts make."""
    agg = Aggregation(aggregation)
    if agg is Aggregation.nps:
        if abs(numerator) > denominator:
            return (
                f"numerator {numerator:g} is beyond the denominator {denominator:g} "
                "(net promoters cannot outnumber responses)"
            )
    elif agg is Aggregation.ratio:
        if numerator < 0:
            return f"numerator {numerator:g} is negative"
        if numerator > denominator:
            return f"numerator {numerator:g} is more than the denominator {denominator:g}"
    else:
        return None
    made = 100.0 * numerator / denominator
    if abs(made - value) > VALUE_TOLERANCE:
        return f"value {value:g} does not match {numerator:g}/{denominator:g} = {made:.1f}"
    return None
