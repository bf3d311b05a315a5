"""Queries about people and teams, and the admin changes to them. Keyword-only
arguments; each call is one transaction.

An admin change (add, switch off or on, move, role, a team's lead or manager, archive)
runs with storage/handover.py's `settle` in the same transaction, so a team that loses
its lead, and the hand-over of that lead's work, are never out of step with the change;
the messages the change causes are enqueued in that transaction too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from domain.items import ActionStatus
from domain.roles import Role
from storage.db import Database
from storage.handover import Settled, settle, snapshot
from storage.models import ActionItem, OutboxMessage, Person, PulseSchedule, Team, utcnow
from storage.outbox import (
    UNREACHABLE,
    OutboxNew,
    enqueue_in,
    reroute_person_in,
    reroute_slack_in,
)


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


async def list_people(
    db: Database, *, team_id: int | None = None, include_inactive: bool = False
) -> list[Person]:
    """Active people (or everyone), optionally of one team, by name."""
    async with db.session() as s:
        q = select(Person)
        if not include_inactive:
            q = q.where(col(Person.active))
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
    """Remember a person's Slack/Teams identity (found by email on first contact); their
    waiting messages go out to it."""
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
        if slack_user_id is not None or teams_user_id is not None:
            p.unreachable_reason = None
            await s.flush()
            await reroute_person_in(s, p)


async def link_slack_user(db: Database, *, person_id: int, slack_user_id: str) -> Person | None:
    """Map a person to a Slack user (found by email): the id moves off anyone who had it
    (an email match wins over an older link), and the waiting messages of both go where
    they are reached now."""
    async with db.session() as s:
        p = await s.get(Person, person_id)
        if p is None:
            return None
        if p.slack_user_id != slack_user_id:
            others = list(
                (
                    await s.execute(
                        select(Person).where(
                            col(Person.slack_user_id) == slack_user_id, col(Person.id) != p.id
                        )
                    )
                ).scalars()
            )
            for other in others:
                other.slack_user_id = None
            await s.flush()
            p.slack_user_id = slack_user_id
            p.unreachable_reason = None
            await s.flush()
            for other in others:
                await reroute_person_in(s, other)
        elif p.unreachable_reason is not None:
            p.unreachable_reason = None
            await s.flush()
        await reroute_person_in(s, p)
        return p


async def set_unreachable(db: Database, *, person_id: int, reason: str | None) -> None:
    """Record why the platform can't reach a person (None: they can be reached)."""
    async with db.session() as s:
        p = await s.get(Person, person_id)
        if p is not None and p.unreachable_reason != reason:
            p.unreachable_reason = reason[:200] if reason else None


@dataclass(frozen=True)
class SlackUser:
    """One user of a Slack workspace, as users.list shows them."""

    id: str
    email: str | None  # lower-cased; None when hidden (no users:read.email) or a bot
    usable: bool  # a person who can get a DM: not deleted, not a bot, not Slackbot


@dataclass
class DirectorySync:
    """What mapping a workspace's users onto the roster by email changed."""

    mapped: list[Person] = field(default_factory=list)  # newly mapped (or moved to them)
    unchanged: int = 0
    not_found: list[Person] = field(default_factory=list)  # no usable Slack user
    email_differs: list[tuple[Person, str]] = field(default_factory=list)  # kept link
    requeued: int = 0  # waiting messages now due


NOT_IN_SLACK = "no Slack user has this email"
SLACK_DEACTIVATED = "their Slack account is deactivated"


def _not_matched(
    p: Person, by_id: dict[str, SlackUser], roster_emails: set[str], out: DirectorySync
) -> bool:
    """A person no Slack user has the email of; True when their link was dropped."""
    known = by_id.get(p.slack_user_id) if p.slack_user_id else None
    if known is not None and known.usable:
        if known.email and known.email not in roster_emails:
            out.email_differs.append((p, known.email))
        out.unchanged += 1
        return False
    dropped = False
    if p.slack_user_id:  # a deactivated (or vanished) Slack user
        p.slack_user_id = None
        p.unreachable_reason = SLACK_DEACTIVATED
        dropped = True
    elif not p.teams_user_id:
        p.unreachable_reason = NOT_IN_SLACK
    if not p.teams_user_id:
        out.not_found.append(p)
    return dropped


