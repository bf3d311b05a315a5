"""The roster import: teams, people, leads and managers written in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from domain.roles import Role
from storage.db import Database
from storage.models import Person, Team
from storage.people import name_key

DEFAULT_WORK_HOURS = "Mon-Fri 09:00-17:00"


@dataclass(frozen=True)
class RosterEntry:
    """One validated roster row (`line` is its line in the file, for messages)."""

    line: int
    email: str
    name: str
    role: Role
    team: str | None = None
    timezone: str | None = None
    work_hours: str | None = None
    manager_email: str | None = None
    slack_user_id: str | None = None
    teams_user_id: str | None = None


@dataclass
class RosterOutcome:
    teams_created: int = 0
    people_created: int = 0
    people_updated: int = 0
    people_unchanged: int = 0
    conflicts: list[tuple[int, str]] = field(default_factory=list)  # (line, message)


class _Conflict(Exception):
    """Raised inside the transaction so that nothing is written."""

    def __init__(self, conflicts: list[tuple[int, str]]) -> None:
        super().__init__(f"{len(conflicts)} conflicts")
        self.conflicts = conflicts


def _snapshot(p: Person) -> tuple[object, ...]:
    return (
        p.display_name,
        p.role,
        p.team_id,
        p.timezone,
        p.work_hours,
        p.slack_user_id,
        p.teams_user_id,
        p.manager_id,
        p.active,
    )


async def people_by_email(db: Database, *, emails: Sequence[str]) -> dict[str, Person]:
    """People with these (lower-cased) emails."""
    async with db.session() as s:
        return await _people_by_email(s, emails)


async def _people_by_email(s: AsyncSession, emails: Sequence[str]) -> dict[str, Person]:
    wanted = sorted({e.strip().lower() for e in emails if e})
    out: dict[str, Person] = {}
    for i in range(0, len(wanted), 500):
        rows = await s.execute(select(Person).where(col(Person.email).in_(wanted[i : i + 500])))
        out.update({p.email: p for p in rows.scalars()})
    return out


async def teams_by_name(db: Database, *, names: Sequence[str]) -> dict[str, Team]:
    """Teams by name key (see storage.people.name_key)."""
    async with db.session() as s:
        return await _teams_by_name(s, names)


async def _teams_by_name(s: AsyncSession, names: Sequence[str]) -> dict[str, Team]:
    keys = sorted({name_key(n) for n in names if n})
    if not keys:
        return {}
    rows = await s.execute(select(Team).where(col(Team.name_key).in_(keys)))
    return {t.name_key: t for t in rows.scalars()}


async def apply_roster(
    db: Database, *, entries: Sequence[RosterEntry], default_timezone: str
) -> RosterOutcome:
    """Create or update every person and team of `entries` in one transaction.

    Conflicts found against the stored roster (a Slack id that belongs to someone else, a
    manager email nobody has) are returned and nothing is written.
    """
    outcome = RosterOutcome()
    try:
        async with db.session() as s:
            await _apply(s, entries, default_timezone, outcome)
    except _Conflict as exc:
        return RosterOutcome(conflicts=exc.conflicts)
    return outcome


async def _apply(
    s: AsyncSession, entries: Sequence[RosterEntry], default_tz: str, out: RosterOutcome
) -> None:
    # Check everything first (nothing is written on a conflict), then teams, people,
    # managers and team roles, each step flushed so the next one sees the new ids.
    existing = await _people_by_email(s, [e.email for e in entries])
    managers = await _people_by_email(s, [e.manager_email for e in entries if e.manager_email])
    conflicts = _unknown_managers(entries, managers) + await _taken_platform_ids(s, entries)
    if conflicts:
        raise _Conflict(sorted(conflicts))
    teams = await _create_teams(s, entries, default_tz, out)
    await s.flush()
    before: dict[str, tuple[object, ...]] = {}
    people = dict(managers)
    for e in entries:
        found = existing.get(e.email)
        if found is not None:
            before[e.email] = _snapshot(found)
        home = teams[name_key(e.team)] if e.team else None
        people[e.email] = _write_person(s, e, found, home, default_tz)
    await s.flush()
    for e in entries:
        if e.manager_email:
            people[e.email].manager_id = people[e.manager_email].id
    await _drop_stale_team_roles(s, {people[e.email].id: people[e.email] for e in entries})
    _set_team_roles(entries, people, teams)
    await s.flush()
    _count(entries, people, before, out)


def _unknown_managers(
    entries: Sequence[RosterEntry], managers: dict[str, Person]
) -> list[tuple[int, str]]:
    known = {e.email for e in entries} | set(managers)
    return [
        (e.line, f"manager_email {e.manager_email} is neither in this file nor on the roster")
        for e in entries
        if e.manager_email and e.manager_email not in known
    ]


async def _taken_platform_ids(
    s: AsyncSession, entries: Sequence[RosterEntry]
) -> list[tuple[int, str]]:
    """Slack or Teams ids of the file that belong to someone stored who is not in it."""
    file_emails = {e.email for e in entries}
    conflicts: list[tuple[int, str]] = []
    for attr, label in (("slack_user_id", "Slack user id"), ("teams_user_id", "Teams user id")):
        ids = {getattr(e, attr): e for e in entries if getattr(e, attr)}
        if not ids:
            continue
        column = getattr(Person, attr)
        rows = await s.execute(select(Person).where(col(column).in_(list(ids))))
        for p in rows.scalars():
            e = ids[getattr(p, attr)]
            if p.email != e.email and p.email not in file_emails:
                conflicts.append(
                    (e.line, f"{label} {getattr(p, attr)} already belongs to {p.email}")
                )
    return conflicts


async def _create_teams(
    s: AsyncSession, entries: Sequence[RosterEntry], default_tz: str, out: RosterOutcome
) -> dict[str, Team]:
    """Every team of the file by name key; the missing ones are created in the lead's
    zone (else the first member's)."""
    teams = await _teams_by_name(s, [e.team for e in entries if e.team])
    for e in sorted(entries, key=lambda x: (x.role is not Role.lead, x.line)):
        if e.team and name_key(e.team) not in teams:
            team = Team(
                name=" ".join(e.team.split()),
                name_key=name_key(e.team),
                timezone=e.timezone or default_tz,
            )
            s.add(team)
            teams[team.name_key] = team
            out.teams_created += 1
    return teams


def _write_person(
    s: AsyncSession, e: RosterEntry, found: Person | None, home: Team | None, default_tz: str
) -> Person:
    """The stored person updated from `e`, or a new one (added to the session)."""
    if found is None:
        p = Person(email=e.email, display_name=e.name, role=e.role)
        p.timezone = home.timezone if home else default_tz
        p.work_hours = DEFAULT_WORK_HOURS
        s.add(p)
    else:
        p = found
    p.display_name = e.name
    p.role = e.role
    p.team_id = home.id if home else None
    p.active = True
    # An empty optional column keeps what is stored.
    if e.timezone:
        p.timezone = e.timezone
    if e.work_hours:
        p.work_hours = e.work_hours
    if e.slack_user_id:
        p.slack_user_id = e.slack_user_id
    if e.teams_user_id:
        p.teams_user_id = e.teams_user_id
    return p


async def _drop_stale_team_roles(s: AsyncSession, in_file: dict[int | None, Person]) -> None:
    """A team's lead or manager from the file who no longer is one stops being it."""
    for t in (await s.execute(select(Team))).scalars():
        lead = in_file.get(t.lead_id)
        if lead is not None and (lead.role is not Role.lead or lead.team_id != t.id):
            t.lead_id = None
        boss = in_file.get(t.manager_id)
        if boss is not None and boss.role is not Role.manager:
            t.manager_id = None


def _set_team_roles(
    entries: Sequence[RosterEntry], people: dict[str, Person], teams: dict[str, Team]
) -> None:
    """Leads and managers of teams, from roles and from manager emails."""
    for e in entries:
        if not e.team:
            continue
        p = people[e.email]
        own = teams[name_key(e.team)]
        if e.role is Role.lead:
            own.lead_id = p.id
        elif e.role is Role.manager:
            own.manager_id = p.id
        if e.manager_email:
            boss = people[e.manager_email]
            if boss.role is Role.manager:
                own.manager_id = boss.id


def _count(
    entries: Sequence[RosterEntry],
    people: dict[str, Person],
    before: dict[str, tuple[object, ...]],
    out: RosterOutcome,
) -> None:
    for e in entries:
        if e.email not in before:
            out.people_created += 1
        elif before[e.email] != _snapshot(people[e.email]):
            out.people_updated += 1
        else:
            out.people_unchanged += 1
