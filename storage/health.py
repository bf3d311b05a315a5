"""The reads behind the setup checklist (`/leadbot setup`, `leadbot doctor`).

Each is a few indexed queries, cheap enough for the admin's home view: the KPI
freshness, for instance, asks each (team, metric) pair for its newest day through the
(team, metric, day) index instead of grouping every stored value.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import col, select

from domain.roles import Role
from storage.db import Database
from storage.models import JobRun, Metric, MetricValue, OutboxMessage, Person, Team


async def unreachable(db: Database) -> list[Person]:
    """Active people leadbot can't message: neither a Slack nor a Teams id yet, or a
    platform said it can't reach them (unreachable_reason), by name."""
    async with db.session() as s:
        rows = await s.execute(
            select(Person)
            .where(
                col(Person.active),
                sa.or_(
                    sa.and_(
                        col(Person.slack_user_id).is_(None), col(Person.teams_user_id).is_(None)
                    ),
                    col(Person.unreachable_reason).is_not(None),
                ),
            )
            .order_by(col(Person.display_name))
        )
        return list(rows.scalars())


async def active_counts(db: Database) -> tuple[int, dict[int, int]]:
    """(active people, active agents per team id)."""
    async with db.session() as s:
        total = await s.scalar(
            sa.select(sa.func.count()).select_from(Person).where(col(Person.active))
        )
        rows = await s.execute(
            sa.select(col(Person.team_id), sa.func.count())
            .where(
                col(Person.active),
                col(Person.role) == Role.agent,
                col(Person.team_id).is_not(None),
            )
            .group_by(col(Person.team_id))
        )
        return int(total or 0), {int(t): int(n) for t, n in rows.all() if t is not None}


async def newest_kpi_days(db: Database) -> dict[int, dict[str, dt.date]]:
    """The newest day with a value, per open team and metric (pairs without any left out)."""
    mv = MetricValue.__table__.c  # type: ignore[attr-defined]
    newest = (
        sa.select(sa.func.max(mv.day))
        .where(mv.team_id == col(Team.id), mv.metric_key == col(Metric.key))
        .scalar_subquery()
    )
    q = (
        sa.select(col(Team.id), col(Metric.key), newest)
        .select_from(Team)
        .join(Metric, sa.true())  # every (team, metric) pair: a cross join on purpose
        .where(col(Team.archived_at).is_(None))
    )
    out: dict[int, dict[str, dt.date]] = {}
    async with db.session() as s:
        for tid, key, day in (await s.execute(q)).all():
            if day is not None and tid is not None:
                out.setdefault(int(tid), {})[str(key)] = day
    return out


@dataclass(frozen=True)
class SchedulerHealth:
    last_claimed: dt.datetime | None  # the newest claim of any run
    failed: list[JobRun]  # runs that failed since the given moment, newest first


async def scheduler_health(db: Database, *, failed_since: dt.datetime) -> SchedulerHealth:
    async with db.session() as s:
        last = await s.scalar(sa.select(sa.func.max(col(JobRun.claimed_at))))
        rows = await s.execute(
            select(JobRun)
            .where(col(JobRun.status) == "failed", col(JobRun.claimed_at) >= failed_since)
            .order_by(col(JobRun.claimed_at).desc())
            .limit(20)
        )
        failed = list(rows.scalars())
    if isinstance(last, dt.datetime) and last.tzinfo is None:
        last = last.replace(tzinfo=dt.UTC)  # an aggregate skips the column's type on SQLite
    elif isinstance(last, str):
        last = dt.datetime.fromisoformat(last).replace(tzinfo=dt.UTC)
    return SchedulerHealth(last_claimed=last, failed=failed)


async def outbox_trouble(db: Database, *, overdue_before: dt.datetime) -> tuple[int, int]:
    """(dead messages, pending messages that should have gone before `overdue_before`)."""
    async with db.session() as s:
        dead = await s.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxMessage)
            .where(col(OutboxMessage.status) == "dead")
        )
        late = await s.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxMessage)
            .where(
                col(OutboxMessage.status) == "pending",
                col(OutboxMessage.next_attempt_at) < overdue_before,
            )
        )
        return int(dead or 0), int(late or 0)
