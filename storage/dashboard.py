"""The web dashboard's storage: one-time sign-in links, browser sessions, and the few
grouped reads its pages need that no chat command does (a team's figures per agent and
metric in one query, several teams' days in one query, kudos flows by role).

Only hashes of link and session secrets are stored; the secrets live in the link a person
was sent and in their browser's cookie.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from domain.kpi import DaySums, Sums
from storage.db import Database
from storage.kpis import _sum_columns, _sums  # the one definition of the KPI sums
from storage.models import DashboardLink, DashboardSession, MetricValue, Person, Recognition
from storage.outbox import OutboxNew, enqueue_in

# --- sign-in links and sessions -------------------------------------------------------


async def create_link(
    db: Database,
    *,
    person_id: int,
    nonce_hash: str,
    expires_at: dt.datetime,
    now: dt.datetime,
    messages: Sequence[OutboxNew],
) -> None:
    """Store a sign-in link and enqueue the DM that carries it, in one transaction; links
    that can no longer be used are pruned on the way."""
    async with db.session() as s:
        await s.execute(sa.delete(DashboardLink).where(col(DashboardLink.expires_at) < now))
        s.add(
            DashboardLink(
                nonce_hash=nonce_hash, person_id=person_id, created_at=now, expires_at=expires_at
            )
        )
        await s.flush()
        await enqueue_in(s, messages)


async def open_links(db: Database, *, person_id: int, now: dt.datetime) -> int:
    """How many of a person's links could still be used."""
    async with db.session() as s:
        found = await s.scalar(
            sa.select(sa.func.count())
            .select_from(DashboardLink)
            .where(
                col(DashboardLink.person_id) == person_id,
                col(DashboardLink.used_at).is_(None),
                col(DashboardLink.expires_at) > now,
            )
        )
        return int(found or 0)


async def link_usable(db: Database, *, nonce_hash: str, person_id: int, now: dt.datetime) -> bool:
    """Whether a link is still there for this person, unused and unexpired (a read)."""
    async with db.session() as s:
        found = await s.scalar(
            sa.select(sa.func.count())
            .select_from(DashboardLink)
            .where(
                col(DashboardLink.nonce_hash) == nonce_hash,
                col(DashboardLink.person_id) == person_id,
                col(DashboardLink.used_at).is_(None),
                col(DashboardLink.expires_at) > now,
            )
        )
        return bool(found)


async def sign_in(
    db: Database,
    *,
    nonce_hash: str,
    person_id: int,
    now: dt.datetime,
    token_hash: str,
    csrf_token: str,
    expires_at: dt.datetime,
) -> bool:
    """Use a link once and open a session for its person, in one transaction.

    False (and nothing changed) when the link is unknown, used, expired or another
    person's. The conditional UPDATE makes two requests racing with one link both fail
    but one: only one of them sees `used_at` still empty.
    """
    async with db.session() as s:
        result = await s.execute(
            sa.update(DashboardLink)
            .where(
                col(DashboardLink.nonce_hash) == nonce_hash,
                col(DashboardLink.person_id) == person_id,
                col(DashboardLink.used_at).is_(None),
                col(DashboardLink.expires_at) > now,
            )
            .values(used_at=now)
        )
        if (getattr(result, "rowcount", 0) or 0) != 1:
            return False
        await s.execute(sa.delete(DashboardSession).where(col(DashboardSession.expires_at) < now))
        s.add(
            DashboardSession(
                token_hash=token_hash,
                person_id=person_id,
                csrf_token=csrf_token,
                created_at=now,
                expires_at=expires_at,
            )
        )
        return True


async def get_session(
    db: Database, *, token_hash: str, now: dt.datetime
) -> DashboardSession | None:
    """The session a cookie names, unless it has expired."""
    async with db.session() as s:
        rows = await s.execute(
            select(DashboardSession).where(
                DashboardSession.token_hash == token_hash,
                col(DashboardSession.expires_at) > now,
            )
        )
        return rows.scalars().first()


async def end_session(db: Database, *, token_hash: str) -> bool:
    """Sign a browser out; True when there was a session to end."""
    async with db.session() as s:
        result = await s.execute(
            sa.delete(DashboardSession).where(col(DashboardSession.token_hash) == token_hash)
        )
        return (getattr(result, "rowcount", 0) or 0) > 0


