"""The roster import: teams, people, leads and managers; every row check; all or nothing."""

from __future__ import annotations

import pytest

from domain.roles import Role
from handlers.core.context import HandlerContext
from handlers.imports import import_roster, parse_roster
from storage import people
from tests.conftest import make_person, make_team
from tests.handlers.imports.sample import ROSTER, count_rows, error_lines


async def test_roster_import_creates_teams_people_leads_and_managers(ctx: HandlerContext) -> None:
    result = await import_roster(ctx, ROSTER)
    assert result.ok, result.summary()
    assert (result.created, result.updated, result.unchanged, result.teams_created) == (4, 0, 0, 2)
    assert result.summary() == "Imported 4 people: 4 new, 0 updated, 0 unchanged. 2 new teams."
    billing = await people.get_team_by_name(ctx.db, name="Billing")
    assert billing is not None
    assert billing.timezone == "Europe/London"  # the lead's zone
    boss = await people.get_by_email(ctx.db, email="ana.boss@acme.test")
    lead = await people.get_by_email(ctx.db, email="lee.lead@acme.test")
    maria = await people.get_by_email(ctx.db, email="maria.lopez@acme.test")
    assert boss
    assert lead
    assert maria
    assert boss.role is Role.manager
    assert boss.team_id is None
    assert boss.timezone == "Europe/Madrid"
    assert billing.lead_id == lead.id
    assert billing.manager_id == boss.id  # the lead's manager_email names a manager
    assert lead.manager_id == boss.id
    assert lead.slack_user_id == "U0LEAD01"
    assert maria.display_name == "Maria Lopez"
    assert maria.team_id == billing.id
    assert maria.manager_id == lead.id
    assert maria.timezone == "Europe/London"  # the team's zone when none is given
    assert maria.work_hours == "Mon-Thu 07:00-17:30; Sat 10:00-14:00"
    tom = await people.get_by_email(ctx.db, email="tom.night@acme.test")
    assert tom
    assert tom.work_hours == "Sun-Thu 22:00-06:00"


async def test_roster_reimport_changes_nothing(ctx: HandlerContext) -> None:
    await import_roster(ctx, ROSTER)
    before = await count_rows(ctx)
    again = await import_roster(ctx, ROSTER)
    assert (again.created, again.updated, again.unchanged, again.teams_created) == (0, 0, 4, 0)
    assert await count_rows(ctx) == before


async def test_roster_update_is_counted_and_default_hours_apply(ctx: HandlerContext) -> None:
    await import_roster(ctx, ROSTER)
    changed = ROSTER.replace("Tom Night,agent", "Tom Knight,agent")
    result = await import_roster(ctx, changed + "new.one@acme.test,New One,agent,Billing,,,,\n")
    assert (result.created, result.updated, result.unchanged) == (1, 1, 3)
    new = await people.get_by_email(ctx.db, email="new.one@acme.test")
    assert new
    assert new.work_hours == "Mon-Fri 09:00-17:00"


async def test_demoted_lead_is_no_longer_the_teams_lead(ctx: HandlerContext) -> None:
    await import_roster(ctx, ROSTER)
    result = await import_roster(ctx, ROSTER.replace("Lee Lead,lead", "Lee Lead,agent"))
    assert result.ok
    billing = await people.get_team_by_name(ctx.db, name="Billing")
    assert billing
    assert billing.lead_id is None


