"""The roster import: teams, people, leads and managers written in one transaction.

`check_roster` finds what the stored roster makes wrong with a file (a platform id that
belongs to someone else, a manager nobody has) without writing; `apply_roster` checks
the same inside its transaction, then writes everything, settles the teams' leads and
managers (storage/handover.py: a replaced lead's work goes to the new one) and, with
`deactivate_missing`, switches off the active people the file leaves out. A dry run is
the same transaction rolled back: what it reports is exactly what the import would do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from domain.roles import Role
from storage.db import Database
from storage.handover import Brief, Settled, brief, settle, snapshot
from storage.models import Person, Team, utcnow
from storage.outbox import OutboxNew, enqueue_in
from storage.people import deactivate_in, name_key

DEFAULT_WORK_HOURS = "Mon-Fri 09:00-17:00"
PLATFORM_IDS = (("slack_user_id", "Slack user id"), ("teams_user_id", "Teams user id"))


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


@dataclass(frozen=True)
class Moved:
    email: str
    name: str
    before: str | None  # team names
    after: str | None


@dataclass
class RosterOutcome:
    teams_created: int = 0
    people_created: int = 0
    people_updated: int = 0  # moved and reactivated people included
    people_unchanged: int = 0
    conflicts: list[tuple[int, str]] = field(default_factory=list)  # (line, message)
    created: list[str] = field(default_factory=list)  # "Name <email>"
    moved: list[Moved] = field(default_factory=list)
    reactivated: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)  # not in the file
    kept_admins: list[str] = field(default_factory=list)  # not in the file, left on
    new_teams: list[str] = field(default_factory=list)
    teams: Brief = field(default_factory=Brief)  # leads that changed, work handed or waiting
    dry_run: bool = False


class _Conflict(Exception):
    """Raised inside the transaction so that nothing is written."""

    def __init__(self, conflicts: list[tuple[int, str]]) -> None:
        super().__init__(f"{len(conflicts)} conflicts")
        self.conflicts = conflicts


class _DryRun(Exception):
    """Raised at the end of a dry run's transaction: everything it did is rolled back."""


MessagesFor = Callable[[Settled], Sequence[OutboxNew]]


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


async def _people_by_email(s: AsyncSession, emails: Collection[str]) -> dict[str, Person]:
    wanted = sorted({e.strip().lower() for e in emails if e})
    out: dict[str, Person] = {}
    for i in range(0, len(wanted), 500):
        rows = await s.execute(select(Person).where(col(Person.email).in_(wanted[i : i + 500])))
        out.update({p.email: p for p in rows.scalars()})
    return out


async def teams_by_name(db: Database, *, names: Sequence[str]) -> dict[str, Team]:
    """Teams by name key (see storage.people.name_key); archived teams are not found."""
    async with db.session() as s:
        return await _teams_by_name(s, names)


async def _teams_by_name(s: AsyncSession, names: Sequence[str]) -> dict[str, Team]:
    keys = sorted({name_key(n) for n in names if n})
    if not keys:
        return {}
    rows = await s.execute(select(Team).where(col(Team.name_key).in_(keys)))
    return {t.name_key: t for t in rows.scalars()}


async def check_roster(
    db: Database, *, entries: Sequence[RosterEntry], file_emails: Collection[str]
) -> list[tuple[int, str]]:
    """What the stored roster makes wrong with these rows, without writing anything.

    `file_emails` is every email of the file, its refused rows' included, so that a
    manager on a refused row is not reported as unknown as well.
    """
    async with db.session() as s:
        return await _conflicts(s, entries, file_emails)


async def _conflicts(
    s: AsyncSession, entries: Sequence[RosterEntry], file_emails: Collection[str]
) -> list[tuple[int, str]]:
    managers = await _people_by_email(s, [e.manager_email for e in entries if e.manager_email])
    known = set(file_emails) | {e.email for e in entries} | set(managers)
    conflicts = [
        (e.line, f"manager_email {e.manager_email} is neither in this file nor on the roster")
        for e in entries
        if e.manager_email and e.manager_email not in known
    ]
    return sorted(conflicts + await _taken_platform_ids(s, entries))


async def _taken_platform_ids(
    s: AsyncSession, entries: Sequence[RosterEntry]
) -> list[tuple[int, str]]:
    """Slack or Teams ids of the file that someone stored keeps after the import: someone
    not in the file, or in it with that column empty (an empty column keeps what is
    stored)."""
    by_email = {e.email: e for e in entries}
    conflicts: list[tuple[int, str]] = []
    for attr, label in PLATFORM_IDS:
        claims = {getattr(e, attr): e for e in entries if getattr(e, attr)}
        if not claims:
            continue
        rows = await s.execute(select(Person).where(col(getattr(Person, attr)).in_(list(claims))))
        for p in rows.scalars():
            value = getattr(p, attr)
            e = claims[value]
            if p.email == e.email:
                continue
            holder = by_email.get(p.email)
            if holder is None:
                conflicts.append((e.line, f"{label} {value} already belongs to {p.email}"))
            elif not getattr(holder, attr):
                conflicts.append(
                    (
                        e.line,
                        f"{label} {value} already belongs to {p.email}, and line "
                        f"{holder.line} leaves their {attr} empty, which keeps it",
                    )
                )
    return conflicts


