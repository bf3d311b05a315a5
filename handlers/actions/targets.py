"""Metric-linked items: the success condition `aht <= 300s`, read against the catalogue."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from domain.errors import NotFound, UsageError
from domain.fmt import fmt_value
from domain.numbers import check_digits, shown
from handlers.core.context import HandlerContext
from storage import catalogue
from storage.models import Metric

_OPS = {"<=": "<=", "=<": "<=", "≤": "<=", ">=": ">=", "=>": ">=", "≥": ">=", "<": "<", ">": ">"}
_CLAUSE_RE = re.compile(r"^([a-z][a-z0-9_]*)\s*(<=|>=|=<|=>|≤|≥|<|>)\s*(\S.*)$", re.IGNORECASE)
_NUM = r"(\d+(?:\.\d+)?)"
_SIGNED = r"([+-]?\d+(?:\.\d+)?)"

# How a target may be written in each unit: patterns tried in order, each with how to
# read its match, and the example a refusal gives.
_Reader = tuple[re.Pattern[str], Callable[[re.Match[str]], float]]


def _first(m: re.Match[str]) -> float:
    return float(m.group(1))


_SECONDS: tuple[_Reader, ...] = (
    (re.compile(r"(\d{1,4}):([0-5]\d)"), lambda m: int(m.group(1)) * 60 + int(m.group(2))),
    (re.compile(_NUM + r"(s|sec|secs|seconds)?"), _first),
    (re.compile(_NUM + r"(m|min|mins|minutes)"), lambda m: float(m.group(1)) * 60),
)
_UNITS: dict[str, tuple[tuple[_Reader, ...], str]] = {
    "s": (_SECONDS, "300s or 5:00"),
    "%": (((re.compile(_NUM + r"%?"), _first),), "85%"),
    "pts": (((re.compile(_SIGNED + r"(pts?|points?)?"), _first),), "30 or +30pts"),
}
_PLAIN: tuple[tuple[_Reader, ...], str] = (((re.compile(_SIGNED), _first),), "a number")


@dataclass(frozen=True)
class MetricLink:
    """An item's success condition: `aht <= 300` (in the metric's own unit)."""

    key: str
    op: str
    target: float


def met(value: float, op: str, target: float) -> bool:
    """True when `value` meets `op target`."""
    if op == "<=":
        return value <= target
    if op == "<":
        return value < target
    if op == ">=":
        return value >= target
    return value > target


def _read(text: str, readers: tuple[_Reader, ...]) -> float | None:
    for pattern, value in readers:
        if m := pattern.fullmatch(text):
            return value(m)
    return None


def _check_range(value: float, metric: Metric) -> None:
    if metric.min_value is not None and value < metric.min_value:
        raise UsageError(
            f"A {metric.name} target can't be below {fmt_value(metric.unit, metric.min_value)}."
        )
    if metric.max_value is not None and value > metric.max_value:
        raise UsageError(
            f"A {metric.name} target can't be above {fmt_value(metric.unit, metric.max_value)}."
        )


def parse_target(text: str, metric: Metric) -> float:
    """A target in the metric's unit: `300`, `300s`, `5:00`, `5m` (seconds); `85`, `85%`
    (percent); `30`, `+30`, `30pts` (NPS points). UsageError says what was expected."""
    readers, example = _UNITS.get(metric.unit, _PLAIN)
    cleaned = text.strip().lower().replace(" ", "")
    wrong = f"{shown(text)!r} isn't a target for {metric.name} (unit {metric.unit}: {example})"
    try:
        check_digits(cleaned, what=f"a {metric.name} target")
    except UsageError as exc:  # 400 nines: say so before reading it as a number
        raise UsageError(f"{wrong}: {exc.message}") from None
    value = _read(cleaned, readers)
    if value is None or not math.isfinite(value):
        raise UsageError(wrong + ".")
    _check_range(value, metric)
    return value


def _check_direction(metric: Metric, op: str) -> None:
    if metric.higher_is_better and op in ("<", "<="):
        raise UsageError(
            f"Higher {metric.name} is better, so aim with `>=` (e.g. `metric {metric.key} >= ...`)."
        )
    if not metric.higher_is_better and op in (">", ">="):
        raise UsageError(
            f"Lower {metric.name} is better, so aim with `<=` (e.g. `metric {metric.key} <= ...`)."
        )


async def parse_metric_clause(ctx: HandlerContext, text: str) -> tuple[MetricLink, Metric]:
    """`aht <= 300s` into a link, checked against the KPI catalogue."""
    m = _CLAUSE_RE.match(text.strip())
    if not m:
        raise UsageError(
            f"I couldn't read {text!r} as a metric target: use e.g. `metric aht <= 300s`."
        )
    key, op, target_text = m.group(1).lower(), _OPS[m.group(2)], m.group(3)
    metric = await catalogue.get_metric(ctx.db, key=key)
    if metric is None:
        keys = ", ".join(x.key for x in await catalogue.list_metrics(ctx.db))
        raise NotFound(f"There is no metric {key!r}. Known metrics: {keys}.")
    _check_direction(metric, op)
    return MetricLink(metric.key, op, parse_target(target_text, metric)), metric
