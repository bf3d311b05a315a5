"""`/kudos top`: by person and by value, over calendar periods, scoped to the teams one sees."""

from __future__ import annotations

import datetime as dt

from domain.roles import Role
from domain.types import Table
from handlers.core.context import HandlerContext
from storage import kudos as store
from storage.db import Database
from storage.models import Person, Team
from tests.conftest import FakeClock, make_person
from tests.handlers.kudos.helpers import crew, run, text_of


async def seed_kudos(
    db: Database, at: dt.datetime, rows: list[tuple[Person, Person, str | None]]
) -> None:
    for i, (giver, receiver, tag) in enumerate(rows):
        await store.record(
            db,
            giver_id=giver.id or 0,
            receivers=[store.NewRecognition(receiver.id or 0, receiver.team_id)],
            message=f"thanks {i}",
            value_tag=tag,
            group_key=f"g{i}-{giver.id}-{receiver.id}-{at.isoformat()}",
            at=at + dt.timedelta(minutes=i),
        )


async def test_leaderboard_by_person_and_value_scoped_to_the_team(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    c = await crew(db)
    other = await crew(db, "Sales")
    monday = dt.datetime(2026, 11, 16, 10, 0, tzinfo=dt.UTC)
    await seed_kudos(
        db,
        monday,
        [
            (c.sam, c.maria, "ownership"),
            (c.lee, c.maria, "ownership"),
            (c.lead, c.maria, "communication"),
            (c.maria, c.sam, "ownership"),
            (other.sam, other.maria, "action"),
        ],
    )
    # Last week's kudos are outside "week" but inside "month".
    await seed_kudos(db, monday - dt.timedelta(days=7), [(c.maria, c.lee, "planning")])
    week = await run(db, ctx, c.lee, "/kudos top week")
    assert week.ok
    tables = [b for b in week.blocks if isinstance(b, Table)]
    assert tables[0].rows == (("1", "Maria Billing", "3"), ("2", "Sam Billing", "1"))
    assert tables[1].rows[0][:2] == ("Ownership", "3")
    assert ("Communication", "1", "25 %") in tables[1].rows
    assert "Sales" not in text_of(week)
    month = await run(db, ctx, c.lee, "/kudos top month")
    rows = next(b for b in month.blocks if isinstance(b, Table)).rows
    assert ("3", "Lee Billing", "1") in rows or ("2", "Lee Billing", "1") in rows
    # A manager of both teams sees both.
    mgr = await make_person(db, "boss.person", role=Role.manager, team=c.team)
    async with db.session() as s:
        t = await s.get(Team, other.team.id)
        assert t is not None
        t.manager_id = mgr.id
    both = await run(db, ctx, mgr, "/kudos top week")
    assert "Maria Sales" in text_of(both)
    assert "Maria Billing" in text_of(both)
    bad = await run(db, ctx, c.lee, "/kudos top year")
    assert not bad.ok
