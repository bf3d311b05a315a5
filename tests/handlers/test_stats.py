"""/stats: views, ranking, roles, bad input; and the period and formatting helpers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from domain.errors import UsageError
from domain.fmt import fmt_delta, fmt_goal, fmt_value, goal_met, sparkline
from domain.kpi import KpiRow
from domain.localtime import local_today
from domain.periods import make_period, parse_period
from domain.roles import Role
from domain.types import Fields, Reply, Table
from handlers.core.context import HandlerContext
from handlers.core.dispatch import run_command
from storage import goals, kpis, people
from storage.db import Database
from storage.models import Person, Team
from tests.conftest import FakeClock, command, make_person, make_team

TODAY = dt.date(2026, 11, 17)  # the clock fixture: Tuesday 17 Nov 2026, 10:00 UTC


def text_of(reply: Reply) -> str:
    """Everything a reader sees: blocks' text and table cells."""
    parts: list[str] = [reply.text]
    for b in reply.blocks:
        if isinstance(b, Table):
            parts.append(" | ".join(b.columns))
            parts.extend(" | ".join(r) for r in b.rows)
        elif hasattr(b, "text"):
            parts.append(b.text)
    return "\n".join(parts)


def table_of(reply: Reply) -> Table:
    tables = [b for b in reply.blocks if isinstance(b, Table)]
    assert tables, text_of(reply)
    return tables[0]


@dataclass
class World:
    billing: Team
    support: Team
    lead: Person
    other_lead: Person
    manager: Person
    ann: Person
    bob: Person
    cid: Person
    dan: Person  # in Support


async def make_world(db: Database) -> World:
    billing = await make_team(db, "Billing")
    support = await make_team(db, "Support")
    lead = await make_person(db, "lee.lead", role=Role.lead, team=billing)
    other = await make_person(db, "ola.lead", role=Role.lead, team=support)
    manager = await make_person(db, "max.manager", role=Role.agent)
    assert manager.id
    assert billing.id
    manager = await people.assign_member(
        db, person_id=manager.id, team_id=billing.id, role=Role.manager
    )
    ann = await make_person(db, "ann.agent", team=billing)
    bob = await make_person(db, "bob.agent", team=billing)
    cid = await make_person(db, "cid.agent", team=billing)
    dan = await make_person(db, "dan.agent", team=support)
    rows: list[KpiRow] = []
    for i in range(14):
        day = TODAY - dt.timedelta(days=14 - i)  # 3..16 Nov
        for p, aht, sat in ((ann, 280.0, 9), (bob, 330.0, 6), (cid, 300.0 + i, 8)):
            rows.append(KpiRow(day, "aht", aht, p.id, billing.id, weight=10))
            rows.append(KpiRow(day, "csat", sat * 10.0, p.id, billing.id, 10, sat, 10))
        rows.append(KpiRow(day, "aht", 500.0, dan.id, support.id, weight=10))
    await kpis.upsert_values(db, rows=rows)
    assert billing.id is not None
    await goals.set_goal(
        db,
        team_id=billing.id,
        metric_key="aht",
        op="<=",
        target=310,
        period="daily",
        set_by_id=lead.id,
    )
    return World(billing, support, lead, other, manager, ann, bob, cid, dan)


async def run(ctx: HandlerContext, who: Person, line: str) -> Reply:
    return await run_command(await command(ctx.db, who, line), ctx)


# --- the team overview --------------------------------------------------------------------


async def test_lead_sees_team_yesterday_week_goal_and_trend(ctx: HandlerContext) -> None:
    w = await make_world(ctx.db)
    reply = await run(ctx, w.lead, "/stats")
    assert reply.ok, text_of(reply)
    t = table_of(reply)
    assert t.columns[:4] == ("metric", "yesterday", "7 days", "Δ prior 7d")
    aht = next(r for r in t.rows if r[0] == "AHT")
    # Yesterday (16 Nov): (280 + 330 + 313) / 3 = 307.67 -> 5:08, on the <= 310 goal.
    assert aht[1] == "5:08 ✓"
    assert aht[4] == "≤ 5:10 /day"
    assert len(aht[5]) == 14
    assert set(aht[5]) <= set("▁▂▃▄▅▆▇█·")
    csat = next(r for r in t.rows if r[0] == "CSAT")
    assert csat[1] == "76.7%"  # (9 + 6 + 8) / 30
    assert "Billing" in reply.blocks[0].text  # type: ignore[union-attr]


