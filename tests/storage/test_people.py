"""People and teams queries, on SQLite and PostgreSQL."""

from __future__ import annotations

from domain.roles import Role
from storage import people
from storage.db import Database
from tests.conftest import make_person, make_team


async def test_upsert_person_creates_then_updates(any_db: Database) -> None:
    team = await make_team(any_db)
    p = await people.upsert_person(
        any_db,
        email=" Maria.Lopez@Example.com ",
        display_name="Maria",
        role=Role.agent,
        team_id=team.id,
    )
    assert p.email == "maria.lopez@example.com"
    again = await people.upsert_person(
        any_db,
        email="maria.lopez@example.com",
        display_name="Maria Lopez",
        role=Role.agent,
        team_id=team.id,
        timezone="Europe/Madrid",
        work_hours="Mon-Thu 07:00-17:30",
    )
    assert again.id == p.id
    stored = await people.get_person(any_db, person_id=p.id or 0)
    assert stored is not None
    assert (stored.display_name, stored.timezone, stored.work_hours) == (
        "Maria Lopez",
        "Europe/Madrid",
        "Mon-Thu 07:00-17:30",
    )
    assert len(await people.list_people(any_db)) == 1


async def test_a_lead_or_manager_becomes_the_teams_own(any_db: Database) -> None:
    team = await make_team(any_db)
    lead = await make_person(any_db, "sam.carter", role=Role.lead, team=team)
    boss = await make_person(any_db, "alex.morgan", role=Role.manager, team=team)
    stored = await people.get_team(any_db, team_id=team.id or 0)
    assert stored
    assert stored.lead_id == lead.id
    assert stored.manager_id == boss.id
    assert [t.id for t in await people.teams_managed_by(any_db, person_id=boss.id or 0)] == [
        team.id
    ]


async def test_find_by_handle(any_db: Database) -> None:
    team = await make_team(any_db)
    maria = await make_person(any_db, "maria.lopez", team=team)
    await make_person(any_db, "maria.garcia", team=team)
    tom = await make_person(any_db, "tom.night", team=team)
    assert [p.id for p in await people.find_by_handle(any_db, handle="@maria.lopez")] == [maria.id]
    assert [p.id for p in await people.find_by_handle(any_db, handle="Maria Lopez")] == [maria.id]
    assert [p.id for p in await people.find_by_handle(any_db, handle="tom")] == [tom.id]
    assert len(await people.find_by_handle(any_db, handle="maria")) == 2  # ambiguous
    assert await people.find_by_handle(any_db, handle="nobody") == []
    assert await people.find_by_handle(any_db, handle="@") == []


async def test_lookups_by_email_and_platform_ids(any_db: Database) -> None:
    p = await make_person(any_db, "maria.lopez")
    assert p.id is not None
    await people.set_platform_id(any_db, person_id=p.id, slack_user_id="U01", teams_user_id="29:x")
    assert (await people.get_by_slack_id(any_db, slack_user_id="U01")).id == p.id  # type: ignore[union-attr]
    assert (await people.get_by_teams_id(any_db, teams_user_id="29:x")).id == p.id  # type: ignore[union-attr]
    assert (await people.get_by_email(any_db, email="MARIA.LOPEZ@example.com")) is not None
    assert await people.get_by_email(any_db, email="x@example.com") is None
    got = await people.get_people(any_db, person_ids=[p.id, 999])
    assert list(got) == [p.id]
    assert await people.get_people(any_db, person_ids=[]) == {}


async def test_team_names_are_case_and_space_insensitive(any_db: Database) -> None:
    team = await people.create_team(any_db, name="  Tech   Support ", timezone="America/New_York")
    assert team.name == "Tech Support"
    found = await people.get_team_by_name(any_db, name="tech support")
    assert found is not None
    assert found.id == team.id
    await people.update_team(
        any_db, team_id=team.id or 0, slack_channel_id="C01", post_time="08:30"
    )
    by_channel = await people.get_team_by_slack_channel(any_db, channel_id="C01")
    assert by_channel is not None
    assert by_channel.post_time == "08:30"
    assert await people.update_team(any_db, team_id=999) is None


async def test_assign_member_moves_a_lead_and_keeps_a_managers_home(any_db: Database) -> None:
    billing = await make_team(any_db, "Billing")
    retention = await make_team(any_db, "Retention", "Europe/Berlin")
    lead = await make_person(any_db, "sam.carter", role=Role.lead, team=billing)
    await people.assign_member(
        any_db, person_id=lead.id or 0, team_id=retention.id or 0, role=Role.lead
    )
    b = await people.get_team(any_db, team_id=billing.id or 0)
    r = await people.get_team(any_db, team_id=retention.id or 0)
    assert b
    assert r
    assert b.lead_id is None
    assert r.lead_id == lead.id
    boss = await make_person(any_db, "alex.morgan", role=Role.manager, team=billing)
    moved = await people.assign_member(
        any_db, person_id=boss.id or 0, team_id=retention.id or 0, role=Role.manager
    )
    assert moved.team_id == billing.id
    ids = {t.id for t in await people.teams_managed_by(any_db, person_id=boss.id or 0)}
    assert ids == {billing.id, retention.id}
    assert [p.display_name for p in await people.list_people(any_db, team_id=billing.id)] == [
        "Alex Morgan"
    ]
