"""Idempotency of incoming deliveries (Slack retries, Teams re-sends): ProcessedEvent keys.

Old keys are removed by the retention job (storage/privacy.py)."""

from __future__ import annotations

import datetime as dt
import secrets

import sqlalchemy as sa
from sqlmodel import col

from storage.db import Database
from storage.models import ProcessedEvent, SeenRequest, utcnow
from storage.outbox import insert_ignore


async def record_once(db: Database, *, key: str, now: dt.datetime | None = None) -> bool:
    """Record `key`; True the first time it is seen, False for every repeat (even racing)."""
    async with db.session() as s:
        stmt = (
            insert_ignore(db.dialect, ProcessedEvent.__table__)  # type: ignore[attr-defined]
            .values(key=key[:200], received_at=now or utcnow())
            .on_conflict_do_nothing(index_elements=["key"])
        )
        result = await s.execute(stmt)
        return bool(getattr(result, "rowcount", 0))


REQUEST_WINDOW = dt.timedelta(minutes=10)  # longer than Slack's five-minute signature window


async def first_request(db: Database, *, key: str, now: dt.datetime) -> bool:
    """Record a signed request's key; False when the same request was already seen within
    REQUEST_WINDOW (a replay). Older keys are pruned as new ones arrive."""
    async with db.session() as s:
        stmt = (
            insert_ignore(db.dialect, SeenRequest.__table__)  # type: ignore[attr-defined]
            .values(key=key[:120], seen_at=now)
            .on_conflict_do_nothing(index_elements=["key"])
        )
        fresh = bool(getattr(await s.execute(stmt), "rowcount", 0))
        if fresh and secrets.randbelow(64) == 0:  # now and then, not on every request
            await s.execute(
                sa.delete(SeenRequest).where(col(SeenRequest.seen_at) < now - REQUEST_WINDOW)
            )
        return fresh


async def count(db: Database, *, prefix: str = "") -> int:
    """How many keys are recorded (starting with `prefix`)."""
    async with db.session() as s:
        q = sa.select(sa.func.count()).select_from(ProcessedEvent)
        if prefix:
            q = q.where(col(ProcessedEvent.key).startswith(prefix))
        return int(await s.scalar(q) or 0)
