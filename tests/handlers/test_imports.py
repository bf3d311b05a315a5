"""Roster and KPI CSV imports: all or nothing, line numbers, idempotent re-imports."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.roles import Role
from handlers.core.context import HandlerContext
from handlers.imports import ImportResult, import_kpis, import_roster, parse_roster
from storage import people
from storage.kpis import count_values
from tests.conftest import make_person, make_team

# A roster as people write them: mixed case, extra spaces, optional columns left empty.
ROSTER = """\
email,name,role,team,timezone,work_hours,manager_email,slack_user_id
ana.boss@acme.test,Ana Boss,manager,,Europe/Madrid,,,
lee.lead@acme.test,Lee Lead,lead,Billing,Europe/London,,ana.boss@acme.test,U0LEAD01
Maria.Lopez@ACME.test, Maria  Lopez ,agent,billing,,"Mon-Thu 07:00-17:30; Sat 10:00-14:00",\
lee.lead@acme.test,
tom.night@acme.test,Tom Night,agent,Tech Support,America/New_York,Sun-Thu 22:00-06:00,,
"""

KPIS = """\
date,email,metric,value,contacts
2026-11-16,maria.lopez@acme.test,aht,290,40
2026-11-16,maria.lopez@acme.test,csat,91.5,12
2026-11-16,tom.night@acme.test,aht,340,35
2026-11-17,tom.night@acme.test,nps,-12,8
"""


async def _counts(ctx: HandlerContext) -> tuple[int, int, int]:
    return (
        len(await people.list_people(ctx.db)),
        len(await people.list_teams(ctx.db)),
        await count_values(ctx.db),
    )


def _lines(result: ImportResult) -> list[tuple[int, str]]:
    return [(e.line, e.message) for e in result.errors]


# --- roster ------------------------------------------------------------------------------


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
    before = await _counts(ctx)
    again = await import_roster(ctx, ROSTER)
    assert (again.created, again.updated, again.unchanged, again.teams_created) == (0, 0, 4, 0)
    assert await _counts(ctx) == before


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
    assert _lines(result) == [(6, "role 'boss' is not one of agent, lead, manager, admin")]
    assert result.summary().startswith("Nothing was imported: 1 problem in the file.\nline 6:")
    assert await _counts(ctx) == (0, 0, 0)


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
    assert await _counts(ctx) == (0, 0, 0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("email,name,role\n", "the header lacks team"),
        ("email,name,role,team,shoe_size\n", "unknown column shoe_size"),
        ("email,name,role,team,team\n", "column team appears twice"),
        ("email,name,role,team\n\n", "the file has a header but no people"),
    ],
)
async def test_roster_file_level_errors(ctx: HandlerContext, text: str, message: str) -> None:
    result = await import_roster(ctx, text)
    assert not result.ok
    assert message in result.errors[0].message


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
    assert _lines(result) == [
        (2, "Slack user id U0TAKEN already belongs to old.hand@example.com"),
        (3, "manager_email ghost@acme.test is neither in this file nor on the roster"),
    ]
    assert await _counts(ctx) == (1, 1, 0)


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


# --- KPIs --------------------------------------------------------------------------------


async def test_kpi_import_and_reimport(ctx: HandlerContext) -> None:
    await import_roster(ctx, ROSTER)
    first = await import_kpis(ctx, KPIS)
    assert first.ok, first.summary()
    assert (first.created, first.updated, first.unchanged) == (4, 0, 0)
    assert first.summary() == "Imported 4 KPI values: 4 new, 0 updated, 0 unchanged."
    again = await import_kpis(ctx, KPIS)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert await count_values(ctx.db) == 4
    changed = await import_kpis(ctx, KPIS.replace("aht,290,40", "aht,295,40"))
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 3)
    assert await count_values(ctx.db) == 4


async def test_kpi_team_rows_and_counts(ctx: HandlerContext) -> None:
    await import_roster(ctx, ROSTER)
    text = (
        "date,email,metric,value,contacts,team,numerator,denominator\n"
        "2026-11-16,,service_level,81.5,400,Billing,326,400\n"
        "2026-11-16,maria.lopez@acme.test,fcr,75%,40,,30,40\n"
    )
    result = await import_kpis(ctx, text)
    assert result.ok, result.summary()
    assert result.created == 2
    assert (await import_kpis(ctx, text)).unchanged == 2


async def test_kpi_bad_row_imports_nothing(ctx: HandlerContext) -> None:
    await import_roster(ctx, ROSTER)
    result = await import_kpis(ctx, KPIS + "2026-11-16,maria.lopez@acme.test,csat,101,5\n")
    assert _lines(result) == [(6, "csat 101 is above its maximum 100")]
    assert await count_values(ctx.db) == 0


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("2026-02-30,maria.lopez@acme.test,aht,300,1", "date '2026-02-30' is not a date"),
        ("yesterday,maria.lopez@acme.test,aht,300,1", "date 'yesterday' is not a date"),
        ("2026-11-19,maria.lopez@acme.test,aht,300,1", "date 2026-11-19 is in the future"),
        ("2026-11-16,nobody@acme.test,aht,300,1", "nobody@acme.test is not on the roster"),
        ("2026-11-16,maria.lopez@acme.test,happiness,3,1", "unknown metric 'happiness'"),
        ("2026-11-16,maria.lopez@acme.test,aht,fast,1", "value 'fast' is not a number"),
        ("2026-11-16,maria.lopez@acme.test,aht,nan,1", "value 'nan' is not a number"),
        ("2026-11-16,maria.lopez@acme.test,aht,-5,1", "aht -5 is below its minimum 0"),
        ("2026-11-16,maria.lopez@acme.test,nps,-101,1", "nps -101 is below its minimum -100"),
        ("2026-11-16,maria.lopez@acme.test,aht,300,-3", "contacts -3 is negative"),
        ("2026-11-16,maria.lopez@acme.test,aht,300,many", "contacts 'many' is not a number"),
        ("2026-11-16,,aht,300,1,", "the email is empty"),
        ("2026-11-16,,asa,30,1,Nowhere", "there is no team called 'Nowhere'"),
        ("2026-11-16,maria.lopez@acme.test,csat,90,10,,9,", "give both numerator and denominator"),
        ("2026-11-16,maria.lopez@acme.test,csat,90,10,,9,0", "denominator must be more than 0"),
        (
            "2026-11-15,maria.lopez@acme.test,aht,290,40",
            "the same person, metric and date as line 2",
        ),
    ],
)
async def test_each_kpi_validation(ctx: HandlerContext, row: str, message: str) -> None:
    await import_roster(ctx, ROSTER)
    header = "date,email,metric,value,contacts,team,numerator,denominator\n"
    text = header + "2026-11-15,maria.lopez@acme.test,aht,290,40\n" + row + "\n"
    result = await import_kpis(ctx, text)
    assert [e.line for e in result.errors] == [3], result.errors
    assert message in result.errors[0].message
    assert await count_values(ctx.db) == 0


async def test_kpi_file_level_errors(ctx: HandlerContext) -> None:
    assert (
        "the header lacks value"
        in (await import_kpis(ctx, "date,email,metric\n")).errors[0].message
    )
    assert "no values" in (await import_kpis(ctx, "date,email,metric,value\n")).errors[0].message


async def test_many_errors_are_capped_in_the_summary(ctx: HandlerContext) -> None:
    text = "date,email,metric,value\n" + "".join(f"bad,{i}@x.test,aht,1\n" for i in range(40))
    result = await import_kpis(ctx, text)
    assert len(result.errors) == 80
    lines = result.summary().splitlines()
    assert lines[0] == "Nothing was imported: 80 problems in the file."
    assert lines[-1] == "... and 30 more"


async def test_future_dates_are_judged_by_the_clock(ctx: HandlerContext) -> None:
    await import_roster(ctx, ROSTER)
    assert ctx.now().date() == dt.date(2026, 11, 17)
    ok = await import_kpis(ctx, "date,email,metric,value\n2026-11-18,tom.night@acme.test,aht,300\n")
    assert ok.ok  # tomorrow in UTC is already today in Kiritimati