async def test_bad_row_imports_nothing_and_names_the_line(ctx: HandlerContext) -> None:
    bad = ROSTER + "x@acme.test,X,boss,Billing,,,,\n"
    result = await import_roster(ctx, bad)
    assert not result.ok
    assert error_lines(result) == [(6, "role 'boss' is not one of agent, lead, manager, admin")]
    assert result.summary().startswith("Nothing was imported: 1 problem in the file.\nline 6:")
    assert await count_rows(ctx) == (0, 0, 0)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("not-an-email,X,agent,Billing", "'not-an-email' is not an email address"),
        ("x@acme.test,,agent,Billing", "the name is empty"),
        ("x@acme.test," + "n" * 121 + ",agent,Billing", "the name is longer than 120 characters"),
        ("x@acme.test,X,chief,Billing", "role 'chief' is not one of agent, lead, manager, admin"),
        ("x@acme.test,X,agent,", "an agent needs a team"),
        ("x@acme.test,X,lead,", "a lead needs a team"),
        ("x@acme.test,X,agent," + "t" * 81, "the team name is longer than 80 characters"),
        ("x@acme.test,X,agent,Billing,Mars/Base", "unknown time zone 'Mars/Base'"),
        ("x@acme.test,X,agent,Billing,,Mon-Fri", "work_hours: 'Mon-Fri' is not a shift"),
        ("x@acme.test,X,agent,Billing,,Mon-Fri 9-5", "'9' is not a time of day"),
        ("x@acme.test,X,agent,Billing,,Mon 09:00-09:00", "cannot start and end at the same"),
        ("x@acme.test,X,agent,Billing,,Mon-Fri 25:00-26:00", "is not a time of day"),
        ("x@acme.test,X,agent,Billing,,Funday 09:00-17:00", "is not a weekday"),
        ("x@acme.test,X,agent,Billing,,,boss", "manager_email 'boss' is not an email address"),
        ("x@acme.test,X,agent,Billing,,,x@acme.test", "a person cannot be their own manager"),
        ("x@acme.test,X,agent,Billing,,,,u123", "'u123' is not a Slack user id"),
        ("x@acme.test,X,agent,Billing,,,,,,extra", "10 values for 9 columns"),
    ],
)
async def test_each_roster_validation(ctx: HandlerContext, row: str, message: str) -> None:
    header = "email,name,role,team,timezone,work_hours,manager_email,slack_user_id,teams_user_id\n"
    result = await import_roster(ctx, header + "ok@acme.test,Ok,agent,Billing\n" + row + "\n")
    assert [e.line for e in result.errors] == [3]
    assert message in result.errors[0].message
    assert await count_rows(ctx) == (0, 0, 0)


async def test_duplicates_within_the_file(ctx: HandlerContext) -> None:
    text = (
        "email,name,role,team,slack_user_id\n"
        "a@acme.test,A,lead,Billing,U0AAA\n"
        "b@acme.test,B,lead,billing,U0AAA\n"
        "A@acme.test,A again,agent,Billing,\n"
    )
    entries, errors = parse_roster(text)
    assert [(e.line, e.message) for e in errors] == [
        (3, "slack_user_id U0AAA is already on line 2"),
        (3, "team billing already has a lead on line 2"),
        (4, "email a@acme.test is already on line 2"),
    ]
    assert [e.email for e in entries] == ["a@acme.test"]


async def test_conflicts_with_the_stored_roster_import_nothing(ctx: HandlerContext) -> None:
    team = await make_team(ctx.db)
    await make_person(ctx.db, "old.hand", team=team)
    await people.set_platform_id(
        ctx.db,
        person_id=(await people.get_by_email(ctx.db, email="old.hand@example.com")).id or 0,  # type: ignore[union-attr]
        slack_user_id="U0TAKEN",
    )
    text = (
        "email,name,role,team,manager_email,slack_user_id\n"
        "a@acme.test,A,agent,Billing,,U0TAKEN\n"
        "b@acme.test,B,agent,Billing,ghost@acme.test,\n"
    )
    result = await import_roster(ctx, text)
    assert error_lines(result) == [
        (2, "Slack user id U0TAKEN already belongs to old.hand@example.com"),
        (3, "manager_email ghost@acme.test is neither in this file nor on the roster"),
    ]
    assert await count_rows(ctx) == (1, 1, 0)


async def test_manager_email_may_name_someone_already_on_the_roster(ctx: HandlerContext) -> None:
    team = await make_team(ctx.db)
    boss = await make_person(ctx.db, "big.boss", role=Role.manager, team=team)
    result = await import_roster(
        ctx,
        "email,name,role,team,manager_email\nl@acme.test,L,lead,Retention,big.boss@example.com\n",
    )
    assert result.ok
    retention = await people.get_team_by_name(ctx.db, name="Retention")
    assert retention
    assert retention.manager_id == boss.id
