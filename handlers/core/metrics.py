"""The seam for KPI metrics: what `/stats`, `/goal` and the daily goal update share.

- naming: `resolve_metric` reads a metric typed by a user (key, alias such as `sl` or
  `qa`, or name), `short_name` labels it in a table, `metrics_help` lists the keys;
- the catalogue: `metric_catalogue` (cached a minute per database, in the catalogue's
  order), `goals_first` puts the metrics a team has goals on first;
- goals: `goal_for` picks the goal that judges a figure over N days, `goal_text` shows it;
- per-day sums: `team_per_day` (a team's figure per day, its queue rows preferred) and
  `sum_days` (the sums over a range of days); `SPARK_DAYS` is the sparkline's length
  and what counts as "recent" figures;
- the minimum-sample rule: `sample_of` (the contacts, or survey responses, behind a
  figure), `enough` (at least `STATS_MIN_CONTACTS` of them) and `sample_text` (`only 12
  contacts`). A figure with too few is shown but never compared: not with the period
  before, not with its goal, not in a streak, not as a mover.

It imports domain and storage only, so features use it without importing each other.
"""

from __future__ import annotations

import datetime as dt
import time
import weakref
from collections.abc import Sequence

from domain.fmt import fmt_goal
from domain.kpi import ZERO, Aggregation, DaySums, Sums
from storage import catalogue
from storage.db import Database
from storage.models import Goal, Metric

__all__ = [
    "METRIC_ALIASES",
    "SHORT_NAMES",
    "SPARK_DAYS",
    "enough",
    "goal_for",
    "goal_text",
    "goals_first",
    "metric_catalogue",
    "metrics_help",
    "resolve_metric",
    "sample_of",
    "sample_text",
    "short_name",
    "sum_days",
    "team_per_day",
]

SPARK_DAYS = 14

METRIC_ALIASES = {
    "sl": "service_level",
    "service": "service_level",
    "servicelevel": "service_level",
    "abandon": "abandon_rate",
    "abandonment": "abandon_rate",
    "abandoned": "abandon_rate",
    "qa": "qa_score",
    "quality": "qa_score",
    "adh": "adherence",
    "occ": "occupancy",
    "handle": "aht",
    "speed": "asa",
}

SHORT_NAMES = {
    "csat": "CSAT",
    "nps": "NPS",
    "fcr": "FCR",
    "aht": "AHT",
    "service_level": "Service level",
    "asa": "ASA",
    "abandon_rate": "Abandoned",
    "occupancy": "Occupancy",
    "adherence": "Adherence",
    "qa_score": "QA score",
}

# Which goal period judges a figure over a period of N days, in order of preference.
_GOAL_PREF_DAY = ("daily", "weekly", "monthly")
_GOAL_PREF_WEEK = ("weekly", "daily", "monthly")
_GOAL_PREF_LONG = ("monthly", "weekly", "daily")
_PERIOD_SUFFIX = {"daily": " /day", "weekly": " /wk", "monthly": " /mo"}


def resolve_metric(word: str, metrics: Sequence[Metric]) -> Metric | None:
    """A metric by key, alias (`sl`, `qa`, ...) or name, case-insensitive."""
    w = word.strip().lower().replace("-", "_")
    w = METRIC_ALIASES.get(w, w)
    for m in metrics:
        if m.key == w or m.name.lower() == w.replace("_", " "):
            return m
    return None


def short_name(metric: Metric) -> str:
    """A table-friendly label: `AHT`, `Service level`, or the name cut to 16 characters."""
    return SHORT_NAMES.get(metric.key) or (
        metric.name if len(metric.name) <= 16 else metric.name[:15] + "…"
    )


def metrics_help(metrics: Sequence[Metric]) -> str:
    """`Metrics: csat, nps, ...`, for an error about a metric word."""
    return "Metrics: " + ", ".join(m.key for m in metrics) + "."


# --- the catalogue ------------------------------------------------------------------------

