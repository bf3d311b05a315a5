"""Queries about people and teams. Keyword-only arguments; each call is one transaction."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlmodel import col, select

from domain.roles import Role
from storage.db import Database
from storage.models import Person, Team


def name_key(name: str) -> str:
    """How team names are compared: case-insensitive, single spaces."""
    return " ".join(name.split()).lower()


async def get_person(db: Database, *, person_id: int) -> Person | None:
    async with db.session() as s:
        return await s.get(Person, person_id)


async def get_people(db: Database, *, person_ids: Sequence[int]) -> dict[int, Person]:
    """People by id (missing ids are left out)."""
    if not person_ids:
        return {}
    async with db.session() as s:
        rows = await s.execute(select(Person).where(col(Person.id).in_(set(person_ids))))
        return {p.id: p for p in rows.scalars() if p.id is not None}


async def get_by_email(db: Database, *, email: str) -> Person | None:
    async with db.session() as s:
        rows = await s.execute(select(Person).where(Person.email == email.strip().lower()))
        return rows.scalars().first()


async def get_by_slack_id(db: Database, *, slack_user_id: str) -> Person | None:
    async with db.session() as s:
        rows = await s.execute(select(Person).where(Person.slack_user_id == slack_user_id))
        return rows.scalars().first()


async def get_by_teams_id(db: Database, *, teams_user_id: str) -> Person | None:
    async with db.session() as s:
        rows = await s.execute(select(Person).where(Person.teams_user_id == teams_user_id))
        return rows.scalars().first()


async def find_by_handle(db: Database, *, handle: str) -> list[Person]:
    """People matching a handle: the email's local part, else a display name.

    `maria.lopez` matches maria.lopez@...; `Maria Lopez` or `maria` match display names
    (the caller treats more than one match as ambiguous).
    """
    h = handle.strip().lstrip("@").lower()
    if not h:
        return []
    async with db.session() as s:
        by_local = await s.execute(
            select(Person).where(col(Person.email).like(f"{h}@%"), col(Person.active))
        )
        found = list(by_local.scalars())
        if found:
            return found
        by_name = await s.execute(
            select(Person).where(sa.func.lower(Person.display_name) == h, col(Person.active))
        )
        found = list(by_name.scalars())
        if found:
            return found
        spaced = h.replace(".", " ").replace("_", " ")
        first = await s.execute(
            select(Person).where(
                sa.or_(
                    sa.func.lower(Person.display_name) == spaced,
                    sa.func.lower(Person.display_name).like(f"{spaced} %"),
                ),
                col(Person.active),
            )
        )
        return list(first.scalars())


async def list_people(db: Database, *, team_id: int | None = None) -> list[Person]:
    """Active people, optionally of one team, by name."""
    async with db.session() as s:
        q = select(Person).where(col(Person.active))
        if team_id is not None:
            q = q.where(Person.team_id == team_id)
        rows = await s.execute(q.order_by(Person.display_name))
        return list(rows.scalars())


async def set_platform_id(
    db: Database,
    *,
    person_id: int,
    slack_user_id: str | None = None,
    teams_user_id: str | None = None,
    teams_conversation_ref: str | None = None,
) -> None:
    """Remember a person's Slack/Teams identity (found by email on first contact)."""
    async with db.session() as s:
        p = await s.get(Person, person_id)
        if p is None:
            return
        if slack_user_id is not None:
            p.slack_user_id = slack_user_id
        if teams_user_id is not None:
            p.teams_user_id = teams_user_id
        if teams_conversation_ref is not None:
            p.teams_conversation_ref = teams_conversation_ref


async def upsert_person(
    db: Database,
    *,
    email: str,
    display_name: str,
    role: Role,
    team_id: int | None,
    timezone: str | None = None,
    work_hours: str | None = None,
) -> Person:
    """Create a person, or update the one with that email."""
    async with db.session() as s:
        rows = await s.execute(select(Person).where(Person.email == email.strip().lower()))
        p = rows.scalars().first()
        if p is None:
            p = Person(email=email.strip().lower(), display_name=display_name, role=role)
            s.add(p)
        p.display_name = display_name
        p.role = role
        p.team_id = team_id
        p.active = True
        if timezone:
            p.timezone = timezone
        if work_hours:
            p.work_hours = work_hours
        await s.flush()
        if team_id is not None and role in (Role.lead, Role.manager):
            team = await s.get(Team, team_id)
            if team is not None and role is Role.lead:
                team.lead_id = p.id
            elif team is not None:
                team.manager_id = p.id
        return p


# --- teams ---------------------------------------------------------------------------


async def get_team(db: Database, *, team_id: int) -> Team | None:
    async with db.session() as s:
        return await s.get(Team, team_id)


async def get_team_by_name(db: Database, *, name: str) -> Team | None:
    async with db.session() as s:
        rows = await s.execute(select(Team).where(Team.name_key == name_key(name)))
        return rows.scalars().first()


async def get_team_by_slack_channel(db: Database, *, channel_id: str) -> Team | None:
    async with db.session() as s:
        rows = await s.execute(select(Team).where(Team.slack_channel_id == channel_id))
        return rows.scalars().first()


async def list_teams(db: Database) -> list[Team]:
    async with db.session() as s:
        rows = await s.execute(select(Team).order_by(Team.name))
        return list(rows.scalars())


async def teams_managed_by(db: Database, *, person_id: int) -> list[Team]:
    """Teams whose manager is this person."""
    async with db.session() as s:
        rows = await s.execute(select(Team).where(Team.manager_id == person_id).order_by(Team.name))
        return list(rows.scalars())


async def create_team(db: Database, *, name: str, timezone: str) -> Team:
    """A new team; the caller checked the name is free."""
    async with db.session() as s:
        team = Team(name=" ".join(name.split()), name_key=name_key(name), timezone=timezone)
        s.add(team)
        await s.flush()
        return team


async def update_team(
    db: Database,
    *,
    team_id: int,
    timezone: str | None = None,
    slack_channel_id: str | None = None,
    teams_channel_ref: str | None = None,
    post_time: str | None = None,
    work_days: str | None = None,
) -> Team | None:
    """Change a team's settings; only the arguments given change."""
    async with db.session() as s:
        team = await s.get(Team, team_id)
        if team is None:
            return None
        if timezone is not None:
            team.timezone = timezone
        if slack_channel_id is not None:
            team.slack_channel_id = slack_channel_id
        if teams_channel_ref is not None:
            team.teams_channel_ref = teams_channel_ref
        if post_time is not None:
            team.post_time = post_time
        if work_days is not None:
            team.work_days = work_days
        return team


async def assign_member(db: Database, *, person_id: int, team_id: int, role: Role) -> Person:
    """Put a person in a team with a role; a lead or manager becomes the team's own.

    A manager keeps their home team and is recorded as the manager of this one.
    """
    async with db.session() as s:
        p = await s.get(Person, person_id)
        team = await s.get(Team, team_id)
        assert p is not None
        assert team is not None
        p.role = role
        if role is Role.manager:
            team.manager_id = p.id
            if p.team_id is None:
                p.team_id = team_id
        else:
            p.team_id = team_id
            if role is Role.lead:
                team.lead_id = p.id
            for t in (await s.execute(select(Team).where(Team.lead_id == p.id))).scalars():
                if t.id != team_id:
                    t.lead_id = None
        return p
