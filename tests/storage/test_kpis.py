"""Aggregation of KPI values over people and days, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.kpi import Aggregation, KpiRow, Sums, combine
from domain.roles import Role
from storage import goals, kpis, outbox
from storage.db import Database
from storage.outbox import OutboxNew
from tests.conftest import make_person, make_team

D1 = dt.date(2026, 11, 16)
D2 = dt.date(2026, 11, 17)


async def _team_and_two(db: Database) -> tuple[int, int, int]:
    team = await make_team(db)
    a = await make_person(db, "ann.a", team=team)
    b = await make_person(db, "bob.b", team=team)
    assert team.id
    assert a.id
    assert b.id
    return team.id, a.id, b.id


def test_combine_weighted_mean_ignores_zero_contacts() -> None:
    # 300s over 10 contacts and a zero-contact day that says 9999s: the latter counts for nothing.
    s = Sums(vw=300 * 10 + 9999 * 0, w=10, c=2)
    assert combine(Aggregation.weighted_mean, s) == pytest.approx(300)
    assert combine(Aggregation.weighted_mean, Sums(vw=0, w=0, c=1)) is None
    assert combine(Aggregation.ratio, Sums(n=0, d=0, c=1)) is None
    assert combine(Aggregation.nps, Sums()) is None
    assert combine(Aggregation.sum, Sums(v=7, c=2)) == 7


async def test_aht_is_contact_weighted_and_huge_volume_dominates(any_db: Database) -> None:
    team_id, a, b = await _team_and_two(any_db)
    await kpis.upsert_values(
        any_db,
        rows=[
            KpiRow(D1, "aht", 600.0, a, team_id, weight=1),  # one long call
            KpiRow(D1, "aht", 200.0, b, team_id, weight=999),  # a huge volume
            KpiRow(D2, "aht", 5000.0, a, team_id, weight=0),  # zero contacts: ignored
        ],
    )
    ds = await kpis.team_day_sums(any_db, team_id=team_id, metric_keys=["aht"], start=D1, end=D2)
    total = ds.over("aht", D1, D2)
    assert combine(Aggregation.weighted_mean, total) == pytest.approx((600 + 200 * 999) / 1000)
    assert combine(Aggregation.weighted_mean, ds.chosen("aht", D2)) is None


async def test_ratio_from_counts_and_from_percentages_mix(any_db: Database) -> None:
    team_id, a, b = await _team_and_two(any_db)
    await kpis.upsert_values(
        any_db,
        rows=[
            # a: 9 of 10 surveyed satisfied (counts given), b: 50% over 30 contacts (no counts)
            KpiRow(D1, "csat", 90.0, a, team_id, weight=10, numerator=9, denominator=10),
            KpiRow(D1, "csat", 50.0, b, team_id, weight=30),
        ],
    )
    ds = await kpis.team_day_sums(any_db, team_id=team_id, metric_keys=["csat"], start=D1, end=D1)
    # (9 + 15) / (10 + 30)
    assert combine(Aggregation.ratio, ds.over("csat", D1, D1)) == pytest.approx(60.0)


async def test_nps_from_counts_vs_scores(any_db: Database) -> None:
    team_id, a, b = await _team_and_two(any_db)
    await kpis.upsert_values(
        any_db,
        rows=[
            # a: 6 promoters, 1 detractor of 10 responses -> +50 (counts)
            KpiRow(D1, "nps", 50.0, a, team_id, weight=10, numerator=5, denominator=10),
            # b: only a daily score of -10 over 30 responses
            KpiRow(D1, "nps", -10.0, b, team_id, weight=30),
        ],
    )
    ds = await kpis.team_day_sums(any_db, team_id=team_id, metric_keys=["nps"], start=D1, end=D1)
    # (5 + (-10 * 30 / 100)) / (10 + 30) * 100 = (5 - 3) / 40 * 100 = 5
    assert combine(Aggregation.nps, ds.over("nps", D1, D1)) == pytest.approx(5.0)
    # Counts alone give exactly promoters minus detractors over responses.
    mine = await kpis.person_day_sums(any_db, person_id=a, metric_keys=["nps"], start=D1, end=D1)
    assert combine(Aggregation.nps, mine[("nps", D1)]) == pytest.approx(50.0)


async def test_team_rows_win_over_people_rows_per_day(any_db: Database) -> None:
    team_id, a, b = await _team_and_two(any_db)
    await kpis.upsert_values(
        any_db,
        rows=[
            KpiRow(D1, "service_level", 60.0, a, team_id, weight=10),
            KpiRow(D1, "service_level", 70.0, None, team_id, weight=500),  # the queue's own
            KpiRow(D2, "service_level", 90.0, b, team_id, weight=10),  # only people on D2
        ],
    )
    ds = await kpis.team_day_sums(
        any_db, team_id=team_id, metric_keys=["service_level"], start=D1, end=D2
    )
    assert combine(Aggregation.ratio, ds.chosen("service_level", D1)) == pytest.approx(70.0)
    assert combine(Aggregation.ratio, ds.chosen("service_level", D2)) == pytest.approx(90.0)
    per = await kpis.people_sums(
        any_db, team_id=team_id, metric_key="service_level", start=D1, end=D2
    )
    assert set(per) == {(a, None), (b, None)}  # the queue row is nobody's


async def test_missing_days_and_by_day_breakdown(any_db: Database) -> None:
    team_id, a, _b = await _team_and_two(any_db)
    d0 = dt.date(2026, 10, 30)
    rows = [
        KpiRow(d0 + dt.timedelta(days=i), "aht", 300.0 + i, a, team_id, weight=10) for i in (0, 3)
    ]
    await kpis.upsert_values(any_db, rows=rows)
    per = await kpis.people_sums(
        any_db,
        team_id=team_id,
        metric_key="aht",
        start=d0,
        end=d0 + dt.timedelta(days=5),
        by_day=True,
    )
    assert set(per) == {(a, d0), (a, d0 + dt.timedelta(days=3))}
    ds = await kpis.team_day_sums(
        any_db, team_id=team_id, metric_keys=["aht"], start=d0, end=d0 + dt.timedelta(days=5)
    )
    # Across the month end: the two present days, equally weighted.
    total = ds.over("aht", d0, d0 + dt.timedelta(days=5))
    assert total.c == 2
    assert combine(Aggregation.weighted_mean, total) == pytest.approx(301.5)


async def test_upsert_updates_instead_of_duplicating(any_db: Database) -> None:
    team_id, a, _b = await _team_and_two(any_db)
    await kpis.upsert_values(any_db, rows=[KpiRow(D1, "aht", 300.0, a, team_id, weight=5)])
    await kpis.upsert_values(any_db, rows=[KpiRow(D1, "aht", 280.0, a, team_id, weight=6)])
    assert await kpis.count_values(any_db) == 1
    mine = await kpis.person_day_sums(any_db, person_id=a, metric_keys=["aht"], start=D1, end=D1)
    assert combine(Aggregation.weighted_mean, mine[("aht", D1)]) == pytest.approx(280.0)
    assert await kpis.has_any_values(any_db, team_id=team_id)


async def test_goals_replace_and_clear(any_db: Database) -> None:
    team = await make_team(any_db)
    assert team.id is not None
    g1, old = await goals.set_goal(
        any_db,
        team_id=team.id,
        metric_key="aht",
        op="<=",
        target=300,
        period="daily",
        set_by_id=None,
    )
    assert old is None
    g2, old = await goals.set_goal(
        any_db,
        team_id=team.id,
        metric_key="aht",
        op="<=",
        target=280,
        period="daily",
        set_by_id=None,
    )
    assert old is not None
    assert old.id == g1.id
    await goals.set_goal(
        any_db,
        team_id=team.id,
        metric_key="aht",
        op="<=",
        target=290,
        period="weekly",
        set_by_id=None,
    )
    active = await goals.list_goals(any_db, team_ids=[team.id])
    assert [(g.period, g.target) for g in active] == [("daily", 280), ("weekly", 290)]
    assert await goals.team_ids_with_goals(any_db) == {team.id}
    cleared = await goals.clear_goals(any_db, team_id=team.id, metric_key="aht", period="weekly")
    assert [g.period for g in cleared] == ["weekly"]
    assert [g.id for g in await goals.list_goals(any_db, team_ids=[team.id])] == [g2.id]


async def test_send_once_sends_a_notice_a_single_time(any_db: Database) -> None:
    team = await make_team(any_db)
    lead = await make_person(any_db, "lee.lead", role=Role.lead, team=team)
    assert lead.id is not None
    msg = OutboxNew(dedupe_key="hint:1", payload='{"blocks":[]}', person_id=lead.id)
    assert await goals.send_once(any_db, key="hint:team:1", messages=[msg])
    msg2 = OutboxNew(dedupe_key="hint:2", payload='{"blocks":[]}', person_id=lead.id)
    assert not await goals.send_once(any_db, key="hint:team:1", messages=[msg2])
    assert len(await outbox.messages_after(any_db, after_id=0)) == 1
    assert await goals.notice_given(any_db, key="hint:team:1")


async def test_metric_days_by_person_keeps_team_rows_apart(any_db: Database) -> None:
    team_id, a, b = await _team_and_two(any_db)
    await kpis.upsert_values(
        any_db,
        rows=[
            KpiRow(D1, "asa", 20.0, a, team_id, weight=10),
            KpiRow(D1, "asa", 40.0, b, team_id, weight=30),
            KpiRow(D2, "asa", 25.0, None, team_id, weight=500),
            KpiRow(D2, "aht", 300.0, a, team_id, weight=5),  # another metric: not read
        ],
    )
    got = await kpis.metric_days_by_person(
        any_db, team_id=team_id, metric_key="asa", start=D1, end=D2
    )
    assert set(got) == {(a, D1), (b, D1), (None, D2)}
    assert combine(Aggregation.weighted_mean, got[(b, D1)]) == pytest.approx(40.0)
    assert got[(None, D2)].w == 500
