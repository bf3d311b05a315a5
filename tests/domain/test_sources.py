"""The pure parts of the connector seam: windows, impossible rows, daily values."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.kpi import Aggregation as A
from domain.sources import (
    DayCounts,
    IntervalRow,
    SubjectKind,
    ceil_to,
    day_row,
    floor_to,
    interval_problem,
    plan_windows,
)

T = dt.datetime(2026, 11, 17, 9, 7, 30, tzinfo=dt.UTC)


def row(metric: str, n: float, d: float, c: float | None = None) -> IntervalRow:
    return IntervalRow(T, 15, SubjectKind.agent, "u", metric, n, d, d if c is None else c)


def test_interval_boundaries() -> None:
    assert floor_to(T, 15) == T.replace(minute=0, second=0)
    assert ceil_to(T, 30) == T.replace(minute=30, second=0)
    assert ceil_to(T.replace(minute=0, second=0), 15) == T.replace(minute=0, second=0)


def test_a_first_pull_reads_a_day_and_the_repull() -> None:
    ws = plan_windows(
        watermark=None,
        now=T,
        minutes=15,
        repull=dt.timedelta(hours=2),
        max_window=dt.timedelta(days=1),
    )
    assert ws[0].start == dt.datetime(2026, 11, 16, 7, 0, tzinfo=dt.UTC)
    assert ws[-1].end == dt.datetime(2026, 11, 17, 9, 15, tzinfo=dt.UTC)  # the current one


@pytest.mark.parametrize(
    ("r", "unit", "agg", "problem"),
    [
        (row("csat", 11, 10), "%", A.ratio, "more than the whole"),
        (row("csat", -1, 10), "%", A.ratio, "negative"),
        (row("nps", -11, 10), "pts", A.nps, "net promoters"),
        (row("aht", 200_000, 2), "s", A.weighted_mean, "beyond 86400"),
        (row("aht", 600, 2, c=-1), "s", A.weighted_mean, "negative"),
        (row("aht", float("nan"), 2), "s", A.weighted_mean, "not a number"),
    ],
)
def test_impossible_rows(r: IntervalRow, unit: str, agg: A, problem: str) -> None:
    found = interval_problem(r, unit, agg)
    assert found is not None
    assert problem in found


def test_possible_rows() -> None:
    assert interval_problem(row("nps", -3, 10), "pts", A.nps) is None
    assert interval_problem(row("aht", 86_400, 1), "s", A.weighted_mean) is None
    assert interval_problem(row("service_level", 0, 0), "%", A.ratio) is None


def test_daily_values_keep_their_counts() -> None:
    day = T.date()
    mean = day_row(DayCounts(day, "aht", 1, 2, 900, 3, 3), A.weighted_mean)
    assert mean is not None
    assert (mean.value, mean.weight, mean.numerator) == (300, 3, None)
    ratio = day_row(DayCounts(day, "service_level", None, 2, 13, 20, 20), A.ratio)
    assert ratio is not None
    assert (ratio.value, ratio.numerator, ratio.denominator) == (65, 13, 20)
    assert day_row(DayCounts(day, "asa", None, 2, 0, 0, 0), A.weighted_mean) is None
