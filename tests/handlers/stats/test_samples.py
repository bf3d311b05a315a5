"""One "last working day" for /stats and the daily post, and the minimum-sample rule: a
figure on too few contacts is shown, said to be so, and never compared."""

from __future__ import annotations

import dataclasses
import datetime as dt

from domain.kpi import KpiRow
from domain.roles import Role
from handlers.core.context import HandlerContext
from jobs import goal_update
from storage import goals, kpis
from storage.models import Person, Team
from tests.conftest import FakeClock, make_person, make_team
from tests.handlers.stats.world import run, table_of, text_of

MONDAY = dt.date(2026, 11, 23)


@dataclasses.dataclass
class Small:
    team: Team
    lead: Person
    agents: list[Person]


async def small(ctx: HandlerContext) -> Small:
    """Billing (Mon-Fri): FCR for two weeks of working days, 3 agents x 20 contacts a day;
    on Sunday 22 Nov one agent took 12 contacts and resolved them all."""
    team = await make_team(ctx.db, "Billing")
    lead = await make_person(ctx.db, "lee.lead", role=Role.lead, team=team)
    agents = [await make_person(ctx.db, f"a{i}.agent", team=team) for i in range(3)]
    assert team.id
    rows = []
    for offset in range(1, 20):
        day = MONDAY - dt.timedelta(days=offset)
        if day.weekday() < 5:
            for a in agents:
                rows.append(KpiRow(day, "fcr", 70.0, a.id, team.id, 20, 14, 20))
    rows.append(KpiRow(dt.date(2026, 11, 22), "fcr", 100.0, agents[0].id, team.id, 12, 12, 12))
    await kpis.upsert_values(ctx.db, rows=rows)
    await goals.set_goal(
        ctx.db,
        team_id=team.id,
        metric_key="fcr",
        op=">=",
        target=72.0,
        period="daily",
        set_by_id=lead.id,
    )
    return Small(team, lead, agents)


async def test_monday_stats_and_the_post_report_the_same_day(
    ctx: HandlerContext, clock: FakeClock
) -> None:
    s = await small(ctx)
    clock.set(dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC))
    reply = await run(ctx, s.lead, "/stats")
    assert table_of(reply).columns[1] == "Fri 20 Nov"  # not Sunday's one-agent day
    fcr = next(r for r in table_of(reply).rows if r[0] == "FCR")
    assert fcr[1] == "70.0% ✗"  # Friday: 42 of 60
    post = await goal_update.build_update(ctx, s.team, MONDAY)
    assert post is not None
    assert "daily goals hit on Fri 20 Nov" in post.fallback + text_of(post)


async def test_too_few_contacts_are_shown_but_never_compared(
    ctx: HandlerContext, clock: FakeClock
) -> None:
    s = await small(ctx)
    clock.set(dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC))
    reply = await run(ctx, s.lead, "/stats 2026-11-22")  # the Sunday
    fcr = next(r for r in table_of(reply).rows if r[0] == "FCR")
    assert fcr[1] == "100.0%"  # shown, no ✓ against the 72% goal
    assert fcr[3] == "\u2013"  # no "▲ +30.0 pts" against Saturday (or anything)
    assert "only 12 contacts" in text_of(reply)
    assert "30 needed" in text_of(reply)
    # With the rule at 10 contacts, the same day is compared.
    low = dataclasses.replace(
        ctx, settings=ctx.settings.model_copy(update={"stats_min_contacts": 10})
    )
    fcr = next(
        r for r in table_of(await run(low, s.lead, "/stats 2026-11-22")).rows if r[0] == "FCR"
    )
    assert fcr[1] == "100.0% ✓"


async def test_few_contacts_name_no_mover_and_neither_break_nor_extend_a_streak(
    ctx: HandlerContext,
) -> None:
    s = await small(ctx)
    assert s.team.id
    # Tuesday 24 Nov: a quiet day; Wednesday 25: a normal one on target.
    rows = [KpiRow(dt.date(2026, 11, 24), "fcr", 100.0, s.agents[1].id, s.team.id, 5, 5, 5)]
    rows += [
        KpiRow(dt.date(2026, 11, 25), "fcr", 80.0, a.id, s.team.id, 20, 16, 20) for a in s.agents
    ]
    await kpis.upsert_values(ctx.db, rows=rows)
    quiet = await goal_update.build_update(ctx, s.team, dt.date(2026, 11, 25))  # on Tuesday
    assert quiet is not None
    text = text_of(quiet)
    assert "only 5 contacts" in text
    assert "Biggest movers" not in text  # 100% on 5 contacts moves nobody
    assert "0 of 0 daily goals" not in text
    normal = await goal_update.build_update(ctx, s.team, dt.date(2026, 11, 26))  # on Wednesday
    assert normal is not None
    result = next(r for r in table_of(normal).rows if r[0] == "FCR")
    assert result[1] == "80.0% ✓"
    assert result[4] == "1 day"  # Tuesday's 5 contacts neither extend nor break it
