"""What the connector tests share: a small center on the roster, the pull run through
the real job (as the bootstrap builds it), and the figures `/stats` shows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from domain.kpi import Aggregation, combine
from domain.roles import Role
from domain.sources import Source
from domain.types import Reply
from handlers.core.context import HandlerContext
from handlers.core.dispatch import run_command
from jobs.kpi_pull import job_id
from jobs.registry import build_jobs
from jobs.spec import JobRunInfo
from storage import intervals, kpis
from storage.db import Database
from storage.models import Person, Team
from tests.conftest import command, make_person, make_team
from tests.handlers.stats.world import text_of

NOW = dt.datetime(2026, 11, 17, 10, 0, tzinfo=dt.UTC)  # the clock fixture's moment
TODAY = NOW.date()


def at(hhmm: str, day: dt.date = TODAY) -> dt.datetime:
    h, m = hhmm.split(":")
    return dt.datetime(day.year, day.month, day.day, int(h), int(m), tzinfo=dt.UTC)


@dataclass
class Center:
    team: Team
    lead: Person
    ann: Person
    bob: Person


async def center(db: Database) -> Center:
    # London is on UTC in November: local days are UTC days, so figures are easy to check.
    team = await make_team(db, "Billing", tz="Europe/London")
    lead = await make_person(db, "lee.lead", role=Role.lead, team=team)
    ann = await make_person(db, "ann.agent", team=team)
    bob = await make_person(db, "bob.agent", team=team)
    return Center(team, lead, ann, bob)


async def run_pull(ctx: HandlerContext, source: Source) -> None:
    """One scheduled run of the source's pull job; raises as the scheduler would see it."""
    specs = build_jobs(ctx.settings, {source.name: source})
    spec = next(j for j in specs if j.id == job_id(source.name))
    await spec.run(ctx, JobRunInfo(spec.id, ctx.now()))


async def map_queue(db: Database, source: str, queue: str, team: Team) -> None:
    await intervals.map_subject(db, source=source, kind="queue", external_id=queue, team_id=team.id)


async def team_figure(
    db: Database, team: Team, metric: str, agg: Aggregation, day: dt.date = TODAY
) -> float | None:
    assert team.id is not None
    sums = await kpis.team_day_sums(db, team_id=team.id, metric_keys=[metric], start=day, end=day)
    return combine(agg, sums.chosen(metric, day))


async def person_figure(
    db: Database, p: Person, metric: str, agg: Aggregation, day: dt.date = TODAY
) -> float | None:
    assert p.id is not None
    sums = await kpis.person_day_sums(db, person_id=p.id, metric_keys=[metric], start=day, end=day)
    return combine(agg, sums[(metric, day)]) if (metric, day) in sums else None


async def stats(ctx: HandlerContext, who: Person, line: str) -> str:
    reply: Reply = await run_command(await command(ctx.db, who, line), ctx)
    return text_of(reply)
