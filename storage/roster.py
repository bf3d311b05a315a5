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
    existing = await _people_by_email(s, [e.email for e in entries])
    manager_emails = [e.manager_email for e in entries if e.manager_email]
    managers = await _people_by_email(s, manager_emails)
    file_emails = {e.email for e in entries}
    conflicts: list[tuple[int, str]] = []
    for e in entries:
        if e.manager_email and e.manager_email not in file_emails | set(managers):
            conflicts.append(
                (
                    e.line,
                    f"manager_email {e.manager_email} is neither in this file nor on the roster",
                )
            )
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
    if conflicts:
        raise _Conflict(sorted(conflicts))

    # Teams: create the missing ones, in the lead's zone (else the first member's).
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
    await s.flush()

    before: dict[str, tuple[object, ...]] = {}
    people: dict[str, Person] = dict(managers)
    for e in entries:
        home = teams[name_key(e.team)] if e.team else None
        found = existing.get(e.email)
        if found is None:
            p = Person(email=e.email, display_name=e.name, role=e.role)
            p.timezone = home.timezone if home else default_tz
            p.work_hours = DEFAULT_WORK_HOURS
            s.add(p)
        else:
            p = found
            before[e.email] = _snapshot(p)
        p.display_name = e.name
        p.role = e.role
        p.team_id = home.id if home else None
        p.active = True
        if e.timezone:
            p.timezone = e.timezone
        if e.work_hours:
            p.work_hours = e.work_hours
        if e.slack_user_id:
            p.slack_user_id = e.slack_user_id
        if e.teams_user_id:
            p.teams_user_id = e.teams_user_id
        people[e.email] = p
    await s.flush()

    for e in entries:
        p = people[e.email]
        if e.manager_email:
            p.manager_id = people[e.manager_email].id
    # Leads and managers of teams, from roles and from manager emails.
    in_file = {people[e.email].id: people[e.email] for e in entries}
    for t in (await s.execute(select(Team))).scalars():
        lead = in_file.get(t.lead_id)
        if lead is not None and (lead.role is not Role.lead or lead.team_id != t.id):
            t.lead_id = None
        boss = in_file.get(t.manager_id)
        if boss is not None and boss.role is not Role.manager:
            t.manager_id = None
    for e in entries:
        p = people[e.email]
        if not e.team:
            continue
        own = teams[name_key(e.team)]
        if e.role is Role.lead:
            own.lead_id = p.id
        elif e.role is Role.manager:
            own.manager_id = p.id
        if e.manager_email:
            boss = people[e.manager_email]
            if boss.role is Role.manager:
                own.manager_id = boss.id
    await s.flush()

    for e in entries:
        p = people[e.email]
        if e.email not in before:
            out.people_created += 1
        elif before[e.email] != _snapshot(p):
            out.people_updated += 1
        else:
            out.people_unchanged += 1
