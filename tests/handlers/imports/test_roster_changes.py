"""The roster import's dry run, --deactivate-missing, one-pass errors, platform ids, leads."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import SQLModel

from domain.roles import Role
from handlers.core.context import HandlerContext
from handlers.imports import import_roster
from storage import oneonones, people
from storage.db import Database
from tests.conftest import make_person, make_team
from tests.handlers.imports.sample import ROSTER, error_lines

HEADER = "email,name,role,team,timezone,work_hours,manager_email,slack_user_id,teams_user_id\n"


async def table_counts(db: Database) -> dict[str, int]:
    async with db.engine.connect() as conn:
        return {
            t.name: int(
                (await conn.execute(sa.select(sa.func.count()).select_from(t))).scalar_one()
            )
            for t in SQLModel.metadata.sorted_tables
        }


async def rows(db: Database) -> str:
    async with db.engine.connect() as conn:
        out = []
        for t in SQLModel.metadata.sorted_tables:
            out.append(repr((await conn.execute(sa.select(t).order_by(*t.primary_key))).all()))
        return "\n".join(out)


async def test_a_dry_run_says_what_would_change_and_changes_nothing(ctx: HandlerContext) -> None:
    await import_roster(ctx, ROSTER)
    await make_person(
        ctx.db, "gone.agent", team=await people.get_team_by_name(ctx.db, name="Billing")
    )
    counts, before = await table_counts(ctx.db), await rows(ctx.db)
    changed = (
        ROSTER.replace("Tom Night,agent,Tech Support", "Tom Night,agent,Billing")
        + "new.one@acme.test,New One,agent,Retention,,,,\n"
    )
    result = await import_roster(ctx, changed, dry_run=True, deactivate_missing=True)
    assert result.ok, result.summary()
    assert await table_counts(ctx.db) == counts
    assert await rows(ctx.db) == before
    lines = result.summary().splitlines()
    assert lines[0] == (
        "Dry run, nothing was changed. Would import 5 people: 1 new, 1 updated, 3 unchanged. "
        "1 new team. 1 moved to another team. 1 deactivated (not in the file)."
    )
    assert "New teams (1): Retention" in lines
    assert "New people (1): New One <new.one@acme.test>" in lines
    assert "Moved (1): Tom Night <tom.night@acme.test> Tech Support → Billing" in lines
    assert "Deactivated (1): Gone Agent <gone.agent@example.com>" in lines
    # The same import for real does exactly that.
    real = await import_roster(ctx, changed, deactivate_missing=True)
    assert real.summary().splitlines()[0] == lines[0].replace(
        "Dry run, nothing was changed. Would import", "Imported"
    )
    gone = await people.get_by_email(ctx.db, email="gone.agent@example.com")
    assert gone is not None
    assert not gone.active


async def test_deactivate_missing_keeps_admins_and_counts(ctx: HandlerContext) -> None:
    await import_roster(ctx, ROSTER)
    await make_person(ctx.db, "ada.admin", role=Role.admin)
    only_two = HEADER + "lee.lead@acme.test,Lee Lead,lead,Billing,,,,,\n"
    only_two += "maria.lopez@acme.test,Maria Lopez,agent,Billing,,,,,\n"
    result = await import_roster(ctx, only_two, deactivate_missing=True)
    assert result.ok, result.summary()
    assert result.deactivated == 2  # Ana Boss and Tom Night; never the admin
    text = result.summary()
    assert "2 deactivated (not in the file)." in text
    assert "Kept 1 admin not in the file active" in text
    assert "Billing has no manager now." in text  # Ana managed it
    admin = await people.get_by_email(ctx.db, email="ada.admin@example.com")
    assert admin is not None
    assert admin.active
    assert [p.email for p in await people.list_people(ctx.db)] == [
        "ada.admin@example.com",
        "lee.lead@acme.test",
        "maria.lopez@acme.test",
    ]
    # Without the flag, people not in the file are left as they are.
    again = await import_roster(ctx, ROSTER)
    assert again.deactivated is None
    assert "deactivated" not in again.summary().splitlines()[0].replace(
        "deactivated before, active again", ""
    )


async def test_every_problem_of_a_file_is_reported_in_one_pass(ctx: HandlerContext) -> None:
    team = await make_team(ctx.db)
    holder = await make_person(ctx.db, "old.hand", team=team)
    await people.set_platform_id(ctx.db, person_id=holder.id or 0, slack_user_id="U0TAKEN")
    text = (
        HEADER
        + "a@acme.test,A,boss,Billing,,,,,\n"  # a row's own problem
        + "b@acme.test,B,agent,Billing,,,ghost@acme.test,,\n"  # needs the stored roster
        + "c@acme.test,C,agent,Billing,,,,U0TAKEN,\n"  # so does this
        + "d@acme.test,D,agent,Billing,,,a@acme.test,,\n"  # a manager on a refused row: known
        + "e@acme.test,E,lead,Billing,,,,,\n"
        + "f@acme.test,F,lead,billing,,,,,\n"  # a second lead for the team
    )
    before = await rows(ctx.db)
    result = await import_roster(ctx, text)
    assert error_lines(result) == [
        (2, "role 'boss' is not one of agent, lead, manager, admin"),
        (3, "manager_email ghost@acme.test is neither in this file nor on the roster"),
        (4, "Slack user id U0TAKEN already belongs to old.hand@example.com"),
        (7, "team billing already has a lead on line 6"),
    ]
    assert result.summary().startswith("Nothing was imported: 4 problems in the file.")
    assert await rows(ctx.db) == before


async def test_many_problems_are_capped_with_the_total(ctx: HandlerContext) -> None:
    text = HEADER + "".join(f"p{i}@acme.test,P,chief,Billing,,,,,\n" for i in range(70))
    text += "q@acme.test,Q,agent,Billing,,,ghost@acme.test,,\n"
    result = await import_roster(ctx, text)
    lines = result.summary().splitlines()
    assert lines[0] == "Nothing was imported: 71 problems in the file."
    assert len(lines) == 1 + 50 + 1
    assert lines[-1] == "... and 21 more"
    assert error_lines(result)[-1] == (
        72,
        "manager_email ghost@acme.test is neither in this file nor on the roster",
    )


async def test_an_id_kept_by_an_empty_column_is_a_line_numbered_conflict(
    ctx: HandlerContext,
) -> None:
    await import_roster(
        ctx,
        HEADER
        + "a@acme.test,A,agent,Billing,,,,U0AAA,\n"
        + "b@acme.test,B,agent,Billing,,,,,T-B\n",
    )
    before = await rows(ctx.db)
    # A keeps U0AAA (their column is empty: keep what is stored) while B claims it.
    result = await import_roster(
        ctx,
        HEADER + "a@acme.test,A,agent,Billing,,,,,\n" + "b@acme.test,B,agent,Billing,,,,U0AAA,\n",
    )
    assert error_lines(result) == [
        (
            3,
            "Slack user id U0AAA already belongs to a@acme.test, and line 2 leaves their "
            "slack_user_id empty, which keeps it",
        )
    ]
    assert await rows(ctx.db) == before
    # The same for Teams ids.
    teams = await import_roster(
        ctx, HEADER + "b@acme.test,B,agent,Billing,,,,,\n" + "a@acme.test,A,agent,Billing,,,,,T-B\n"
    )
    assert [line for line, _ in error_lines(teams)] == [3]


async def test_ids_may_move_between_people_of_the_file(ctx: HandlerContext) -> None:
    await import_roster(
        ctx,
        HEADER
        + "a@acme.test,A,agent,Billing,,,,U0AAA,\n"
        + "b@acme.test,B,agent,Billing,,,,U0BBB,\n",
    )
    swapped = await import_roster(
        ctx,
        HEADER
        + "a@acme.test,A,agent,Billing,,,,U0BBB,\n"
        + "b@acme.test,B,agent,Billing,,,,U0AAA,\n",
    )
    assert swapped.ok, swapped.summary()
    a = await people.get_by_email(ctx.db, email="a@acme.test")
    b = await people.get_by_email(ctx.db, email="b@acme.test")
    assert a is not None
    assert b is not None
    assert (a.slack_user_id, b.slack_user_id) == ("U0BBB", "U0AAA")


async def test_a_new_lead_in_the_file_takes_over(ctx: HandlerContext) -> None:
    await import_roster(ctx, ROSTER)
    lee = await people.get_by_email(ctx.db, email="lee.lead@acme.test")
    maria = await people.get_by_email(ctx.db, email="maria.lopez@acme.test")
    assert lee is not None
    assert maria is not None
    assert lee.id is not None
    assert maria.id is not None
    await oneonones.schedule(
        ctx.db,
        lead_id=lee.id,
        agent_id=maria.id,
        cadence_weeks=2,
        weekday=1,
        local_time="10:00",
        duration_minutes=30,
        timezone="Europe/London",
        next_at=ctx.now(),
        at=ctx.now(),
    )
    changed = ROSTER.replace("Lee Lead,lead", "Lee Lead,agent") + (
        "nia.new@acme.test,Nia New,lead,Billing,,,,\n"
    )
    result = await import_roster(ctx, changed)
    assert result.ok, result.summary()
    assert "Nia New took over 1 1:1 in Billing from Lee Lead." in result.summary()
    [o] = await oneonones.list_active(ctx.db, agent_id=maria.id)
    nia = await people.get_by_email(ctx.db, email="nia.new@acme.test")
    assert nia is not None
    assert o.lead_id == nia.id
    dropped = await import_roster(ctx, changed.replace("Nia New,lead", "Nia New,agent"))
    assert "Billing has no lead now." in dropped.summary()