_METRICS_TTL = 60.0
_metrics_cache: weakref.WeakKeyDictionary[Database, tuple[float, list[Metric]]] = (
    weakref.WeakKeyDictionary()
)
_POSITION = {row[0]: i for i, row in enumerate(catalogue.BUILTIN_METRICS)}


async def metric_catalogue(db: Database) -> list[Metric]:
    """The metric catalogue, cached for a minute per database (admins rarely change it,
    and every /stats needs it before anything else)."""
    hit = _metrics_cache.get(db)
    now = time.monotonic()
    if hit is not None and now - hit[0] < _METRICS_TTL:
        return hit[1]
    metrics = sorted(await catalogue.list_metrics(db), key=_catalogue_position)
    _metrics_cache[db] = (now, metrics)
    return metrics


def _catalogue_position(m: Metric) -> tuple[int, str]:
    """The built-in metrics in the catalogue's order (CSAT, NPS, FCR, AHT, ...), then others."""
    return (_POSITION.get(m.key, len(_POSITION)), m.key)


def goals_first(metrics: Sequence[Metric], goals_: Sequence[Goal]) -> list[Metric]:
    """Metrics with a goal first (what the team works towards), the catalogue order kept."""
    keys = {g.metric_key for g in goals_}
    return sorted(metrics, key=lambda m: m.key not in keys)


# --- goals ----------------------------------------------------------------------------------


def goal_for(goals_: Sequence[Goal], metric_key: str, days: int) -> Goal | None:
    """The goal that judges a figure over `days` days (a daily goal for one day, ...)."""
    pref = _GOAL_PREF_DAY if days <= 1 else _GOAL_PREF_WEEK if days <= 7 else _GOAL_PREF_LONG
    mine = {g.period: g for g in goals_ if g.metric_key == metric_key}
    return next((mine[p] for p in pref if p in mine), None)


def goal_text(metric: Metric, g: Goal | None, *, with_period: bool = True) -> str:
    """`≤ 5:10 /day`; empty without a goal."""
    if g is None:
        return ""
    text = fmt_goal(metric.unit, g.op, g.target)
    if with_period:
        text += _PERIOD_SUFFIX.get(g.period, "")
    return text


# --- per-day sums ---------------------------------------------------------------------------


def team_per_day(ds: DaySums, metric_key: str) -> dict[dt.date, Sums]:
    """A team's sums per day for one metric: its queue rows when it has them, else its
    people's (see DaySums.chosen)."""
    days = {d for (k, d) in ds.team if k == metric_key} | {
        d for (k, d) in ds.people if k == metric_key
    }
    return {d: ds.chosen(metric_key, d) for d in days}


def sum_days(per_day: dict[dt.date, Sums], start: dt.date, end: dt.date) -> Sums:
    """The sums of the days from `start` to `end`, both included."""
    total = ZERO
    for d, s in per_day.items():
        if start <= d <= end:
            total = total + s
    return total


# --- the minimum-sample rule ---------------------------------------------------------------


def sample_of(metric: Metric, s: Sums) -> float:
    """How many contacts (for ratios and NPS: responses, the denominator) a figure rests
    on. A plain sum (a count of calls) is its own sample: always enough to compare."""
    agg = Aggregation(metric.aggregation)
    if agg is Aggregation.sum:
        return float("inf") if s.c else 0.0
    if agg in (Aggregation.ratio, Aggregation.nps):
        return s.d
    return s.w


def enough(metric: Metric, s: Sums, minimum: int) -> bool:
    """True when the figure rests on at least `minimum` contacts (STATS_MIN_CONTACTS)."""
    return sample_of(metric, s) >= minimum


def sample_text(metric: Metric, sample: float) -> str:
    """`only 12 contacts` (`only 1 response` for NPS)."""
    agg = Aggregation(metric.aggregation)
    noun = "response" if agg is Aggregation.nps else "contact"
    n = round(sample)
    return f"only {n:,} {noun}{'' if n == 1 else 's'}"
