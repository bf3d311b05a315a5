"""Cheap counts for the /metrics endpoint, computed at scrape time.

Both are one GROUP BY over a table with an index on its leading column; they describe the
whole cluster (every web and clock process shares the database), not one process.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import col

from storage.db import Database
from storage.models import JobRun, OutboxMessage, OutboxStatus


async def outbox_counts(db: Database) -> dict[str, int]:
    """Messages per outbox status (pending, sent, dead), zeros included."""
    async with db.session() as s:
        rows = (
            await s.execute(
                sa.select(col(OutboxMessage.status), sa.func.count()).group_by(
                    col(OutboxMessage.status)
                )
            )
        ).all()
    out = {st.value: 0 for st in OutboxStatus}
    for status, n in rows:
        out[str(status)] = int(n)
    return out


async def job_run_counts(db: Database) -> dict[tuple[str, str], int]:
    """Scheduled runs per (job id, status): running, ok or failed."""
    async with db.session() as s:
        rows = (
            await s.execute(
                sa.select(col(JobRun.job_id), col(JobRun.status), sa.func.count()).group_by(
                    col(JobRun.job_id), col(JobRun.status)
                )
            )
        ).all()
    return {(str(job), str(status)): int(n) for job, status, n in rows}
