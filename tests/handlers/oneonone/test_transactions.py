"""A 1:1 change and the DM it causes are one transaction: a database that fails on the
DM's statement leaves neither (docs/architecture.md, "A change and the messages it
causes are written in ONE transaction")."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from handlers.core.context import HandlerContext
from handlers.core.dispatch import TRY_AGAIN
from storage.db import Database
from tests.conftest import FakeClock
from tests.handlers.oneonone.helpers import at, pair, run


@contextmanager
def failing(db: Database, statement: str) -> Iterator[list[str]]:
    """The store fails the first statement starting with `statement`, as a connection cut
    at that moment would (the transaction's earlier statements have already run)."""
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, sql: str, *_a: Any) -> None:
        if not seen and " ".join(sql.split()).upper().startswith(statement.upper()):
            seen.append(sql)
            raise OperationalError(sql, {}, ConnectionResetError("connection reset by peer"))

    event.listen(db.engine.sync_engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", before)


async def state(db: Database) -> list[object]:
    queries = (
        "SELECT id, active, next_at, lead_id FROM oneonone ORDER BY id",
        "SELECT one_on_one_id, scheduled_at, status FROM oneononeoccurrence ORDER BY 1, 2",
        "SELECT one_on_one_id, occurrence_id FROM agendaitem ORDER BY id",
        "SELECT dedupe_key FROM outboxmessage ORDER BY id",
    )
    async with db.engine.connect() as conn:
        return [(await conn.execute(sa.text(q))).all() for q in queries]


@pytest.mark.parametrize(
    "line",
    [
        "/1on1 schedule @maria.lopez every 1 weeks wed 11:00",  # replaces the schedule
        "/1on1 move @maria.lopez 2026-11-26 14:30",
        "/1on1 skip @maria.lopez on leave",
        "/1on1 cancel @maria.lopez",
    ],
)
async def test_a_cut_before_the_dm_leaves_neither_the_change_nor_the_dm(
    db: Database, ctx: HandlerContext, clock: FakeClock, line: str
) -> None:
    p = await pair(db)
    clock.set(at(2026, 11, 17, 9))
    assert (await run(db, ctx, p.lead, "/1on1 schedule @maria.lopez every 2 weeks tue 16:00")).ok
    assert (await run(db, ctx, p.maria, "/1on1 agenda my shifts")).ok
    before = await state(db)
    with failing(db, "INSERT INTO outboxmessage") as seen:
        reply = await run(db, ctx, p.lead, line)
    assert seen, "the command never wrote its DM"
    assert not reply.ok
    assert TRY_AGAIN in reply.text
    assert await state(db) == before
    # Back up: the same command does both, once.
    reply = await run(db, ctx, p.lead, line)
    assert reply.ok, reply.text
    after = await state(db)
    assert after != before
    assert len(after[3]) == len(before[3]) + 1  # type: ignore[arg-type]  # its one DM
