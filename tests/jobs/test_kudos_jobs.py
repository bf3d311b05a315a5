"""Recognition jobs: the weekly digest for a fixed data set, the lead's quiet achievers,
and the KPI suggestions (a 5-day streak once; personal bests; big improvements)."""

from __future__ import annotations

import datetime as dt

from sqlmodel import col, select

from domain.kpi import KpiRow
from domain.types import Buttons, Reply, Table
from handlers.core.context import HandlerContext
from jobs.kudos_jobs import (
    SUGGESTIONS,
    WEEKLY_DIGEST,
    find_suggestions,
    streak_run,
    suggestions,
    weekly_digest,
)
from jobs.spec import JobRunInfo
from storage import kudos as store
from storage.db import Database
from storage.kpis import upsert_values
from storage.models import Goal, KudosSuggestion, Metric, OutboxMessage, Person
from tests.conftest import FakeClock
from tests.handlers.kudos.helpers import Crew, crew, text_of

UTC = dt.UTC
FRIDAY_4PM = dt.datetime(2026, 11, 20, 16, 0, tzinfo=UTC)  # London is on GMT


async def messages(db: Database) -> list[OutboxMessage]:
    async with db.session() as s:
        return list(
            (await s.execute(select(OutboxMessage).order_by(col(OutboxMessage.id)))).scalars()
        )


async def give(
    db: Database, giver: Person, receivers: list[Person], tag: str | None, msg: str, at: dt.datetime
) -> None:
    await store.record(
        db,
        giver_id=giver.id or 0,
        receivers=[store.NewRecognition(r.id or 0, r.team_id) for r in receivers],
        message=msg,
        value_tag=tag,
        group_key=f"{giver.id}-{msg}",
        at=at,
    )


async def fixed_week(db: Database) -> Crew:
    c = await crew(db)
    monday = dt.datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
    await give(db, c.sam, [c.maria], "ownership", "took the outage calls", monday)
    await give(
        db, c.lead, [c.maria, c.sam], "partnership", "great handover", monday + dt.timedelta(days=1)
    )
    await give(db, c.maria, [c.sam], "ownership", "fixed the macro", monday + dt.timedelta(days=2))
    await give(db, c.lee, [c.sam], None, "thanks for the coffee", monday + dt.timedelta(days=3))
    # Before the week: not in the digest; and Lee's only kudos is five weeks old.
    await give(db, c.sam, [c.lee], "planning", "old news", monday - dt.timedelta(weeks=5))
    return c


async def test_weekly_digest_content_for_a_fixed_week(db: Database, ctx: HandlerContext) -> None:
    c = await fixed_week(db)
    await weekly_digest(ctx, JobRunInfo(WEEKLY_DIGEST.id, FRIDAY_4PM, team_id=c.team.id))
    msgs = await messages(db)
    post = next(m for m in msgs if m.recipient_team_id == c.team.id)
    assert post.dedupe_key == f"kudos:digest:{c.team.id}:2026-11-20"
    reply = Reply.from_json(post.payload)
    body = text_of(reply)
    assert "Kudos this week in Billing" in body
    assert "13 Nov to 20 Nov · 5 kudos to 2 people" in body
    assert "• *Maria Billing* (Ownership), from Sam Billing: took the outage calls" in body
    assert "• *Maria Billing, Sam Billing* (Partnership), from Lead Billing: great handover" in body
    assert "• *Sam Billing* (Ownership), from Maria Billing: fixed the macro" in body
    assert "• *Sam Billing*, from Lee Billing: thanks for the coffee" in body
    assert "old news" not in body
    table = next(b for b in reply.blocks if isinstance(b, Table))
    assert table.rows == (("Ownership", "2"), ("Partnership", "2"), ("(no value)", "1"))


