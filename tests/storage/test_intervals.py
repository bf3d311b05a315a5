"""Intervals roll up to the local days of the team's zone, as sums; a re-pull replaces."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.kpi import Aggregation as A
from domain.kpi import combine
from domain.sources import IntervalRow, Subject, SubjectKind, Window
from storage import intervals, kpis, sources
from storage.db import Database
from tests.conftest import make_person, make_team

AGENT = SubjectKind.agent


def utc(d: int, h: int, m: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, d, h, m, tzinfo=dt.UTC)


def aht(start: dt.datetime, seconds: float, count: float) -> IntervalRow:
    return IntervalRow(start, 15, AGENT, "u1", "aht", seconds, count, count)


async def test_days_are_the_teams_local_days(any_db: Database) -> None:
    team = await make_team(any_db, "Night", tz="America/New_York")
    p = await make_person(any_db, "nina.night", team=team, tz="America/New_York")
    assert p.id is not None
    subject = Subject(AGENT, "u1", "Nina", "nina.night@example.com")
    window = Window(utc(17, 0), utc(17, 12))
    rows = [aht(utc(17, 3), 600, 2), aht(utc(17, 4, 45), 300, 1), aht(utc(17, 6), 900, 3)]
    applied = await intervals.apply_window(
        any_db, source="genesys", window=window, rows=rows, subjects=[subject]
    )
    assert applied.written == 3
    # 03:00 and 04:45 UTC are still the 16th in New York (UTC-5); 06:00 is the 17th.
    sums = await kpis.person_day_sums(
        any_db,
        person_id=p.id,
        metric_keys=["aht"],
        start=dt.date(2026, 11, 16),
        end=dt.date(2026, 11, 17),
    )
    assert combine(A.weighted_mean, sums[("aht", dt.date(2026, 11, 16))]) == pytest.approx(300)
    assert combine(A.weighted_mean, sums[("aht", dt.date(2026, 11, 17))]) == pytest.approx(300)
    state = await sources.get_state(any_db, source="genesys")
    assert state is not None
    assert state.watermark == window.end

    # The platform now says the 06:00 interval had nothing: its day goes, the other stays.
    again = await intervals.apply_window(
        any_db, source="genesys", window=Window(utc(17, 5), utc(17, 12)), rows=[]
    )
    assert (again.replaced, again.days_removed) == (1, 1)
    sums = await kpis.person_day_sums(
        any_db,
        person_id=p.id,
        metric_keys=["aht"],
        start=dt.date(2026, 11, 16),
        end=dt.date(2026, 11, 17),
    )
    assert set(sums) == {("aht", dt.date(2026, 11, 16))}
    state = await sources.get_state(any_db, source="genesys")
    assert state is not None
    assert state.watermark == window.end  # never moves back


async def test_an_unmapped_subject_waits_for_its_mapping(any_db: Database) -> None:
    team = await make_team(any_db, "Billing", tz="UTC")
    assert team.id is not None
    row = IntervalRow(utc(17, 9), 15, SubjectKind.queue, "q1", "service_level", 8, 10, 10)
    await intervals.apply_window(
        any_db,
        source="connect",
        window=Window(utc(17, 9), utc(17, 10)),
        rows=[row],
        subjects=[Subject(SubjectKind.queue, "q1", "Billing voice")],
    )
    assert await kpis.count_values(any_db) == 0  # no team yet: kept, not shown
    written, _ = await intervals.map_subject(
        any_db, source="connect", kind="queue", external_id="q1", team_id=team.id
    )
    assert written == 1
    day = dt.date(2026, 11, 17)
    ds = await kpis.team_day_sums(
        any_db, team_id=team.id, metric_keys=["service_level"], start=day, end=day
    )
    assert combine(A.ratio, ds.chosen("service_level", day)) == pytest.approx(80)
