"""`/action help` at every level, from the declaration; words that are no sub-command."""

from __future__ import annotations

import pytest

from handlers import actions as h
from handlers.core.context import HandlerContext
from storage.db import Database
from tests.handlers.actions.helpers import World, counts, run

OLD_USAGE = (
    "/action @owner TEXT [due DATE] [metric METRIC OP TARGET]",
    "/action list [mine|team|overdue|done|assigned|@person]",
    "/action show ID",
    "/action accept ID",
    "/action done ID [note]",
    "/action due ID DATE|none",
    "/action reassign ID @person",
    "/action cancel ID [reason]",
)
NODES = [path for path, _node in h.COMMAND.walk()]


async def test_help(db: Database, ctx: HandlerContext, w: World) -> None:
    reply = await run(db, ctx, w.maria, "/action help")
    assert reply.ok
    assert "/action @owner TEXT [due DATE] [metric METRIC OP TARGET]" in reply.fallback


async def test_root_help_keeps_every_usage_line_and_the_summary(
    db: Database, ctx: HandlerContext, w: World
) -> None:
    reply = await run(db, ctx, w.maria, "/action help")
    assert reply.ok
    assert "Action items: assign, follow up and close owned work" in reply.fallback
    for line in OLD_USAGE:
        assert line in reply.fallback


@pytest.mark.parametrize("path", NODES, ids=" ".join)
async def test_every_node_answers_help(
    db: Database, ctx: HandlerContext, w: World, path: tuple[str, ...]
) -> None:
    node = dict(h.COMMAND.walk())[path]
    before = await counts(db)
    reply = await run(db, ctx, w.lead, "/" + " ".join(path) + " help")
    assert reply.ok, reply.fallback
    assert node.all_usage
    for line in node.all_usage:
        assert line in reply.fallback
    assert await counts(db) == before


async def test_alias_ls_is_list(db: Database, ctx: HandlerContext, w: World) -> None:
    listed = await run(db, ctx, w.lead, "/action list")
    aliased = await run(db, ctx, w.lead, "/action ls")
    assert aliased.ok
    assert aliased.fallback == listed.fallback
    helped = await run(db, ctx, w.lead, "/action ls help")
    assert "/action list [mine|team|overdue|done|assigned|@person]" in helped.fallback


def test_every_node_has_a_handler() -> None:
    # No node only groups sub-commands, so no word meets the standard unknown-sub-command
    # error: at the root an unknown word is read as the owner (see the next test).
    assert [path for path, node in h.COMMAND.walk() if node.handler is None] == []


async def test_unknown_word_at_the_root_asks_for_the_owner(
    db: Database, ctx: HandlerContext, w: World
) -> None:
    before = await counts(db)
    reply = await run(db, ctx, w.lead, "/action frobnicate 1")
    assert not reply.ok
    assert "I don't know `/action frobnicate`. Start with who owns the item" in reply.fallback
    assert "Usage:" in reply.fallback
    for line in OLD_USAGE:
        assert line in reply.fallback
    assert await counts(db) == before


async def test_unknown_word_in_a_sub_command_shows_its_usage(
    db: Database, ctx: HandlerContext, w: World
) -> None:
    before = await counts(db)
    reply = await run(db, ctx, w.lead, "/action list everything")
    assert not reply.ok
    assert "I can list" in reply.fallback
    assert "Usage:\n/action list [mine|team|overdue|done|assigned|@person]" in reply.fallback
    assert "/action show ID" not in reply.fallback
    assert await counts(db) == before
