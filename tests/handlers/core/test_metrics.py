"""The metrics seam: naming metrics, the cached catalogue, which goal judges a figure,
and the per-day sums."""

from __future__ import annotations

import datetime as dt

from domain.kpi import ZERO, DaySums, Sums
from handlers.core.metrics import (
    goal_for,
    goal_text,
    goals_first,
    metric_catalogue,
    metrics_help,
    resolve_metric,
    short_name,
    sum_days,
    team_per_day,
)
from storage.db import Database
from storage.models import Goal, Metric

DAY = dt.date(2026, 11, 16)


def _goal(key: str, period: str, target: float = 300, op: str = "<=") -> Goal:
    return Goal(team_id=1, metric_key=key, op=op, target=target, period=period)


async def test_the_catalogue_is_in_builtin_order_and_cached(db: Database) -> None:
    metrics = await metric_catalogue(db)
    assert [m.key for m in metrics][:4] == ["csat", "nps", "fcr", "aht"]
    assert await metric_catalogue(db) is metrics


async def test_metrics_by_key_alias_or_name(db: Database) -> None:
    metrics = await metric_catalogue(db)
    for word, key in (
        ("aht", "aht"),
        ("AHT", "aht"),
        ("sl", "service_level"),
        ("service-level", "service_level"),
        ("Average handle time", "aht"),
        ("average-handle-time", "aht"),
        ("qa", "qa_score"),
    ):
        found = resolve_metric(word, metrics)
        assert found is not None, word
        assert found.key == key, word
    assert resolve_metric("wibble", metrics) is None
    assert metrics_help(metrics).startswith("Metrics: csat, nps, fcr, aht")


def test_short_names() -> None:
    assert short_name(Metric(key="aht", name="Average handle time", unit="s")) == "AHT"
    assert short_name(Metric(key="x", name="Short", unit="%")) == "Short"
    assert short_name(Metric(key="y", name="A very long metric name", unit="%")) == (
        "A very long met…"
    )


def test_the_goal_that_judges_a_period() -> None:
    goals = [_goal("aht", "daily"), _goal("aht", "weekly", 290), _goal("aht", "monthly", 280)]
    assert goal_for(goals, "aht", 1) is goals[0]
    assert goal_for(goals, "aht", 7) is goals[1]
    assert goal_for(goals, "aht", 30) is goals[2]
    assert goal_for(goals[:1], "aht", 30) is goals[0]  # the nearest one there is
    assert goal_for(goals, "csat", 1) is None
    aht = Metric(key="aht", name="Average handle time", unit="s")
    assert goal_text(aht, goals[0]) == "≤ 5:00 /day"
    assert goal_text(aht, goals[1], with_period=False) == "≤ 4:50"
    assert goal_text(aht, None) == ""


def test_goals_first_keeps_the_catalogue_order() -> None:
    ms = [Metric(key=k, name=k, unit="%") for k in ("csat", "nps", "fcr", "aht")]
    assert [m.key for m in goals_first(ms, [_goal("fcr", "daily"), _goal("nps", "daily")])] == [
        "nps",
        "fcr",
        "csat",
        "aht",
    ]


def test_team_per_day_prefers_the_queue_rows() -> None:
    queue, agents = Sums(w=400, c=1), Sums(w=10, c=2)
    ds = DaySums(
        team={("service_level", DAY): queue},
        people={("service_level", DAY): agents, ("aht", DAY - dt.timedelta(days=1)): agents},
    )
    assert team_per_day(ds, "service_level") == {DAY: queue}
    assert team_per_day(ds, "aht") == {DAY - dt.timedelta(days=1): agents}
    assert team_per_day(ds, "csat") == {}


def test_sum_days_includes_both_ends() -> None:
    one = Sums(v=1, c=1)
    per_day = {DAY - dt.timedelta(days=i): one for i in range(5)}
    assert sum_days(per_day, DAY - dt.timedelta(days=2), DAY) == Sums(v=3, c=3)
    assert sum_days(per_day, DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=3)) == ZERO