async def end_sessions_of(db: Database, *, person_id: int) -> int:
    """Sign a person out everywhere (e.g. when they leave); returns sessions ended."""
    async with db.session() as s:
        result = await s.execute(
            sa.delete(DashboardSession).where(col(DashboardSession.person_id) == person_id)
        )
        return int(getattr(result, "rowcount", 0) or 0)


# --- KPI reads ----------------------------------------------------------------------------


async def people_metric_sums(
    db: Database, *, team_id: int, metric_keys: Sequence[str], start: dt.date, end: dt.date
) -> dict[tuple[int, str], Sums]:
    """Per agent and metric: a team's people's sums over a range, in one GROUP BY (the
    dashboard's agent x metric heatmap)."""
    mv = MetricValue.__table__.c  # type: ignore[attr-defined]
    q = (
        sa.select(mv.person_id, mv.metric_key, *_sum_columns())
        .where(
            mv.team_id == team_id,
            mv.metric_key.in_(list(metric_keys)),
            mv.day >= start,
            mv.day <= end,
            mv.person_id.is_not(None),
        )
        .group_by(mv.person_id, mv.metric_key)
    )
    async with db.session() as s:
        return {(int(r[0]), str(r[1])): _sums(r, 2) for r in (await s.execute(q)).all()}


async def teams_day_sums(
    db: Database,
    *,
    team_ids: Sequence[int],
    metric_keys: Sequence[str],
    start: dt.date,
    end: dt.date,
) -> dict[int, DaySums]:
    """storage.kpis.team_day_sums for several teams in one query (the manager's page)."""
    if not team_ids:
        return {}
    mv = MetricValue.__table__.c  # type: ignore[attr-defined]
    is_team = mv.person_id.is_(None)
    q = (
        sa.select(mv.team_id, mv.metric_key, mv.day, is_team, *_sum_columns())
        .where(
            mv.team_id.in_(list(team_ids)),
            mv.metric_key.in_(list(metric_keys)),
            mv.day >= start,
            mv.day <= end,
        )
        .group_by(mv.team_id, mv.metric_key, mv.day, is_team)
    )
    out = {tid: DaySums(team={}, people={}) for tid in team_ids}
    async with db.session() as s:
        for row in (await s.execute(q)).all():
            ds = out[int(row[0])]
            target = ds.team if row[3] else ds.people
            target[(row[1], row[2])] = _sums(row, 4)
    return out


# --- kudos flows ------------------------------------------------------------------------------


@dataclass(frozen=True)
class KudosFlow:
    """How many kudos went from people of one role (and team) to another: counts only."""

    giver_role: str  # "leadbot" for kudos the bot posted from a suggestion
    receiver_role: str
    same_team: bool
    count: int


async def kudos_flows(
    db: Database, *, team_ids: Sequence[int], since: dt.datetime, until: dt.datetime
) -> list[KudosFlow]:
    """Kudos received in the teams, grouped by the giver's and the receiver's role and
    whether both were in the same team."""
    if not team_ids:
        return []
    giver = aliased(Person)
    receiver = aliased(Person)
    same: Any = sa.func.coalesce(col(giver.team_id) == col(receiver.team_id), False)
    cnt = sa.func.count()
    q = (
        sa.select(col(giver.role), col(receiver.role), same, cnt)
        .select_from(Recognition)
        .join(receiver, col(receiver.id) == col(Recognition.receiver_id))
        .outerjoin(giver, col(giver.id) == col(Recognition.giver_id))
        .where(
            col(Recognition.team_id).in_(list(team_ids)),
            col(Recognition.created_at) >= since,
            col(Recognition.created_at) < until,
        )
        .group_by(col(giver.role), col(receiver.role), same)
    )
    async with db.session() as s:
        rows = (await s.execute(q)).all()
    return [
        KudosFlow(
            giver_role=_role(g) if g is not None else "leadbot",
            receiver_role=_role(r),
            same_team=bool(st),
            count=int(n),
        )
        for g, r, st, n in rows
    ]


def _role(value: Any) -> str:
    return str(getattr(value, "value", value))
