"""The demo center: seeded once, realistic, and private where it must be."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import sqlalchemy as sa
from sqlmodel import col, select

from domain.items import ActionStatus
from domain.privacy import respondent_hash
from domain.roles import Role
from storage import demo
from storage.db import Database
from storage.models import (
    ActionItem,
    ActionItemEvent,
    Metric,
    MetricValue,
    OneOnOne,
    Person,
    PulseDelivery,
    PulseResponse,
    PulseRound,
    PulseSchedule,
    Team,
)

NOW = dt.datetime(2026, 11, 23, 11, 0, tzinfo=dt.UTC)
SECRET = "demo-test-secret"


def _hasher(round_id: int, person_id: int) -> str:
    return respondent_hash(SECRET, round_id=round_id, person_id=person_id)


async def test_seed_is_idempotent(any_db: Database) -> None:
    assert await demo.seed(any_db, now=NOW, hasher=_hasher) is True
    counts = await demo.table_counts(any_db)
    assert await demo.seed(any_db, now=NOW + dt.timedelta(days=3), hasher=_hasher) is False
    assert await demo.table_counts(any_db) == counts
    assert await demo.is_seeded(any_db)
    assert counts["teams"] == 3
    assert counts["people"] == 3 * 13 + 2
    assert counts["KPI values"] > 10_000


async def test_seeded_center_is_realistic(any_db: Database) -> None:
    await demo.seed(any_db, now=NOW, hasher=_hasher)
    async with any_db.session() as s:
        teams = list((await s.execute(select(Team))).scalars())
        persons = list((await s.execute(select(Person))).scalars())
        metrics = {m.key: m for m in (await s.execute(select(Metric))).scalars()}
        days = (
            await s.execute(sa.select(sa.func.min(MetricValue.day), sa.func.max(MetricValue.day)))
        ).one()
        keys = set((await s.execute(sa.select(col(MetricValue.metric_key)).distinct())).scalars())
        out_of_range = 0
        for m in metrics.values():
            q = (
                sa.select(sa.func.count())
                .select_from(MetricValue)
                .where(col(MetricValue.metric_key) == m.key)
            )
            if m.min_value is not None:
                out_of_range += int(
                    await s.scalar(q.where(col(MetricValue.value) < m.min_value)) or 0
                )
            if m.max_value is not None:
                out_of_range += int(
                    await s.scalar(q.where(col(MetricValue.value) > m.max_value)) or 0
                )
        statuses = Counter((await s.execute(sa.select(col(ActionItem.status)))).scalars())
        events = int(await s.scalar(sa.select(sa.func.count()).select_from(ActionItemEvent)) or 0)
        next_1on1 = list((await s.execute(sa.select(col(OneOnOne.next_at)))).scalars())
        schedules = int(await s.scalar(sa.select(sa.func.count()).select_from(PulseSchedule)) or 0)
    by_email = {p.email: p for p in persons}
    lead = by_email[demo.DEFAULT_USER_EMAIL]
    maria = by_email[f"maria.lopez@{demo.DOMAIN}"]
    billing = next(t for t in teams if t.name == "Billing")
    assert lead.role is Role.lead
    assert billing.lead_id == lead.id
    assert maria.team_id == billing.id
    assert maria.role is Role.agent
    assert {t.timezone for t in teams} == {"Europe/London", "America/New_York", "Europe/Berlin"}
    manager = next(p for p in persons if p.role is Role.manager)
    assert all(t.manager_id == manager.id for t in teams)
    assert sum(p.role is Role.admin for p in persons) == 1
    assert days == (NOW.date() - dt.timedelta(days=90), NOW.date() - dt.timedelta(days=1))
    assert keys == set(metrics)  # every built-in metric has data
    assert out_of_range == 0
    assert statuses[ActionStatus.open] >= 3
    assert statuses[ActionStatus.done] >= 3
    assert events > len(teams) * 6
    assert all(n is not None and n > NOW for n in next_1on1)
    assert schedules == 3


async def test_pulse_answers_are_anonymous_and_numerous(any_db: Database) -> None:
    await demo.seed(any_db, now=NOW, hasher=_hasher)
    async with any_db.session() as s:
        rounds = list((await s.execute(select(PulseRound))).scalars())
        deliveries = list((await s.execute(select(PulseDelivery))).scalars())
        responses = list((await s.execute(select(PulseResponse))).scalars())
    assert rounds
    assert all(r.closes_at <= NOW for r in rounds)
    for r in rounds:
        answered = {d.person_id for d in deliveries if d.round_id == r.id and d.answered}
        esat = [x for x in responses if x.round_id == r.id and x.question == "esat"]
        assert len(esat) == len(answered) >= 6
        # Closed rounds keep no tie to their respondents (tests/storage/test_pulse_privacy.py).
        assert {x.respondent_hash for x in esat} == {None}
        assert all(1 <= x.score <= 5 for x in esat)
    assert any(x.question == "enps" for x in responses)
