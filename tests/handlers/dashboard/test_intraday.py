"""The team page's curve of the day: the connector's intervals when there are, in the
team's zone, each interval's value from its summed counts; the last two weeks otherwise."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.sources import IntervalRow, Subject, SubjectKind, Window
from handlers.core.context import HandlerContext
from handlers.dashboard.intraday import day_curve
from storage import catalogue, intervals
from storage.catalogue import ensure_reference_data
from tests.conftest import make_person, make_team

QUEUE, AGENT = SubjectKind.queue, SubjectKind.agent
DAY = dt.date(2026, 11, 17)


def at(h: int, m: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, 17, h, m, tzinfo=dt.UTC)


async def test_the_days_queue_intervals_are_the_curve(ctx: HandlerContext) -> None:
    await ensure_reference_data(ctx.db)
    team = await make_team(ctx.db, "Billing", tz="Europe/Berlin")  # UTC+1 in November
    assert team.id is not None
    rows = [
        IntervalRow(at(8), 15, QUEUE, "q1", "service_level", 40, 50, 50),
        IntervalRow(at(8), 15, QUEUE, "q2", "service_level", 10, 50, 50),  # same interval
        IntervalRow(at(8, 15), 15, QUEUE, "q1", "service_level", 45, 50, 50),
        IntervalRow(at(23, 15), 15, QUEUE, "q1", "service_level", 1, 1, 1),  # the next day there
    ]
    subjects = [Subject(QUEUE, "q1", "Billing voice"), Subject(QUEUE, "q2", "Billing chat")]
    await intervals.apply_window(
        ctx.db, source="genesys", window=Window(at(8), at(23, 30)), rows=rows, subjects=subjects
    )
    for q in ("q1", "q2"):
        await intervals.map_subject(
            ctx.db, source="genesys", kind="queue", external_id=q, team_id=team.id
        )
    metrics = await catalogue.list_metrics(ctx.db)
    curve = await day_curve(ctx, team, DAY, [m for m in metrics if m.key == "service_level"])
    assert curve is not None
    assert curve.kind == "intraday"
    assert curve.labels == ("09:00", "09:15")  # Berlin time
    assert curve.values == pytest.approx((50.0, 90.0))  # (40 + 10) / 100, 45 / 50


async def test_agents_intervals_when_no_queue_has_the_metric(ctx: HandlerContext) -> None:
    await ensure_reference_data(ctx.db)
    team = await make_team(ctx.db, "Billing", tz="UTC")
    await make_person(ctx.db, "ann.agent", team=team, tz="UTC")
    rows = [IntervalRow(at(9), 30, AGENT, "u1", "aht", 3000, 10, 10)]
    await intervals.apply_window(
        ctx.db,
        source="connect",
        window=Window(at(9), at(9, 30)),
        rows=rows,
        subjects=[Subject(AGENT, "u1", "Ann", "ann.agent@example.com")],
    )
    metrics = [m for m in await catalogue.list_metrics(ctx.db) if m.key == "aht"]
    curve = await day_curve(ctx, team, DAY, metrics)
    assert curve is not None
    assert (curve.kind, curve.labels, curve.values) == ("intraday", ("09:00",), (300.0,))
    # Another day has no intervals: the last two weeks, one figure a day.
    other = await day_curve(ctx, team, DAY + dt.timedelta(days=1), metrics)
    assert other is not None
    assert other.kind == "daily"