async def apply_roster(
    db: Database,
    *,
    entries: Sequence[RosterEntry],
    default_timezone: str,
    now: dt.datetime | None = None,
    dry_run: bool = False,
    deactivate_missing: bool = False,
    actor_id: int | None = None,
    messages: MessagesFor | None = None,
) -> RosterOutcome:
    """Create or update every person and team of `entries` in one transaction.

    Conflicts found against the stored roster are returned and nothing is written; a dry
    run reports what would change and writes nothing either.
    """
    outcome = RosterOutcome(dry_run=dry_run)
    when = now or utcnow()
    try:
        async with db.session() as s:
            before = await snapshot(s)
            touched = await _apply(s, entries, default_timezone, outcome, when)
            if deactivate_missing:
                touched |= await _deactivate_missing(s, entries, outcome, when)
            settled = await settle(s, before, touched=touched, now=when, actor_id=actor_id)
            outcome.teams = brief(settled)
            if dry_run:
                raise _DryRun
            if messages is not None:
                await enqueue_in(s, messages(settled))
    except _Conflict as exc:
        return RosterOutcome(conflicts=exc.conflicts, dry_run=dry_run)
    except _DryRun:
        pass
    return outcome


async def _apply(
    s: AsyncSession,
    entries: Sequence[RosterEntry],
    default_tz: str,
    out: RosterOutcome,
    now: dt.datetime,
) -> set[int]:
    # Check everything first (nothing is written on a conflict), then teams, people,
    # managers and team roles, each step flushed so the next one sees the new ids.
    conflicts = await _conflicts(s, entries, ())
    if conflicts:
        raise _Conflict(conflicts)
    existing = await _people_by_email(s, [e.email for e in entries])
    managers = await _people_by_email(s, [e.manager_email for e in entries if e.manager_email])
    teams = await _create_teams(s, entries, default_tz, out)
    await s.flush()
    await _release_platform_ids(s, entries)
    before: dict[str, tuple[object, ...]] = {}
    people = dict(managers)
    names = {t.id: t.name for t in teams.values()}
    old_teams = {p.team_id for p in existing.values() if p.team_id is not None}
    for e in entries:
        found = existing.get(e.email)
        if found is not None:
            before[e.email] = _snapshot(found)
        home = teams[name_key(e.team)] if e.team else None
        people[e.email] = _write_person(s, e, found, home, default_tz, now)
    await s.flush()
    for e in entries:
        if e.manager_email:
            people[e.email].manager_id = people[e.manager_email].id
    _set_team_roles(entries, people, teams)
    await s.flush()
    names.update(await _team_names(s, old_teams - set(names)))
    _count(entries, people, before, names, out)
    return {t.id for t in teams.values() if t.id is not None} | old_teams


async def _team_names(s: AsyncSession, ids: Collection[int | None]) -> dict[int | None, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    rows = await s.execute(select(Team).where(col(Team.id).in_(wanted)))
    return {t.id: t.name for t in rows.scalars()}


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
            out.new_teams.append(team.name)
    return teams


async def _release_platform_ids(s: AsyncSession, entries: Sequence[RosterEntry]) -> None:
    """Clear the ids that move from one person of the file to another before any is set:
    a unique column must never hold one id twice, not even between two updates."""
    for attr, _label in PLATFORM_IDS:
        claims = {getattr(e, attr): e.email for e in entries if getattr(e, attr)}
        if not claims:
            continue
        rows = await s.execute(select(Person).where(col(getattr(Person, attr)).in_(list(claims))))
        moving = [p for p in rows.scalars() if claims[getattr(p, attr)] != p.email]
        for p in moving:
            setattr(p, attr, None)
        if moving:
            await s.flush()


def _write_person(
    s: AsyncSession,
    e: RosterEntry,
    found: Person | None,
    home: Team | None,
    default_tz: str,
    now: dt.datetime,
) -> Person:
    """The stored person updated from `e`, or a new one (added to the session)."""
    if found is None:
        p = Person(email=e.email, display_name=e.name, role=e.role, created_at=now)
        p.timezone = home.timezone if home else default_tz
        p.work_hours = DEFAULT_WORK_HOURS
        s.add(p)
    else:
        p = found
    p.display_name = e.name
    p.role = e.role
    p.team_id = home.id if home else None
    p.active = True
    p.deactivated_at = None
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


async def _deactivate_missing(
    s: AsyncSession, entries: Sequence[RosterEntry], out: RosterOutcome, now: dt.datetime
) -> set[int]:
    """Switch off the active people the file leaves out; admins stay (an HR export seldom
    lists the people who run leadbot, and an import must not lock them out)."""
    in_file = {e.email for e in entries}
    rows = await s.execute(select(Person).where(col(Person.active)).order_by(Person.display_name))
    touched: set[int] = set()
    for p in rows.scalars():
        if p.email in in_file:
            continue
        if p.role is Role.admin:
            out.kept_admins.append(f"{p.display_name} <{p.email}>")
            continue
        await deactivate_in(s, p, now=now)
        out.deactivated.append(f"{p.display_name} <{p.email}>")
        if p.team_id is not None:
            touched.add(p.team_id)
    return touched


def _count(
    entries: Sequence[RosterEntry],
    people: dict[str, Person],
    before: dict[str, tuple[object, ...]],
    names: dict[int | None, str],
    out: RosterOutcome,
) -> None:
    for e in entries:
        p = people[e.email]
        was = before.get(e.email)
        if was is None:
            out.people_created += 1
            out.created.append(f"{p.display_name} <{p.email}>")
            continue
        if was == _snapshot(p):
            out.people_unchanged += 1
            continue
        out.people_updated += 1
        if was[2] != p.team_id:
            old = was[2]
            out.moved.append(
                Moved(
                    p.email,
                    p.display_name,
                    names.get(old) if isinstance(old, int) else None,
                    names.get(p.team_id),
                )
            )
        if was[8] is False:
            out.reactivated.append(f"{p.display_name} <{p.email}>")