async def test_breakdown_ranks_best_first_by_direction(ctx: HandlerContext) -> None:
    w = await make_world(ctx.db)
    reply = await run(ctx, w.lead, "/stats aht week")
    assert reply.ok, text_of(reply)
    rows = table_of(reply).rows
    assert [r[1] for r in rows] == ["Ann Agent", "Cid Agent", "Bob Agent"]  # lower AHT first
    assert rows[0][6] == "best"
    assert "lowest" in rows[-1][6]
    assert rows[-1][2].endswith("✗")
    assert rows[0][2].endswith("✓")
    reply = await run(ctx, w.lead, "/stats csat week")
    assert [r[1] for r in table_of(reply).rows] == ["Ann Agent", "Cid Agent", "Bob Agent"]
    assert "higher is better" in text_of(reply)


async def test_explicit_period_and_range(ctx: HandlerContext) -> None:
    w = await make_world(ctx.db)
    reply = await run(ctx, w.lead, "/stats month")
    assert reply.ok
    assert "November 2026 to date" in text_of(reply)
    reply = await run(ctx, w.lead, "/stats 2026-11-03..2026-11-09")
    assert reply.ok, text_of(reply)
    aht = next(r for r in table_of(reply).rows if r[0] == "AHT")
    # 3..9 Nov: cid is 300..306 -> mean of (280 + 330 + 303) / 3 = 304.33 -> 5:04
    assert aht[1] == "5:04 ✓"


async def test_agent_gets_own_figures_only(ctx: HandlerContext) -> None:
    w = await make_world(ctx.db)
    mine = await run(ctx, w.ann, "/stats")
    assert mine.ok
    assert "Ann Agent" in text_of(mine)
    assert "Bob" not in text_of(mine)
    assert (await run(ctx, w.ann, "/stats me aht week")).ok
    for line in ("/stats @bob.agent", "/stats team Billing", "/stats team Support"):
        reply = await run(ctx, w.ann, line)
        assert not reply.ok, line
        assert "own figures" in text_of(reply), line


async def test_lead_cannot_see_another_team_or_its_people(ctx: HandlerContext) -> None:
    w = await make_world(ctx.db)
    reply = await run(ctx, w.lead, "/stats team Support")
    assert not reply.ok
    assert "isn't one of yours" in text_of(reply)
    reply = await run(ctx, w.lead, "/stats @dan.agent")
    assert not reply.ok
    assert "isn't in a team of yours" in text_of(reply)
    own = await run(ctx, w.lead, "/stats @bob.agent week")
    assert own.ok
    assert "Bob Agent" in text_of(own)


async def test_manager_sees_the_teams_they_manage(ctx: HandlerContext) -> None:
    w = await make_world(ctx.db)
    reply = await run(ctx, w.manager, "/stats team Billing aht")
    assert reply.ok
    assert "Ann Agent" in text_of(reply)
    reply = await run(ctx, w.manager, "/stats team Support")
    assert not reply.ok


@pytest.mark.parametrize(
    ("line", "expect"),
    [
        ("/stats wibble", "Metrics: "),
        ("/stats wibble", "Periods: "),
        ("/stats 2026-02-30", "not a real date"),
        ("/stats 2026-11-10..2026-11-01", "ends before it starts"),
        ("/stats 2027-01-01", "in the future"),
        ("/stats aht csat", "one metric at a time"),
        ("/stats week month", "one period at a time"),
        ("/stats team Nowhere", "no team called"),
        ("/stats @nobody.here", "don't know"),
    ],
)
async def test_bad_input_explains(ctx: HandlerContext, line: str, expect: str) -> None:
    w = await make_world(ctx.db)
    before = await kpis.count_values(ctx.db)
    reply = await run(ctx, w.lead, line)
    assert not reply.ok
    assert expect in text_of(reply)
    assert await kpis.count_values(ctx.db) == before


async def test_no_data_says_so(ctx: HandlerContext) -> None:
    team = await make_team(ctx.db, "Empty")
    lead = await make_person(ctx.db, "eve.lead", role=Role.lead, team=team)
    reply = await run(ctx, lead, "/stats")
    assert reply.ok
    assert "No figures for Empty" in text_of(reply)


async def test_monday_overview_shows_friday(ctx: HandlerContext, clock: FakeClock) -> None:
    w = await make_world(ctx.db)
    # Sunday 15 Nov has data in the world; move to a team whose data stops on Friday.
    clock.set(dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC))  # Monday 23 Nov
    assert w.billing.id
    await kpis.upsert_values(
        ctx.db, rows=[KpiRow(dt.date(2026, 11, 20), "aht", 250.0, w.ann.id, w.billing.id, 10)]
    )
    reply = await run(ctx, w.lead, "/stats")
    assert table_of(reply).columns[1] == "Fri 20 Nov"


async def test_queue_metric_has_no_agent_breakdown(ctx: HandlerContext) -> None:
    w = await make_world(ctx.db)
    assert w.billing.id
    await kpis.upsert_values(
        ctx.db,
        rows=[KpiRow(TODAY - dt.timedelta(days=1), "service_level", 81.0, None, w.billing.id, 400)],
    )
    reply = await run(ctx, w.lead, "/stats sl week")
    assert reply.ok
    assert "measured for the queue" in text_of(reply)