async def apply_slack_directory(db: Database, *, users: Sequence[SlackUser]) -> DirectorySync:
    """Map every active person to the Slack user with their email, in one transaction.

    - A roster email that a usable Slack user has: that user (the id moves off anyone
      who had it).
    - No Slack user with the person's email, but their stored id is a usable user whose
      Slack email is on nobody's roster row: the link is kept (ids are stable, emails
      change) and reported, so the admin can correct the roster.
    - Otherwise (no such user, or the stored one is deactivated): not mapped; their
      messages wait and the reason is recorded (`leadbot people list unreachable`).
    Waiting messages of everyone mapped go out."""
    by_email = {u.email: u for u in users if u.usable and u.email}
    by_id = {u.id: u for u in users}
    out = DirectorySync()
    async with db.session() as s:
        everyone = list((await s.execute(select(Person))).scalars())
        roster_emails = {p.email for p in everyone}
        active = [p for p in everyone if p.active]
        wanted = {p.id: by_email[p.email].id for p in active if p.email in by_email}
        taken = set(wanted.values())
        changed: list[Person] = []
        # Ids that now belong to someone else are freed first (unique column).
        for p in everyone:
            if p.slack_user_id and p.slack_user_id in taken and wanted.get(p.id) != p.slack_user_id:
                p.slack_user_id = None
                changed.append(p)
        await s.flush()
        for p in active:
            target = wanted.get(p.id)
            if target is not None:
                if p.slack_user_id == target and p.unreachable_reason is None:
                    out.unchanged += 1
                    continue
                p.slack_user_id = target
                p.unreachable_reason = None
                out.mapped.append(p)
                changed.append(p)
                continue
            if _not_matched(p, by_id, roster_emails, out):
                changed.append(p)
        await s.flush()
        # Only people with messages waiting need them re-targeted (most have none).
        waiting = set(
            (
                await s.execute(
                    sa.select(col(OutboxMessage.recipient_person_id))
                    .where(
                        col(OutboxMessage.status) == "pending",
                        col(OutboxMessage.recipient_person_id).is_not(None),
                    )
                    .distinct()
                )
            ).scalars()
        )
        mapped = [p.id for p in changed if p.id in waiting and p.slack_user_id]
        out.requeued += await reroute_slack_in(s, [i for i in mapped if i is not None])
        for p in {p.id: p for p in changed if p.id in waiting and not p.slack_user_id}.values():
            out.requeued += await reroute_person_in(s, p)  # lost their id: found again by email
    return out


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


async def list_teams(db: Database, *, include_archived: bool = False) -> list[Team]:
    """The teams by name; archived ones only when asked for."""
    async with db.session() as s:
        q = select(Team)
        if not include_archived:
            q = q.where(col(Team.archived_at).is_(None))
        rows = await s.execute(q.order_by(Team.name))
        return list(rows.scalars())


async def teams_managed_by(db: Database, *, person_id: int) -> list[Team]:
    """Teams whose manager is this person."""
    async with db.session() as s:
        rows = await s.execute(
            select(Team)
            .where(Team.manager_id == person_id, col(Team.archived_at).is_(None))
            .order_by(Team.name)
        )
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


# --- finding anyone, switched off or not (admin commands) ---------------------------------


async def find_anyone(db: Database, *, ref: str) -> list[Person]:
    """People an admin may mean by `ref`, switched off or not: an email, else a handle (an
    email's local part, a display name, a first name)."""
    text = ref.strip().lstrip("@").lower()
    if not text:
        return []
    async with db.session() as s:
        if "@" in text:
            rows = await s.execute(select(Person).where(Person.email == text))
            return list(rows.scalars())
        for cond in (
            col(Person.email).like(f"{text}@%"),
            sa.func.lower(Person.display_name) == text,
            sa.func.lower(Person.display_name) == text.replace(".", " ").replace("_", " "),
            sa.func.lower(Person.display_name).like(
                text.replace(".", " ").replace("_", " ") + " %"
            ),
        ):
            found = list((await s.execute(select(Person).where(cond))).scalars())
            if found:
                return found
        return []


