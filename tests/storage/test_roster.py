"""The roster upsert: one transaction for teams, people, leads and managers."""

from __future__ import annotations

from domain.roles import Role
from storage import people
from storage.db import Database
from storage.roster import RosterEntry, apply_roster, people_by_email, teams_by_name
from tests.conftest import make_person, make_team

ENTRIES = [
    RosterEntry(2, "ana.boss@acme.test", "Ana Boss", Role.manager, None, "Europe/Madrid"),
    RosterEntry(
        3,
        "lee.lead@acme.test",
        "Lee Lead",
        Role.lead,
        "Billing",
        "Europe/London",
        manager_email="ana.boss@acme.test",
        slack_user_id="U0LEE",
    ),
    RosterEntry(
        4,
        "maria.lopez@acme.test",
        "Maria Lopez",
        Role.agent,
        "Billing",
        work_hours="Mon-Thu 07:00-17:30",
        manager_email="lee.lead@acme.test",
    ),
    RosterEntry(5, "tom.night@acme.test", "Tom Night", Role.agent, "Retention"),
]


async def test_apply_creates_everything_once(any_db: Database) -> None:
    out = await apply_roster(any_db, entries=ENTRIES, default_timezone="Europe/Berlin")
    assert (out.teams_created, out.people_created, out.people_updated, out.people_unchanged) == (
        2,
        4,
        0,
        0,
    )
    teams = await teams_by_name(any_db, names=["billing", "RETENTION", "nope"])
    assert sorted(teams) == ["billing", "retention"]
    assert teams["billing"].timezone == "Europe/London"
    assert teams["retention"].timezone == "Europe/Berlin"  # the default zone
    ppl = await people_by_email(any_db, emails=[e.email for e in ENTRIES])
    assert teams["billing"].lead_id == ppl["lee.lead@acme.test"].id
    assert teams["billing"].manager_id == ppl["ana.boss@acme.test"].id
    assert ppl["maria.lopez@acme.test"].manager_id == ppl["lee.lead@acme.test"].id
    assert ppl["tom.night@acme.test"].timezone == "Europe/Berlin"
    assert ppl["tom.night@acme.test"].work_hours == "Mon-Fri 09:00-17:00"
    again = await apply_roster(any_db, entries=ENTRIES, default_timezone="Europe/Berlin")
    assert (again.teams_created, again.people_created, again.people_unchanged) == (0, 0, 4)
    assert len(await people.list_people(any_db)) == 4


async def test_conflicts_roll_everything_back(any_db: Database) -> None:
    team = await make_team(any_db)
    other = await make_person(any_db, "old.hand", team=team)
    await people.set_platform_id(any_db, person_id=other.id or 0, slack_user_id="U0LEE")
    out = await apply_roster(any_db, entries=ENTRIES, default_timezone="UTC")
    assert out.conflicts == [(3, "Slack user id U0LEE already belongs to old.hand@example.com")]
    assert out.people_created == 0
    assert len(await people.list_people(any_db)) == 1
    assert [t.name for t in await people.list_teams(any_db)] == ["Billing"]


async def test_optional_fields_keep_stored_values(any_db: Database) -> None:
    team = await make_team(any_db)
    p = await make_person(
        any_db, "maria.lopez", team=team, tz="Asia/Kolkata", work_hours="Mon-Fri 13:00-21:00"
    )
    await people.set_platform_id(any_db, person_id=p.id or 0, slack_user_id="U0MARIA")
    out = await apply_roster(
        any_db,
        entries=[RosterEntry(2, "maria.lopez@example.com", "Maria Lopez", Role.agent, "Billing")],
        default_timezone="UTC",
    )
    assert out.people_unchanged == 1
    stored = await people.get_person(any_db, person_id=p.id or 0)
    assert stored
    assert (stored.timezone, stored.work_hours, stored.slack_user_id) == (
        "Asia/Kolkata",
        "Mon-Fri 13:00-21:00",
        "U0MARIA",
    )


async def test_a_lead_who_moves_team_leaves_the_old_one(any_db: Database) -> None:
    await apply_roster(any_db, entries=ENTRIES, default_timezone="UTC")
    moved = [*ENTRIES[:1], RosterEntry(3, "lee.lead@acme.test", "Lee Lead", Role.lead, "Retention")]
    out = await apply_roster(any_db, entries=moved, default_timezone="UTC")
    assert out.people_updated == 1
    teams = await teams_by_name(any_db, names=["Billing", "Retention"])
    lee = (await people_by_email(any_db, emails=["lee.lead@acme.test"]))["lee.lead@acme.test"]
    assert teams["billing"].lead_id is None
    assert teams["retention"].lead_id == lee.id
