"""Help at every level of `/kudos`, from the declaration (`/kudos help` included, which
used to be read as a kudos); and words that fit no form get an error with the usage and
change nothing."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import SQLModel

from domain.roles import Role
from domain.types import Header
from handlers.core.context import HandlerContext
from handlers.core.help import title
from handlers.kudos import COMMAND
from storage.db import Database
from tests.conftest import make_person
from tests.handlers.kudos.helpers import crew, run


async def _counts(db: Database) -> dict[str, int]:
    async with db.engine.connect() as conn:
        return {
            t.name: int(
                (await conn.execute(sa.select(sa.func.count()).select_from(t))).scalar_one()
            )
            for t in SQLModel.metadata.sorted_tables
        }


async def test_every_node_answers_help_with_its_usage(db: Database, ctx: HandlerContext) -> None:
    await crew(db)
    admin = await make_person(db, "root.admin", role=Role.admin)
    before = await _counts(db)
    for path, node in COMMAND.walk():
        for word in ("help", "?"):
            reply = await run(db, ctx, admin, f"{title(path)} {word}")
            assert reply.ok, (path, reply.text)
            assert reply.blocks[0] == Header(title(path))
            assert node.summary in reply.text
            for line in node.all_usage:
                assert line in reply.text, (path, line)
    # `/kudos values add help` is the help, not a new value called "Help".
    assert await _counts(db) == before


async def test_the_old_usage_lines_are_declared() -> None:
    for line in (
        "/kudos @person [@person2 ...] [#value] MESSAGE",
        "/kudos top [week|month|quarter]",
        "/kudos mine",
        "/kudos values",
    ):
        assert line in COMMAND.all_usage
    assert "/kudos values add NAME   (admins)" in COMMAND.all_usage
    assert "/kudos values remove NAME   (admins)" in COMMAND.all_usage
    # The Slack usage hint is the first line: it stays the form that gives kudos.
    assert COMMAND.all_usage[0] == "/kudos @person [@person2 ...] [#value] MESSAGE"


async def test_words_that_fit_no_form_change_nothing(db: Database, ctx: HandlerContext) -> None:
    c = await crew(db)
    before = await _counts(db)
    dance = await run(db, ctx, c.sam, "/kudos dance now")
    assert not dance.ok
    assert "Start with the person to recognise" in dance.text
    assert "Usage:" in dance.text
    for usage in COMMAND.all_usage:
        assert usage in dance.text
    values = COMMAND.child("values")
    assert values is not None
    extra = await run(db, ctx, c.sam, "/kudos values dance")
    assert not extra.ok
    assert "I didn't understand 'dance'." in extra.text
    for usage in values.all_usage:
        assert usage in extra.text
    assert await _counts(db) == before


async def test_plain_kudos_and_values_list_are_their_lists(
    db: Database, ctx: HandlerContext
) -> None:
    c = await crew(db)
    assert (await run(db, ctx, c.sam, "/kudos")).text == (
        await run(db, ctx, c.sam, "/kudos recent")
    ).text
    assert (await run(db, ctx, c.sam, "/kudos values")).text == (
        await run(db, ctx, c.sam, "/kudos values list")
    ).text