# --- periods -------------------------------------------------------------------------------


def test_week_is_seven_days_ending_yesterday() -> None:
    p = make_period("week", TODAY)
    assert (p.start, p.end) == (dt.date(2026, 11, 10), dt.date(2026, 11, 16))
    assert (p.prev_start, p.prev_end) == (dt.date(2026, 11, 3), dt.date(2026, 11, 9))


def test_month_across_month_ends() -> None:
    first = make_period("month", dt.date(2026, 3, 1))  # on the 1st: all of February
    assert (first.start, first.end) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert (first.prev_start, first.prev_end) == (dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    late = make_period("month", dt.date(2026, 3, 31))  # 1..30 March vs 1..28 February
    assert (late.start, late.end) == (dt.date(2026, 3, 1), dt.date(2026, 3, 30))
    assert late.prev_end == dt.date(2026, 2, 28)
    d30 = make_period("30d", dt.date(2026, 1, 5))
    assert d30.start == dt.date(2025, 12, 6)
    assert d30.days == 30


def test_ranges_and_errors() -> None:
    p = parse_period("2026-10-25..2026-10-31", TODAY)
    assert p.days == 7
    assert p.prev_end == dt.date(2026, 10, 24)
    assert p.prev_start == dt.date(2026, 10, 18)
    assert parse_period("2026-11-01", TODAY).days == 1
    with pytest.raises(UsageError):
        parse_period("fortnight", TODAY)
    with pytest.raises(UsageError):
        parse_period("2025-01-01..2026-11-01", TODAY)  # more than a year


def test_local_today_follows_the_zone_through_dst() -> None:
    # 23:30 UTC: in London it is still the same day in winter (GMT) ...
    assert local_today(
        dt.datetime(2026, 10, 25, 23, 30, tzinfo=dt.UTC), "Europe/London"
    ) == dt.date(2026, 10, 25)
    # ... and already the next day in summer time (BST), the day after the spring change.
    assert local_today(dt.datetime(2026, 3, 29, 23, 30, tzinfo=dt.UTC), "Europe/London") == dt.date(
        2026, 3, 30
    )
    assert local_today(
        dt.datetime(2026, 11, 16, 14, 0, tzinfo=dt.UTC), "Australia/Sydney"
    ) == dt.date(2026, 11, 17)


# --- formatting -------------------------------------------------------------------------------


def test_formats() -> None:
    assert fmt_value("s", 287) == "4:47"
    assert fmt_value("s", 42) == "42s"
    assert fmt_value("s", 3725) == "1:02:05"
    assert fmt_value("%", 91.24) == "91.2%"
    assert fmt_value("pts", 32.4) == "+32"
    assert fmt_value("pts", -7) == "\u22127"
    assert fmt_value("%", None) == "\u2013"
    assert fmt_delta("s", -8, higher_is_better=False) == "▼ \u22128s"
    assert fmt_delta("s", 8, higher_is_better=False) == "▲ +8s !"
    assert fmt_delta("%", 1.25, higher_is_better=True) == "▲ +1.2 pts"
    assert fmt_delta("%", 0.01) == "= 0"
    assert fmt_goal("s", "<=", 300) == "≤ 5:00"
    assert goal_met(">=", 90, 90.0) is True
    assert goal_met("<=", 300, 301) is False
    assert goal_met(">=", 90, None) is None
    # Judged as shown: "90.0%" meets ">= 90.0%", "5:00" meets "<= 5:00", "5:01" does not.
    assert goal_met(">=", 90, 89.96, unit="%") is True
    assert goal_met(">=", 90, 89.94, unit="%") is False
    assert goal_met("<=", 300, 300.4, unit="s") is True
    assert goal_met("<=", 300, 300.6, unit="s") is False
    assert sparkline([1, 2, None, 8]) == "▁▂·█"
    assert sparkline([5, 5]) == "▄▄"


# --- home ------------------------------------------------------------------------------------


async def test_home_section_for_lead_and_agent(ctx: HandlerContext) -> None:
    from handlers.core.home import home
    from handlers.stats import home_section
    from tests.conftest import actor_of

    w = await make_world(ctx.db)
    lead_blocks = await home_section(actor_of(w.lead), ctx)
    text = text_of(Reply(blocks=lead_blocks))
    assert "Billing KPIs" in text
    pairs = dict(next(b for b in lead_blocks if isinstance(b, Fields)).pairs)
    assert pairs["AHT"].startswith("5:07 ✓")  # 10..16 Nov: (280 + 330 + 310) / 3 = 306.67
    agent_blocks = await home_section(actor_of(w.bob), ctx)
    text = text_of(Reply(blocks=agent_blocks))
    assert "Your KPIs" in text
    assert "You're on target for *0 of 1*" in text
    full = await home(actor_of(w.ann), ctx)
    assert "Your KPIs" in text_of(full)
    empty = await make_person(ctx.db, "new.agent", team=w.support)
    assert await home_section(actor_of(empty), ctx) == []


async def test_yesterday_and_month_in_the_team_zone_across_dst_and_month_end(
    ctx: HandlerContext, clock: FakeClock
) -> None:
    team = await make_team(ctx.db, "East", tz="America/New_York")
    lead = await make_person(ctx.db, "nia.lead", role=Role.lead, team=team, tz="America/New_York")
    ann = await make_person(ctx.db, "ned.agent", team=team, tz="America/New_York")
    assert team.id
    await kpis.upsert_values(
        ctx.db,
        rows=[
            KpiRow(dt.date(2026, 10, 30), "aht", 200.0, ann.id, team.id, 10),
            KpiRow(dt.date(2026, 10, 31), "aht", 300.0, ann.id, team.id, 10),
            KpiRow(dt.date(2026, 11, 1), "aht", 400.0, ann.id, team.id, 10),
        ],
    )
    # 03:30 UTC on 2 Nov is 22:30 on 1 Nov in New York (EST since 1 Nov): today is 1 Nov.
    clock.set(dt.datetime(2026, 11, 2, 3, 30, tzinfo=dt.UTC))
    reply = await run(ctx, lead, "/stats yesterday")
    aht = next(r for r in table_of(reply).rows if r[0] == "AHT")
    assert aht[1] == "5:00"  # 31 Oct
    assert aht[2] == "3:20"  # the day before, 30 Oct
    # On the 1st, "month" is the whole of October.
    reply = await run(ctx, lead, "/stats month")
    assert "October 2026" in text_of(reply)
    assert next(r for r in table_of(reply).rows if r[0] == "AHT")[1] == "4:10"
    # Two hours later it is 00:30 on 2 Nov in New York too.
    clock.advance(hours=2)
    reply = await run(ctx, lead, "/stats yesterday")
    assert next(r for r in table_of(reply).rows if r[0] == "AHT")[1] == "6:40"


async def test_manager_of_several_teams_sees_them_side_by_side(ctx: HandlerContext) -> None:
    w = await make_world(ctx.db)
    assert w.manager.id
    assert w.support.id
    await people.assign_member(
        ctx.db, person_id=w.manager.id, team_id=w.support.id, role=Role.manager
    )
    reply = await run(ctx, w.manager, "/stats")
    assert reply.ok, text_of(reply)
    t = table_of(reply)
    assert t.columns[:3] == ("team", "goals met", "AHT")
    rows = {r[0]: r for r in t.rows}
    # Billing: 10..16 Nov (280 + 330 + 310) / 3 = 5:07 on its 5:10 goal; Support: 8:20, no goal.
    assert rows["Billing"][1:3] == ("1/1", "5:07 ✓")
    assert rows["Support"][1:3] == ("\u2013", "8:20")
    detail = await run(ctx, w.manager, "/stats team Support")
    assert detail.ok
    assert "Support" in text_of(detail)


async def test_breakdown_of_a_big_team_shows_both_ends_and_no_data_names(
    ctx: HandlerContext,
) -> None:
    team = await make_team(ctx.db, "Big")
    lead = await make_person(ctx.db, "big.lead", role=Role.lead, team=team)
    assert team.id
    rows = []
    for i in range(40):
        p = await make_person(ctx.db, f"agent.n{i:02d}", team=team)
        # A zero-contact day counts for nothing: agent 39 has no usable figure at all.
        weight = 0 if i == 39 else 10 + i
        rows.append(KpiRow(TODAY - dt.timedelta(days=1), "aht", 200.0 + i, p.id, team.id, weight))
    await kpis.upsert_values(ctx.db, rows=rows)
    reply = await run(ctx, lead, "/stats aht yesterday")
    table = table_of(reply)
    assert len(table.rows) == 30
    assert table.rows[0][:2] == ("1", "Agent N00")
    assert table.rows[-1][:2] == ("39", "Agent N38")
    assert "lowest" in table.rows[-1][6]
    text = text_of(reply)
    assert "9 agents in the middle not shown." in text
    assert "No figures: Agent N39." in text


async def test_today_is_today_so_far(ctx: HandlerContext) -> None:
    w = await make_world(ctx.db)
    assert w.billing.id
    await kpis.upsert_values(ctx.db, rows=[KpiRow(TODAY, "aht", 240.0, w.ann.id, w.billing.id, 3)])
    reply = await run(ctx, w.lead, "/stats today")
    aht = next(r for r in table_of(reply).rows if r[0] == "AHT")
    assert aht[1] == "4:00 ✓"
    assert "today" in text_of(reply)