async def test_quiet_achievers_go_privately_to_the_lead(db: Database, ctx: HandlerContext) -> None:
    c = await fixed_week(db)
    await weekly_digest(ctx, JobRunInfo(WEEKLY_DIGEST.id, FRIDAY_4PM, team_id=c.team.id))
    msgs = await messages(db)
    private = [m for m in msgs if m.recipient_person_id is not None]
    assert [m.recipient_person_id for m in private] == [c.lead.id]
    reply = Reply.from_json(private[0].payload)
    table = next(b for b in reply.blocks if isinstance(b, Table))
    # Lee was last recognised five weeks ago; Maria and Sam this week.
    assert table.rows == (("Lee Billing", "12 Oct"),)
    assert "Only you see this" in text_of(reply)
    # Nothing about quiet achievers is in the channel post.
    post = next(m for m in msgs if m.recipient_team_id == c.team.id)
    assert "Quiet" not in post.payload
    # A second run (another scheduler) sends nothing twice.
    await weekly_digest(ctx, JobRunInfo(WEEKLY_DIGEST.id, FRIDAY_4PM, team_id=c.team.id))
    assert len(await messages(db)) == len(msgs)


async def test_digest_of_an_empty_week_invites_kudos(db: Database, ctx: HandlerContext) -> None:
    c = await crew(db)
    await weekly_digest(ctx, JobRunInfo(WEEKLY_DIGEST.id, FRIDAY_4PM, team_id=c.team.id))
    post = next(m for m in await messages(db) if m.recipient_team_id == c.team.id)
    assert "No kudos this week" in post.payload
    lead = next(m for m in await messages(db) if m.recipient_person_id == c.lead.id)
    assert "never" in lead.payload
    assert "Lee Billing" in lead.payload
    assert WEEKLY_DIGEST.team_cron is not None
    cron = WEEKLY_DIGEST.team_cron(c.team)
    assert cron is not None
    assert (cron.day_of_week, cron.hour, cron.timezone) == (
        "fri",
        "16",
        "Europe/London",
    )


async def csat_goal(db: Database, c: Crew) -> None:
    async with db.session() as s:
        s.add(Goal(team_id=c.team.id or 0, metric_key="csat", op=">=", target=90.0))


async def csat(db: Database, p: Person, days: dict[dt.date, float]) -> None:
    await upsert_values(
        db,
        rows=[
            KpiRow(d, "csat", v, person_id=p.id, team_id=p.team_id, weight=20)
            for d, v in days.items()
        ],
    )


async def suggestion_rows(db: Database) -> list[KudosSuggestion]:
    async with db.session() as s:
        return list(
            (await s.execute(select(KudosSuggestion).order_by(col(KudosSuggestion.id)))).scalars()
        )