async def count_admins(db: Database) -> int:
    """Active admins on the roster."""
    async with db.session() as s:
        n = await s.scalar(
            sa.select(sa.func.count())
            .select_from(Person)
            .where(col(Person.active), col(Person.role) == Role.admin)
        )
        return int(n or 0)


async def open_items_owned(db: Database, *, person_id: int) -> int:
    """Open (or accepted) action items this person owns."""
    async with db.session() as s:
        n = await s.scalar(
            sa.select(sa.func.count())
            .select_from(ActionItem)
            .where(
                col(ActionItem.owner_id) == person_id,
                col(ActionItem.status).in_(
                    [ActionStatus.open.value, ActionStatus.in_progress.value]
                ),
            )
        )
        return int(n or 0)


# --- admin changes -------------------------------------------------------------------------


@dataclass
class Change:
    """What an admin change did, for the reply and the messages it causes."""

    settled: Settled = field(default_factory=Settled)
    person: Person | None = None
    team: Team | None = None
    teamless: list[Person] = field(default_factory=list)  # left without a team by it
    dropped: int = 0  # waiting messages to someone switched off, dropped
    demoted: bool = False  # a lead switched on again whose team has another lead: now an agent
    previous_team: Team | None = None


Op = Callable[[AsyncSession, Change], Awaitable[set[int]]]  # returns the touched team ids
MessagesFor = Callable[[Change], Sequence[OutboxNew]]


async def _run(
    db: Database,
    op: Op,
    *,
    now: dt.datetime,
    actor_id: int | None,
    messages: MessagesFor | None,
) -> Change:
    async with db.session() as s:
        before = await snapshot(s)
        change = Change()
        touched = await op(s, change)
        change.settled = await settle(s, before, touched=touched, now=now, actor_id=actor_id)
        if messages is not None:
            await enqueue_in(s, messages(change))
        return change


async def _person(s: AsyncSession, person_id: int) -> Person:
    p = await s.get(Person, person_id)
    if p is None:
        raise LookupError(f"person {person_id} does not exist")
    return p


async def _team(s: AsyncSession, team_id: int) -> Team:
    t = await s.get(Team, team_id)
    if t is None:
        raise LookupError(f"team {team_id} does not exist")
    return t


async def _leads_and_manages(s: AsyncSession, person_id: int) -> set[int]:
    rows = await s.execute(
        sa.select(col(Team.id)).where(
            sa.or_(col(Team.lead_id) == person_id, col(Team.manager_id) == person_id)
        )
    )
    return {t for t in rows.scalars() if t is not None}


def _lead_if_free(p: Person, team: Team | None) -> None:
    """A lead in a team without one becomes its lead."""
    if team is not None and p.role is Role.lead and team.lead_id is None:
        team.lead_id = p.id


