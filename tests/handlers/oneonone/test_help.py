"""Help at every level of `/1on1`, from the declaration; and the one error for words that
are no sub-command, which changes nothing."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import SQLModel

from domain.types import Header
from handlers.core.context import HandlerContext
from handlers.core.help import title
from handlers.oneonone import COMMAND
from storage.db import Database
from tests.handlers.oneonone.helpers import pair, run


async def _counts(db: Database) -> dict[str, int]:
    async with db.engine.connect() as conn:
        return {
            t.name: int(
                (await conn.execute(sa.select(sa.func.count()).select_from(t))).scalar_one()
            )
            for t in SQLModel.metadata.sorted_tables
        }


async def test_every_node_answers_help_with_its_usage(db: Database, ctx: HandlerContext) -> None:
    p = await pair(db)
    before = await _counts(db)
    for path, node in COMMAND.walk():
        for word in ("help", "?"):
            reply = await run(db, ctx, p.lead, f"{title(path)} {word}")
            assert reply.ok, (path, reply.text)
            assert reply.blocks[0] == Header(title(path))
            assert node.summary in reply.text
            for line in node.all_usage:
                assert line in reply.text, (path, line)
    assert await _counts(db) == before


async def test_the_old_usage_lines_are_all_declared() -> None:
    for line in (
        "/1on1 schedule @agent every N weeks WEEKDAY HH:MM [duration 30m]",
        "/1on1 list",
        "/1on1 move @agent DATE HH:MM",
        "/1on1 cancel @agent",
        "/1on1 done @agent [notes]",
        "/1on1 skip @agent [reason]",
        "/1on1 prep @agent",
        "/1on1 agenda TEXT",
    ):
        assert line in COMMAND.all_usage
    # The Slack usage hint is the first line: it stays the schedule form.
    assert COMMAND.all_usage[0].startswith("/1on1 schedule @agent")


async def test_unknown_subcommand_gets_the_standard_error_and_changes_nothing(
    db: Database, ctx: HandlerContext
) -> None:
    p = await pair(db)
    before = await _counts(db)
    for line, shown in (
        ("/1on1 dance now", "/1on1 dance now"),
        ("/1on1 @maria.lopez every week", "/1on1 @Maria Lopez every week"),
    ):
        reply = await run(db, ctx, p.lead, line)
        assert not reply.ok
        assert f"I don't know `{shown}`. Say `schedule`, `list`, `move`, `cancel`, " in reply.text
        assert "`prep` or `agenda`." in reply.text
        assert "Usage:" in reply.text
        for usage in COMMAND.all_usage:
            assert usage in reply.text
    assert await _counts(db) == before


async def test_plain_1on1_and_next_are_the_list(db: Database, ctx: HandlerContext) -> None:
    p = await pair(db)
    listed = await run(db, ctx, p.lead, "/1on1 list")
    for line in ("/1on1", "/1on1 next", "/1on1 LIST"):
        reply = await run(db, ctx, p.lead, line)
        assert reply.ok
        assert reply.text == listed.text