async def test_five_day_streak_is_suggested_to_the_lead_once(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    c = await crew(db)
    await csat_goal(db, c)
    week = [dt.date(2026, 11, 16) + dt.timedelta(days=i) for i in range(5)]  # Mon-Fri
    await csat(db, c.maria, {d: 92.0 + i for i, d in enumerate(week)})
    # Sam: 4 days on target, one below: no streak. Lee: on target but one day missing.
    await csat(db, c.sam, {d: (95.0 if i != 1 else 80.0) for i, d in enumerate(week)})
    await csat(db, c.lee, {d: 97.0 for d in week if d.weekday() != 2})
    monday = dt.datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
    clock.set(monday)
    await suggestions(ctx, JobRunInfo(SUGGESTIONS.id, monday, team_id=c.team.id))
    rows = await suggestion_rows(db)
    assert [(r.person_id, r.kind, r.key) for r in rows] == [
        (c.maria.id, "streak", f"streak:{c.maria.id}:csat:2026-11-16")
    ]
    assert rows[0].detail == "5 working days in a row on target for CSAT (goal ≥ 90.0%)"
    assert rows[0].value_tag == "ownership"
    dm = [m for m in await messages(db) if m.recipient_person_id == c.lead.id]
    assert len(dm) == 1
    assert dm[0].dedupe_key == f"kudos:suggest:{rows[0].id}"
    reply = Reply.from_json(dm[0].payload)
    buttons = [b for blk in reply.blocks if isinstance(blk, Buttons) for b in blk.buttons]
    assert [(b.label, b.action_id, b.value) for b in buttons] == [
        ("Post", "kudos.suggest.post", str(rows[0].id)),
        ("Edit & post", "kudos.suggest.post", str(rows[0].id)),
        ("Dismiss", "kudos.suggest.dismiss", str(rows[0].id)),
    ]
    # The streak goes on the next day: still the same streak, so nothing new.
    await csat(db, c.maria, {dt.date(2026, 11, 23): 99.0})
    tuesday = monday + dt.timedelta(days=1)
    clock.set(tuesday)
    await suggestions(ctx, JobRunInfo(SUGGESTIONS.id, tuesday, team_id=c.team.id))
    await suggestions(ctx, JobRunInfo(SUGGESTIONS.id, tuesday, team_id=c.team.id))
    assert len(await suggestion_rows(db)) == 1
    assert len([m for m in await messages(db) if m.recipient_person_id == c.lead.id]) == 1


def _goal() -> Goal:
    return Goal(team_id=1, metric_key="aht", op="<=", target=300.0)


def _aht() -> Metric:
    return Metric(key="aht", name="Average handle time", unit="s", higher_is_better=False)


def test_streak_counts_working_days_only() -> None:
    goal = _goal()
    # Thu, Fri, (weekend), Mon, Tue, Wed on target.
    days = [dt.date(2026, 11, d) for d in (12, 13, 16, 17, 18)]
    values = {d: (280.0, 10.0) for d in days}
    n, start = streak_run(values, goal, "Mon-Fri 09:00-17:00", dt.date(2026, 11, 18))
    assert (n, start) == (5, dt.date(2026, 11, 12))
    # Saturday 21st is not a working day: the streak still ends on Friday 20th... which has
    # no data, so there is no current streak.
    n, _ = streak_run(values, goal, "Mon-Fri 09:00-17:00", dt.date(2026, 11, 21))
    assert n == 0


def test_personal_best_and_big_improvement() -> None:
    goal = _goal()
    p = Person(id=7, email="a@b.c", display_name="A", work_hours="Mon-Sun 09:00-17:00")
    values: dict[dt.date, tuple[float, float]] = {}
    # September ~340 s, October ~295 s, November: steady 290 s then a best of 250 s.
    for i in range(30):
        values[dt.date(2026, 9, 1) + dt.timedelta(days=i)] = (340.0, 10.0)
    for i in range(31):
        values[dt.date(2026, 10, 1) + dt.timedelta(days=i)] = (295.0, 10.0)
    for i in range(16):
        values[dt.date(2026, 11, 1) + dt.timedelta(days=i)] = (290.0, 10.0)
    values[dt.date(2026, 11, 17)] = (250.0, 12.0)
    found = find_suggestions(p, goal, _aht(), values, dt.date(2026, 11, 17), 50)
    kinds = {k: (key, detail) for key, k, detail in found}
    assert kinds["personal_best"][0] == "best:7:aht:2026-W47"
    assert "personal best Average handle time of 4:10 on Tue 17 Nov" in kinds["personal_best"][1]
    assert kinds["improvement"][0] == "improve:7:aht:2026-10"
    assert kinds["improvement"][1] == (
        "Average handle time improved from 5:40 in September to 4:55 in October"
    )
    assert "streak" not in kinds  # the streak threshold here is 50 days
    # A worse day is no personal best; a small change is no "big improvement".
    values[dt.date(2026, 11, 17)] = (300.0, 12.0)
    for i in range(31):
        values[dt.date(2026, 10, 1) + dt.timedelta(days=i)] = (330.0, 10.0)
    kinds2 = {k for _, k, _ in find_suggestions(p, goal, _aht(), values, dt.date(2026, 11, 17), 50)}
    assert kinds2 == set()
