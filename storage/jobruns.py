"""Claims of scheduled runs: each (job, scope, fire time) happens once, cluster-wide.

The claim is an INSERT into a table with a unique key; the first process to insert wins,
every other one finds the key taken and does nothing. It works the same on SQLite (one
writer at a time) and PostgreSQL (any number of scheduler processes).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from storage.db import Database
from storage.models import JobRun, utcnow

ERROR_LIMIT = 1000


def normalize_fire_time(fire_time: dt.datetime) -> dt.datetime:
    """The fire time as stored in the claim key: aware UTC, whole microseconds."""
    if fire_time.tzinfo is None:
        raise ValueError("a fire time must be timezone-aware")
    return fire_time.astimezone(dt.UTC)


async def claim(
    db: Database,
    *,
    job_id: str,
    scope: str,
    fire_time: dt.datetime,
    claimed_by: str,
    now: dt.datetime | None = None,
) -> int | None:
    """Claim one run; returns the JobRun id, or None when another process has it."""
    row = JobRun(
        job_id=job_id,
        scope=scope,
        fire_time=normalize_fire_time(fire_time),
        claimed_by=claimed_by[:120],
        claimed_at=now or utcnow(),
        status="running",
    )
    try:
        async with db.session() as s:
            s.add(row)
            await s.flush()
            return row.id
    except IntegrityError:
        # uq_jobrun_claim: someone else inserted the same (job, scope, fire time) first.
        return None


async def finish(
    db: Database,
    *,
    run_id: int,
    ok: bool,
    error: str | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Record how a claimed run ended."""
    async with db.session() as s:
        await s.execute(
            sa.update(JobRun)
            .where(col(JobRun.id) == run_id)
            .values(
                status="ok" if ok else "failed",
                error=None if ok else (error or "failed")[:ERROR_LIMIT],
                finished_at=now or utcnow(),
            )
        )


async def get_run(
    db: Database, *, job_id: str, scope: str, fire_time: dt.datetime
) -> JobRun | None:
    """The claim of one (job, scope, fire time), if any."""
    async with db.session() as s:
        result = await s.execute(
            select(JobRun).where(
                col(JobRun.job_id) == job_id,
                col(JobRun.scope) == scope,
                col(JobRun.fire_time) == normalize_fire_time(fire_time),
            )
        )
        return result.scalars().first()


async def list_runs(db: Database, *, job_id: str | None = None, limit: int = 50) -> list[JobRun]:
    """The most recent runs, newest first."""
    async with db.session() as s:
        q = select(JobRun)
        if job_id is not None:
            q = q.where(col(JobRun.job_id) == job_id)
        result = await s.execute(
            q.order_by(col(JobRun.fire_time).desc(), col(JobRun.id).desc()).limit(limit)
        )
        return list(result.scalars())


async def last_runs(db: Database) -> dict[tuple[str, str], JobRun]:
    """The newest run of every (job, scope)."""
    async with db.session() as s:
        latest = (
            sa.select(
                col(JobRun.job_id),
                col(JobRun.scope),
                sa.func.max(col(JobRun.fire_time)).label("ft"),
            )
            .group_by(col(JobRun.job_id), col(JobRun.scope))
            .subquery()
        )
        result = await s.execute(
            select(JobRun).join(
                latest,
                sa.and_(
                    col(JobRun.job_id) == latest.c.job_id,
                    col(JobRun.scope) == latest.c.scope,
                    col(JobRun.fire_time) == latest.c.ft,
                ),
            )
        )
        return {(r.job_id, r.scope): r for r in result.scalars()}
