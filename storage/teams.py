"""Queries the Teams adapter needs: identities, conversation references, idempotency keys.

References are JSON strings (bot/teams/refs.py reads and writes them); storage only keeps them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from storage.db import Database
from storage.models import Notice, Person, ProcessedEvent, Team, TeamsInstall
from storage.outbox import reroute_person_in


async def claim_event(db: Database, *, key: str) -> bool:
    """Record an incoming delivery; False when it was seen before (a re-send)."""
    try:
        async with db.session() as s:
            s.add(ProcessedEvent(key=key[:200]))
    except IntegrityError:
        return False
    return True


async def claim_notice(db: Database, *, key: str) -> bool:
    """Record a one-time notice; False when it was given before."""
    try:
        async with db.session() as s:
            s.add(Notice(key=key[:200]))
    except IntegrityError:
        return False
    return True


async def find_person(db: Database, *, teams_ids: Sequence[str]) -> Person | None:
    """The active person whose Teams id is one of `teams_ids` (Entra object id or 29: id)."""
    ids = [i for i in teams_ids if i]
    if not ids:
        return None
    async with db.session() as s:
        rows = await s.execute(
            select(Person).where(col(Person.teams_user_id).in_(ids), col(Person.active))
        )
        return rows.scalars().first()


async def link_person(
    db: Database, *, person_id: int, teams_user_id: str, conversation_ref: str | None = None
) -> Person | None:
    """Remember a person's Teams id (and reference); the id moves off anyone who had it."""
    async with db.session() as s:
        p = await s.get(Person, person_id)
        if p is None:
            return None
        if p.teams_user_id != teams_user_id:
            # An id belongs to one person: a re-created roster row takes it over.
            await s.execute(
                sa.update(Person)
                .where(col(Person.teams_user_id) == teams_user_id, col(Person.id) != person_id)
                .values(teams_user_id=None)
            )
            p.teams_user_id = teams_user_id
            p.unreachable_reason = None
        if conversation_ref is not None:
            p.teams_conversation_ref = conversation_ref
        await s.flush()
        await reroute_person_in(s, p)  # their waiting messages go out to Teams now
        return p


async def set_person_ref(db: Database, *, person_id: int, conversation_ref: str) -> None:
    """Store a person's personal-chat reference (only when it changed)."""
    async with db.session() as s:
        p = await s.get(Person, person_id)
        if p is not None and p.teams_conversation_ref != conversation_ref:
            p.teams_conversation_ref = conversation_ref
            p.unreachable_reason = None
            await s.flush()
            await reroute_person_in(s, p)  # e.g. a message parked: no 1:1 chat yet


async def set_team_ref(db: Database, *, team_id: int, channel_ref: str) -> None:
    """Store a team's channel reference (only when it changed)."""
    async with db.session() as s:
        t = await s.get(Team, team_id)
        if t is not None and t.teams_channel_ref != channel_ref:
            t.teams_channel_ref = channel_ref


def _ref_conversation(ref: str | None) -> str | None:
    if not ref:
        return None
    try:
        data = json.loads(ref)
    except ValueError:
        return None
    conv = data.get("conversation_id") if isinstance(data, dict) else None
    return conv if isinstance(conv, str) else None


async def team_by_channel(db: Database, *, conversation_id: str) -> Team | None:
    """The team whose stored channel reference is this Teams conversation (channel)."""
    base = conversation_id.split(";", 1)[0]
    async with db.session() as s:
        rows = await s.execute(select(Team).where(col(Team.teams_channel_ref).is_not(None)))
        for team in rows.scalars():
            if _ref_conversation(team.teams_channel_ref) == base:
                return team
    return None


async def person_with_team(db: Database, *, person_id: int) -> tuple[Person, Team | None] | None:
    """A person and their home team."""
    async with db.session() as s:
        p = await s.get(Person, person_id)
        if p is None:
            return None
        team = await s.get(Team, p.team_id) if p.team_id else None
        return p, team


async def remember_install(db: Database, *, conversation_id: str, ref: str) -> None:
    """Record (or refresh) a team or chat leadbot was added to."""
    key = conversation_id.split(";", 1)[0][:400]
    async with db.session() as s:
        row = await s.get(TeamsInstall, key)
        if row is None:
            s.add(TeamsInstall(conversation_id=key, ref=ref))
        elif row.ref != ref:
            row.ref = ref


async def forget_install(db: Database, *, conversation_id: str) -> None:
    """leadbot was removed from that team or chat."""
    async with db.session() as s:
        row = await s.get(TeamsInstall, conversation_id.split(";", 1)[0][:400])
        if row is not None:
            await s.delete(row)


async def installs(db: Database) -> list[TeamsInstall]:
    """Every team and chat leadbot is in, oldest first."""
    async with db.session() as s:
        rows = await s.execute(select(TeamsInstall).order_by(col(TeamsInstall.installed_at)))
        return list(rows.scalars())
