"""The daily goal update: content for a fixed data set, working days, the one-time hint."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.kpi import KpiRow
from domain.roles import Role
from domain.types import Reply, Table
from handlers.core.context import HandlerContext
from jobs import goal_update
from jobs.registry import build_jobs
from jobs.spec import Cron, JobRunInfo
from storage import goals, kpis, outbox, people
from storage.db import Database
from storage.models import AlertIncident, AlertRule, OutboxMessage, Team
from tests.conftest import FakeClock, make_ctx, make_person, make_settings, make_team
from tests.handlers.stats.world import TODAY, World, make_world, text_of


@pytest.fixture
def ctx(db: Database, clock: FakeClock) -> HandlerContext:
    # The fixture world has 10 contacts per agent a day: compare figures from 10 up.
    return make_ctx(db, clock, stats_min_contacts=10)


def at_nine(day: dt.date) -> dt.datetime:
    # London is on GMT in November: 09:00 local is 09:00 UTC.
    return dt.datetime(day.year, day.month, day.day, 9, 0, tzinfo=dt.UTC)


async def fire(ctx: HandlerContext, team: Team, day: dt.date) -> list[OutboxMessage]:
    before = await outbox.last_id(ctx.db)
    await goal_update.run(ctx, JobRunInfo(goal_update.JOB_ID, at_nine(day), team.id))
    return await outbox.messages_after(ctx.db, after_id=before)


async def fixed_world(ctx: HandlerContext) -> World:
    w = await make_world(ctx.db)  # AHT <= 5:10 daily; 3..16 Nov of AHT and CSAT
    assert w.billing.id
    assert w.bob.id
    # Bob had a much better Monday than his week before: the mover.
    await kpis.upsert_values(
        ctx.db,
        rows=[KpiRow(TODAY - dt.timedelta(days=1), "aht", 290.0, w.bob.id, w.billing.id, 10)],
    )
    for metric, op, target, period in (
        ("csat", ">=", 80.0, "daily"),
        ("csat", ">=", 75.0, "weekly"),
    ):
        await goals.set_goal(
            ctx.db,
            team_id=w.billing.id,
            metric_key=metric,
            op=op,
            target=target,
            period=period,
            set_by_id=w.lead.id,
        )
    return w


async def test_daily_post_content(ctx: HandlerContext) -> None:
    w = await fixed_world(ctx)
    msgs = await fire(ctx, w.billing, TODAY)
    assert len(msgs) == 1
    m = msgs[0]
    assert m.dedupe_key == f"goal_update:{w.billing.id}:2026-11-17"
    assert m.recipient_team_id == w.billing.id
    assert m.target == "#Billing"
    reply = Reply.from_json(m.payload)
    text = text_of(reply)
    assert reply.blocks[0].text == "Billing · daily goals · Tue 17 Nov"  # type: ignore[union-attr]
    assert "1 of 2 daily goals hit on Mon 16 Nov." in text
    table = next(b for b in reply.blocks if isinstance(b, Table))
    assert table.rows == (
        # (280 + 290 + 313) / 3 = 294.3s; on target all 14 days with figures (3..16 Nov)
        ("AHT", "4:54 ✓", "≤ 5:10", "Mon 16 Nov", "14 days ★"),
        # (9 + 6 + 8) / 30 satisfied
        ("CSAT", "76.7% ✗", "≥ 80.0%", "Mon 16 Nov", ""),
        ("CSAT", "76.7% ✓", "≥ 75.0%", "last 7 days", ""),
    )
    assert "Bob Agent: AHT 5:30 → 4:50 (\u221240s)" in text
    # Only improvements are posted in the channel: Cid's AHT crept up, he is not named.
    assert "Cid" not in text
    assert "Today's goals: AHT ≤ 5:10 · CSAT ≥ 80.0% · CSAT ≥ 75.0% (weekly)" in text


async def test_runs_once_per_day(ctx: HandlerContext) -> None:
    w = await fixed_world(ctx)
    assert len(await fire(ctx, w.billing, TODAY)) == 1
    assert await fire(ctx, w.billing, TODAY) == []  # a retry or a second scheduler


async def test_no_post_on_a_non_working_day(ctx: HandlerContext) -> None:
    w = await fixed_world(ctx)
    assert await fire(ctx, w.billing, dt.date(2026, 11, 21)) == []  # Saturday
    assert await fire(ctx, w.billing, dt.date(2026, 11, 22)) == []  # Sunday


async def test_monday_reports_friday(ctx: HandlerContext) -> None:
    w = await fixed_world(ctx)
    assert w.billing.id
    await kpis.upsert_values(
        ctx.db, rows=[KpiRow(dt.date(2026, 11, 20), "aht", 250.0, w.ann.id, w.billing.id, 10)]
    )
    msgs = await fire(ctx, w.billing, dt.date(2026, 11, 23))
    text = text_of(Reply.from_json(msgs[0].payload))
    assert "daily goals hit on Fri 20 Nov" in text
    assert "4:10 ✓" in text


async def test_data_without_goals_still_posts_results(ctx: HandlerContext) -> None:
    team = await make_team(ctx.db, "Fresh")
    ann = await make_person(ctx.db, "fay.agent", team=team)
    await kpis.upsert_values(
        ctx.db, rows=[KpiRow(TODAY - dt.timedelta(days=1), "aht", 301.0, ann.id, team.id, 10)]
    )
    msgs = await fire(ctx, team, TODAY)
    text = text_of(Reply.from_json(msgs[0].payload))
    assert "Results for Mon 16 Nov: AHT 5:01" in text
    assert "No goals yet" in text


async def test_no_goals_no_data_hints_the_lead_once(ctx: HandlerContext) -> None:
    team = await make_team(ctx.db, "Quiet")
    lead = await make_person(ctx.db, "quinn.lead", role=Role.lead, team=team)
    msgs = await fire(ctx, team, TODAY)
    assert len(msgs) == 1
    assert msgs[0].recipient_person_id == lead.id
    assert msgs[0].recipient_team_id is None
    assert "/goal set" in Reply.from_json(msgs[0].payload).text
    assert await fire(ctx, team, TODAY + dt.timedelta(days=1)) == []  # not again
    # Once the team has a goal, it gets its post.
    assert team.id
    await goals.set_goal(
        ctx.db,
        team_id=team.id,
        metric_key="aht",
        op="<=",
        target=300,
        period="daily",
        set_by_id=None,
    )
    msgs = await fire(ctx, team, TODAY + dt.timedelta(days=2))
    assert len(msgs) == 1
    assert msgs[0].recipient_team_id == team.id
    assert "No results for Wed 18 Nov yet." in text_of(Reply.from_json(msgs[0].payload))


async def test_no_lead_no_hint(ctx: HandlerContext) -> None:
    team = await make_team(ctx.db, "Leaderless")
    assert await fire(ctx, team, TODAY) == []


async def test_schedule_follows_the_team(ctx: HandlerContext) -> None:
    team = await make_team(ctx.db, "Dubai", tz="Asia/Dubai")
    assert team.id
    t = await people.update_team(ctx.db, team_id=team.id, post_time="08:30", work_days="Sun-Thu")
    assert t is not None
    assert goal_update.team_cron(t) == Cron(
        minute="30", hour="8", day_of_week="mon,tue,wed,thu,sun", timezone="Asia/Dubai"
    )
    # Sunday is a working day there, Friday is not.
    assert await fire(ctx, t, dt.date(2026, 11, 20)) == []  # Friday: nothing, no hint either
    assert goal_update.SPEC in build_jobs(make_settings())


def test_unreadable_work_days_fall_back_to_weekdays() -> None:
    team = Team(id=1, name="Odd", name_key="odd", work_days="Funday", post_time="25:99")
    assert goal_update.team_work_days(team) == {0, 1, 2, 3, 4}
    assert goal_update.team_cron(team) == Cron(
        minute="0", hour="9", day_of_week="mon,tue,wed,thu,fri", timezone="UTC"
    )


async def _incident(
    ctx: HandlerContext, team: Team, queue: str, start: dt.datetime, minutes: int
) -> None:
    assert team.id
    async with ctx.db.session() as s:
        rule = AlertRule(
            team_id=team.id,
            queue_key=f"{queue}@{start}",
            metric="waiting",
            op=">=",
            warning=5,
            critical=10,
        )
        s.add(rule)
        await s.flush()
        assert rule.id
        s.add(
            AlertIncident(
                rule_id=rule.id,
                team_id=team.id,
                queue_id=queue,
                queue_name=queue,
                metric="waiting",
                op=">=",
                warning=5,
                critical=10,
                since=start,
                opened_at=start,
                resolved_at=start + dt.timedelta(minutes=minutes),
            )
        )


async def test_the_post_mentions_yesterdays_queue_alerts(ctx: HandlerContext) -> None:
    w = await fixed_world(ctx)
    yesterday = at_nine(TODAY - dt.timedelta(days=1))
    await _incident(ctx, w.billing, "Billing voice", yesterday, 42)
    await _incident(ctx, w.billing, "Billing voice", yesterday + dt.timedelta(hours=3), 10)
    await _incident(ctx, w.billing, "Billing chat", yesterday + dt.timedelta(hours=5), 5)
    # Two days ago: not yesterday's.
    await _incident(ctx, w.billing, "Billing chat", yesterday - dt.timedelta(days=1), 90)
    text = text_of(Reply.from_json((await fire(ctx, w.billing, TODAY))[0].payload))
    assert "Yesterday: 3 queue alerts, the longest 42 min; most on Billing voice." in text
    # Without incidents the line is not there.
    quiet = await make_team(ctx.db, "Quiet")
    ann = await make_person(ctx.db, "fay.agent", team=quiet)
    await kpis.upsert_values(
        ctx.db, rows=[KpiRow(TODAY - dt.timedelta(days=1), "aht", 301.0, ann.id, quiet.id, 10)]
    )
    assert "queue alert" not in text_of(Reply.from_json((await fire(ctx, quiet, TODAY))[0].payload))


async def test_alerts_alone_make_a_post(ctx: HandlerContext) -> None:
    team = await make_team(ctx.db, "Night")
    await _incident(ctx, team, "Night voice", at_nine(TODAY - dt.timedelta(days=1)), 12)
    msgs = await fire(ctx, team, TODAY)
    assert len(msgs) == 1
    assert "Yesterday: 1 queue alert, the longest 12 min on Night voice." in text_of(
        Reply.from_json(msgs[0].payload)
    )
