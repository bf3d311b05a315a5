"""Team goals (one active goal per team, metric and period) and one-time notices."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select

from storage.db import Database
from storage.models import Goal, Notice, utcnow
from storage.outbox import OutboxNew, enqueue_in, insert_ignore

PERIOD_ORDER = {"daily": 0, "weekly": 1, "monthly": 2}


async def set_goal(
    db: Database,
    *,
    team_id: int,
    metric_key: str,
    op: str,
    target: float,
    period: str,
    set_by_id: int | None,
) -> tuple[Goal, Goal | None]:
    """Make this the team's active goal for the metric and period; returns (new, replaced)."""
    async with db.session() as s:
        rows = await s.execute(
            select(Goal).where(
                Goal.team_id == team_id,
                Goal.metric_key == metric_key,
                Goal.period == period,
                col(Goal.active),
            )
        )
        old = rows.scalars().first()
        if old is not None:
            old.active = False
            await s.flush()  # the partial unique index allows one active goal
        goal = Goal(
            team_id=team_id,
            metric_key=metric_key,
            op=op,
            target=target,
            period=period,
            set_by_id=set_by_id,
            since=utcnow(),
        )
        s.add(goal)
        await s.flush()
        return goal, old


async def list_goals(db: Database, *, team_ids: Sequence[int]) -> list[Goal]:
    """Active goals of these teams, by team, metric and period."""
    if not team_ids:
        return []
    async with db.session() as s:
        rows = await s.execute(
            select(Goal).where(col(Goal.team_id).in_(list(team_ids)), col(Goal.active))
        )
        goals = list(rows.scalars())
    return sorted(goals, key=lambda g: (g.team_id, g.metric_key, PERIOD_ORDER.get(g.period, 9)))


async def clear_goals(
    db: Database, *, team_id: int, metric_key: str, period: str | None = None
) -> list[Goal]:
    """Retire the team's active goals for a metric (one period, or all); returns them."""
    async with db.session() as s:
        q = select(Goal).where(
            Goal.team_id == team_id, Goal.metric_key == metric_key, col(Goal.active)
        )
        if period is not None:
            q = q.where(Goal.period == period)
        goals = list((await s.execute(q)).scalars())
        for g in goals:
            g.active = False
        return goals


async def team_ids_with_goals(db: Database) -> set[int]:
    async with db.session() as s:
        rows = await s.execute(select(col(Goal.team_id)).where(col(Goal.active)).distinct())
        return {int(r) for r in rows.scalars()}


async def notice_given(db: Database, *, key: str) -> bool:
    async with db.session() as s:
        return await s.get(Notice, key) is not None


async def send_once(db: Database, *, key: str, messages: Sequence[OutboxNew]) -> bool:
    """Record notice `key` and enqueue `messages` in one transaction, unless it was given.

    Notices outlive the outbox (which is purged), so a one-time hint stays one-time.
    """
    async with db.session() as s:
        dialect = s.bind.dialect.name if s.bind is not None else "sqlite"
        table = Notice.__table__  # type: ignore[attr-defined]
        stmt = insert_ignore(dialect, table).values(key=key[:200], created_at=utcnow())
        result = await s.execute(stmt.on_conflict_do_nothing(index_elements=["key"]))
        if not getattr(result, "rowcount", 0):
            return False
        await enqueue_in(s, messages)
        return True
