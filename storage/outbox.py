"""The outbox: messages to people and channels, written by handlers and jobs, sent by the
dispatcher. A unique dedupe key makes every message happen at most once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus, Person, Team, utcnow


@dataclass(frozen=True)
class OutboxNew:
    """A message to enqueue, to exactly one person or one team channel."""

    dedupe_key: str
    payload: str  # Reply.to_json()
    person_id: int | None = None
    team_id: int | None = None
    not_before: dt.datetime | None = None  # quiet hours: not sent before this moment
    kind: str = "message"


def route_person(p: Person) -> tuple[str, str]:
    """(platform, target) for a direct message to a person."""
    if p.slack_user_id:
        return "slack", p.slack_user_id  # a DM is posted with the user id as the channel
    if p.teams_user_id:
        return "teams", p.teams_user_id
    return "console", p.email


def route_team(t: Team) -> tuple[str, str]:
    """(platform, target) for a post in a team's channel."""
    if t.slack_channel_id:
        return "slack", t.slack_channel_id
    if t.teams_channel_ref:
        return "teams", f"team:{t.id}"
    return "console", f"#{t.name}"


def insert_ignore(dialect: str, table: Any) -> Any:
    """An INSERT that skips rows whose unique key exists (PostgreSQL and SQLite)."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


async def enqueue_in(session: AsyncSession, messages: Sequence[OutboxNew]) -> int:
    """Enqueue inside a caller's transaction (storage functions only); returns rows added."""
    added = 0
    now = utcnow()
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    for m in messages:
        if (m.person_id is None) == (m.team_id is None):
            raise ValueError("an outbox message goes to one person or one team")
        if m.person_id is not None:
            person = await session.get(Person, m.person_id)
            if person is None:
                continue
            platform, target = route_person(person)
        else:
            assert m.team_id is not None
            team = await session.get(Team, m.team_id)
            if team is None:
                continue
            platform, target = route_team(team)
        stmt = (
            insert_ignore(dialect, OutboxMessage.__table__)  # type: ignore[attr-defined]
            .values(
                dedupe_key=m.dedupe_key[:200],
                platform=platform,
                target=target,
                recipient_person_id=m.person_id,
                recipient_team_id=m.team_id,
                kind=m.kind,
                payload=m.payload,
                status=OutboxStatus.pending.value,
                attempts=0,
                next_attempt_at=max(m.not_before or now, now),
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
        )
        result = await session.execute(stmt)
        added += max(getattr(result, "rowcount", 0) or 0, 0)
    return added


async def enqueue(db: Database, *, messages: Sequence[OutboxNew]) -> int:
    """Enqueue messages in one transaction; a dedupe key seen before is skipped."""
    if not messages:
        return 0
    async with db.session() as s:
        return await enqueue_in(s, messages)


async def messages_after(db: Database, *, after_id: int, limit: int = 200) -> list[OutboxMessage]:
    """Messages enqueued after a given id, oldest first (the console shows them)."""
    async with db.session() as s:
        rows = await s.execute(
            select(OutboxMessage)
            .where(col(OutboxMessage.id) > after_id)
            .order_by(col(OutboxMessage.id))
            .limit(limit)
        )
        return list(rows.scalars())


async def last_id(db: Database) -> int:
    async with db.session() as s:
        value = await s.scalar(sa.select(sa.func.max(OutboxMessage.id)))
        return int(value or 0)


async def mark_sent(db: Database, *, message_id: int, external_ref: str | None = None) -> None:
    async with db.session() as s:
        m = await s.get(OutboxMessage, message_id)
        if m is not None and m.status is not OutboxStatus.sent:
            m.status = OutboxStatus.sent
            m.sent_at = utcnow()
            m.external_ref = external_ref
