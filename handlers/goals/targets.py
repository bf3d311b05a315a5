"""Reading a goal from words: `aht <= 300s daily`, `csat >= 90%`, `nps >= +30 monthly`.

A target is read in the metric's unit (seconds as `300s`, `5:00`, `5m` or `5m30s`; a
percentage; points) and checked against the metric's range. Everything here is pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from domain.errors import UsageError
from domain.fmt import fmt_value
from domain.numbers import check_digits, finite, shown
from domain.parsing import Args, token_text
from handlers.core.metrics import metrics_help, resolve_metric
from storage.models import Metric

PERIODS = ("daily", "weekly", "monthly")
_OPS = {
    ">=": ">=",
    "=>": ">=",
    "≥": ">=",
    "<=": "<=",
    "=<": "<=",
    "≤": "<=",
    ">": ">",
    "<": "<",
}
_OP_RE = re.compile(r"^(>=|=>|≥|<=|=<|≤|>|<)(.*)$")
_NUM = r"(\d+(?:\.\d+)?)"
# A target may be written with a space before its unit: `300 s`, `90 %`.
_UNIT_WORDS = ("s", "sec", "secs", "%", "pts", "pt", "points", "m", "min")
_MAX_SECONDS = 24 * 3600


@dataclass(frozen=True)
class NewGoal:
    """What `/goal set` asks for."""

    metric: Metric
    op: str
    target: float
    period: str


def parse_op(word: str) -> str:
    """`>=`, `=>`, `≥` ... as one of >=, <=, >, <."""
    op = _OPS.get(word.strip())
    if op is None:
        raise UsageError(f"{word!r} is not a comparison; use >=, <=, > or <.")
    return op


# --- targets, one reader per unit -------------------------------------------------------


def _seconds(t: str) -> float | None:
    if m := re.fullmatch(_NUM + r"\s*(s|sec|secs)?", t):
        return float(m.group(1))
    if m := re.fullmatch(r"(\d+):([0-5]\d)", t):
        return int(m.group(1)) * 60 + int(m.group(2))
    if m := re.fullmatch(_NUM + r"\s*(m|min|mins)(?:(\d+)s?)?", t):
        return float(m.group(1)) * 60 + (int(m.group(3)) if m.group(3) else 0)
    return None


def _percent(t: str) -> float | None:
    m = re.fullmatch(_NUM + r"\s*%?", t)
    return float(m.group(1)) if m else None


def _points(t: str) -> float | None:
    m = re.fullmatch(r"([+-]?\d+(?:\.\d+)?)\s*(pts?|points?)?", t.replace("\u2212", "-"))
    return float(m.group(1)) if m else None


def _number(t: str) -> float | None:
    m = re.fullmatch(r"([+-]?\d+(?:\.\d+)?)", t)
    return float(m.group(1)) if m else None


_READERS: dict[str, tuple[Callable[[str], float | None], str]] = {
    "s": (_seconds, "seconds, e.g. 300s, 5:00 or 5m"),
    "%": (_percent, "a percentage, e.g. 90%"),
    "pts": (_points, "points, e.g. +30 or -10"),
}


def parse_target(text: str, metric: Metric) -> float:
    """A target in the metric's unit (`300s`, `5:00`, `5m`, `90%`, `+30`), range-checked;
    a number too long to be meant (400 nines) is refused before it is read."""
    read, hint = _READERS.get(metric.unit, (_number, "a number"))
    cleaned = text.strip().lower().replace(",", "")
    check_digits(cleaned, what=f"a {metric.name} target")
    value = read(cleaned)
    if value is None:
        raise UsageError(f"{shown(text)!r} doesn't read as a {metric.name} target: use {hint}.")
    _check_range(finite(value, what=f"a {metric.name} target"), metric)
    return value


def _check_range(value: float, metric: Metric) -> None:
    unit, lo, hi = metric.unit, metric.min_value, metric.max_value
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        if lo is not None and hi is not None:
            rng = f"between {fmt_value(unit, lo)} and {fmt_value(unit, hi)}"
        elif lo is not None:
            rng = f"at least {fmt_value(unit, lo)}"
        else:
            rng = f"at most {fmt_value(unit, hi)}"
        raise UsageError(f"A {metric.name} target must be {rng}.")
    if unit == "s" and value > _MAX_SECONDS:
        raise UsageError(f"{fmt_value(unit, value)} is more than a day; check the target.")


def direction_warning(metric: Metric, op: str) -> str | None:
    """A warning when the comparison asks for the metric to get worse."""
    asks_higher = op in (">=", ">")
    if asks_higher == metric.higher_is_better:
        return None
    better = "higher" if metric.higher_is_better else "lower"
    want = "at least" if asks_higher else "at most"
    flip = "<=" if asks_higher else ">="
    return (
        f"Note: {better} {metric.name} is better, and this goal asks for {want} the target "
        f"(a {'floor' if asks_higher else 'ceiling'}). If you meant the usual goal, use "
        f"`{flip}` instead."
    )


# --- the words of set and clear ---------------------------------------------------------


def split_team(args: Args) -> tuple[list[str], list[str]]:
    """(words before `team`, the team name words)."""
    words = [token_text(t) for t in args.rest()]
    lowered = [w.lower() for w in words]
    if "team" in lowered:
        i = lowered.index("team")
        name = words[i + 1 :]
        if not name:
            raise UsageError("Name the team after `team`.")
        return words[:i], name
    return words, []


def read_metric(words: Sequence[str], metrics: Sequence[Metric], missing: str) -> Metric:
    """The metric the first word names; `missing` is the error when there is no word."""
    if not words:
        raise UsageError(missing)
    metric = resolve_metric(words[0], metrics)
    if metric is None:
        raise UsageError(f"I don't know the metric {words[0]!r}. {metrics_help(metrics)}")
    return metric


def read_period(word: str) -> str:
    """daily, weekly or monthly."""
    if word.lower() not in PERIODS:
        raise UsageError(f"The period must be daily, weekly or monthly, not {word!r}.")
    return word.lower()


def expect_no_more(words: Sequence[str]) -> None:
    """UsageError naming any words left over."""
    if words:
        raise UsageError(f"I didn't understand {' '.join(words)!r}.")


def read_new_goal(words: Sequence[str], metrics: Sequence[Metric]) -> NewGoal:
    """`METRIC OP TARGET [daily|weekly|monthly]` (the words before any `team NAME`)."""
    metric = read_metric(words, metrics, "Say which metric, e.g. `/goal set aht <= 300s daily`.")
    op, target_text, tail = _comparison(list(words[1:]))
    target = parse_target(target_text, metric)
    period = "daily"
    if tail:
        period, tail = read_period(tail[0]), tail[1:]
    expect_no_more(tail)
    return NewGoal(metric, op, target, period)


def _comparison(rest: list[str]) -> tuple[str, str, list[str]]:
    """(the comparison, the target's text, the words after them)."""
    if not rest:
        raise UsageError("Give a comparison and a target, e.g. `>= 90%`.")
    # The comparison may be glued to the target: `<=300s`.
    m = _OP_RE.match(rest[0])
    if m and m.group(2):
        rest = [m.group(1), m.group(2), *rest[1:]]
    op = parse_op(rest[0])
    if len(rest) < 2:
        raise UsageError("Give a target after the comparison, e.g. `>= 90%`.")
    target_text, tail = rest[1], rest[2:]
    if tail and tail[0].lower() in _UNIT_WORDS:
        target_text, tail = target_text + tail[0], tail[1:]
    return op, target_text, tail