async def deactivate_in(s: AsyncSession, p: Person, *, now: dt.datetime) -> int:
    """Switch a person off inside a caller's transaction; their history stays. Messages
    still waiting for them (never tried) are dropped; returns how many."""
    p.active = False
    p.deactivated_at = now
    result = await s.execute(
        sa.delete(OutboxMessage)
        .where(
            col(OutboxMessage.recipient_person_id) == p.id,
            col(OutboxMessage.status) == "pending",
            col(OutboxMessage.attempts) == 0,
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def add_person(
    db: Database,
    *,
    email: str,
    name: str,
    role: Role,
    team_id: int | None,
    timezone: str,
    work_hours: str,
    now: dt.datetime,
    actor_id: int | None = None,
    messages: MessagesFor | None = None,
) -> Change:
    """A new person (the caller checked the email is free); a lead or manager in a team
    without one becomes its own."""

    async def op(s: AsyncSession, ch: Change) -> set[int]:
        p = Person(
            email=email.strip().lower(),
            display_name=name,
            role=role,
            team_id=team_id,
            timezone=timezone,
            work_hours=work_hours,
            created_at=now,
        )
        s.add(p)
        await s.flush()
        ch.person = p
        team = await s.get(Team, team_id) if team_id is not None else None
        ch.team = team
        _lead_if_free(p, team)
        if team is not None and role is Role.manager and team.manager_id is None:
            team.manager_id = p.id
        if team is None:
            ch.teamless.append(p)
        return {team_id} if team_id is not None else set()

    return await _run(db, op, now=now, actor_id=actor_id, messages=messages)


async def set_active(
    db: Database,
    *,
    person_id: int,
    active: bool,
    now: dt.datetime,
    actor_id: int | None = None,
    messages: MessagesFor | None = None,
) -> Change:
    """Switch a person off (their history stays; they get nothing) or on again. On again,
    a lead whose team has no lead leads it again; one whose team has another lead now
    comes back as an agent; someone whose team was archived comes back without one."""

    async def op(s: AsyncSession, ch: Change) -> set[int]:
        p = await _person(s, person_id)
        ch.person = p
        touched = {p.team_id} if p.team_id is not None else set()
        if not active:
            touched |= await _leads_and_manages(s, person_id)
            ch.dropped = await deactivate_in(s, p, now=now)
            return touched
        p.active = True
        p.deactivated_at = None
        team = await s.get(Team, p.team_id) if p.team_id is not None else None
        if team is not None and team.archived_at is not None:
            ch.previous_team = team
            p.team_id = None
            team = None
            ch.teamless.append(p)
        ch.team = team
        if p.role is Role.lead and team is not None and team.lead_id not in (None, p.id):
            p.role = Role.agent
            ch.demoted = True
        _lead_if_free(p, team)
        return touched

    return await _run(db, op, now=now, actor_id=actor_id, messages=messages)


async def move_person(
    db: Database,
    *,
    person_id: int,
    team_id: int | None,
    now: dt.datetime,
    role: Role | None = None,
    actor_id: int | None = None,
    messages: MessagesFor | None = None,
) -> Change:
    """Put a person in another team (or none), with a new role when given. A lead leaves
    the team they led; in a team without a lead they become its lead (the caller refuses
    a team that has one)."""

    async def op(s: AsyncSession, ch: Change) -> set[int]:
        p = await _person(s, person_id)
        ch.person = p
        old = p.team_id
        ch.previous_team = await s.get(Team, old) if old is not None else None
        touched = await _leads_and_manages(s, person_id) if role is not None else set()
        if role is not None:
            p.role = role
        p.team_id = team_id
        team = await s.get(Team, team_id) if team_id is not None else None
        ch.team = team
        _lead_if_free(p, team)
        if team is None:
            ch.teamless.append(p)
        return touched | {t for t in (old, team_id) if t is not None}

    return await _run(db, op, now=now, actor_id=actor_id, messages=messages)


async def set_role(
    db: Database,
    *,
    person_id: int,
    role: Role,
    now: dt.datetime,
    actor_id: int | None = None,
    messages: MessagesFor | None = None,
) -> Change:
    """Change a person's role; it applies at once (every request reads it). A new lead in
    a team without one becomes its lead; a lead or manager who is no longer one stops
    leading or managing their teams."""

    async def op(s: AsyncSession, ch: Change) -> set[int]:
        p = await _person(s, person_id)
        ch.person = p
        touched = await _leads_and_manages(s, person_id)
        p.role = role
        team = await s.get(Team, p.team_id) if p.team_id is not None else None
        ch.team = team
        _lead_if_free(p, team)
        if p.team_id is not None:
            touched.add(p.team_id)
        return touched

    return await _run(db, op, now=now, actor_id=actor_id, messages=messages)


async def set_manager(db: Database, *, person_id: int, manager_id: int | None) -> Person:
    """Set (or clear) a person's own manager."""
    async with db.session() as s:
        p = await _person(s, person_id)
        p.manager_id = manager_id
        return p


async def set_team_lead(
    db: Database,
    *,
    team_id: int,
    person_id: int | None,
    now: dt.datetime,
    actor_id: int | None = None,
    messages: MessagesFor | None = None,
) -> Change:
    """Make someone the team's lead (an agent becomes a lead; someone in another team
    moves into this one), or leave the team without one. The former lead's work in the
    team is handed over in the same transaction."""

    async def op(s: AsyncSession, ch: Change) -> set[int]:
        team = await _team(s, team_id)
        ch.team = team
        touched = {team_id}
        if person_id is None:
            team.lead_id = None
            return touched
        p = await _person(s, person_id)
        ch.person = p
        if p.team_id is not None and p.team_id != team_id:
            ch.previous_team = await s.get(Team, p.team_id)
            touched.add(p.team_id)
        p.team_id = team_id
        p.role = Role.lead
        team.lead_id = p.id
        return touched

    return await _run(db, op, now=now, actor_id=actor_id, messages=messages)


async def set_team_manager(
    db: Database,
    *,
    team_id: int,
    person_id: int | None,
    now: dt.datetime,
    promote: bool = False,
    actor_id: int | None = None,
    messages: MessagesFor | None = None,
) -> Change:
    """Make a manager the team's manager (`promote`: make them one first; one without a
    home team gets this one), or leave the team without a manager."""

    async def op(s: AsyncSession, ch: Change) -> set[int]:
        team = await _team(s, team_id)
        ch.team = team
        touched = {team_id}
        team.manager_id = person_id
        if person_id is not None:
            p = await _person(s, person_id)
            ch.person = p
            if promote:
                touched |= await _leads_and_manages(s, person_id)
                p.role = Role.manager
            if p.team_id is None:
                p.team_id = team_id
        return touched

    return await _run(db, op, now=now, actor_id=actor_id, messages=messages)


async def rename_team(db: Database, *, team_id: int, name: str) -> Team:
    """Rename a team (the caller checked the new name is free)."""
    async with db.session() as s:
        team = await _team(s, team_id)
        team.name = " ".join(name.split())
        team.name_key = name_key(name)
        return team


async def archive_team(
    db: Database, *, team_id: int, now: dt.datetime, actor_id: int | None = None
) -> Change:
    """Archive a team: its history stays, nothing is scheduled for it any more (its pulse
    schedule is turned off), its channel and name are freed, and its people are left
    without a team."""

    async def op(s: AsyncSession, ch: Change) -> set[int]:
        team = await _team(s, team_id)
        ch.team = team
        members = list((await s.execute(select(Person).where(Person.team_id == team_id))).scalars())
        for p in members:
            p.team_id = None
            if p.active:
                ch.teamless.append(p)
        team.lead_id = None
        team.manager_id = None
        team.slack_channel_id = None
        team.teams_channel_ref = None
        team.archived_at = now
        # The name's key is freed for a new team; the id keeps the archived key unique.
        team.name_key = f"~{team_id}~{team.name_key}"[:80]
        sched = await s.get(PulseSchedule, team_id)
        if sched is not None:
            sched.cadence = "off"
        ch.teamless.sort(key=lambda p: p.display_name)
        return set()

    return await _run(db, op, now=now, actor_id=actor_id, messages=None)


async def link_channel(
    db: Database, *, team_id: int, platform: str, channel_ref: str | None, by: int | None
) -> tuple[Team, Team | None]:
    """Make a channel the team's (`channel_ref` None: unlink the team's channel on that
    platform); returns (the team, the team the channel was taken from). The team's posts
    that waited for a channel leadbot couldn't post in are tried again at once."""
    async with db.session() as s:
        team = await _team(s, team_id)
        field_name = "slack_channel_id" if platform == "slack" else "teams_channel_ref"
        column = getattr(Team, field_name)
        previous: Team | None = None
        if channel_ref is not None:
            previous = (
                (
                    await s.execute(
                        select(Team).where(column == channel_ref, col(Team.id) != team_id)
                    )
                )
                .scalars()
                .first()
            )
            if previous is not None:
                setattr(previous, field_name, None)
        setattr(team, field_name, channel_ref)
        team.channel_linked_by = by if channel_ref is not None else None
        o = OutboxMessage
        waiting = sa.and_(
            col(o.recipient_team_id) == team_id,
            col(o.status) == "pending",
            col(o.platform) == platform,
            col(o.claimed_by).is_(None),
        )
        if channel_ref is None:  # nowhere to post them any more
            await s.execute(
                sa.update(o)
                .where(waiting)
                .values(status="dead", last_error="the team's channel was unlinked")
            )
        else:
            if platform == "slack":  # (edit rows keep their own target: storage/edits.py)
                await s.execute(
                    sa.update(o).where(waiting, col(o.kind) != "update").values(target=channel_ref)
                )
            await s.execute(
                sa.update(o)
                .where(waiting, col(o.last_error).startswith(UNREACHABLE))
                .values(next_attempt_at=utcnow(), last_error=None)
            )
        return team, previous
