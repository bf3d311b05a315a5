"""`/pulse ... help` at every level answers from the declaration, and a word that is no
sub-command of `/pulse` gets the standard error with the usage, changing nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from handlers.core.context import HandlerContext
from handlers.core.dispatch import error_reply, unknown_subcommand
from handlers.pulse import COMMAND
from storage.db import Database
from tests.handlers.pulse.helpers import make_crew, run

NODES = list(COMMAND.walk())


async def counts(db: Database) -> dict[str, int]:
    async with db.engine.connect() as conn:
        return {
            t.name: int(
                (await conn.execute(sa.select(sa.func.count()).select_from(t))).scalar_one()
            )
            for t in SQLModel.metadata.sorted_tables
        }


def test_every_sub_command_is_declared() -> None:
    assert [c.verb for c in COMMAND.subcommands] == [
        "status",
        "schedule",
        "now",
        "question",
        "enps",
        "results",
        "mine",
    ]
    assert all(node.handler is not None for _, node in NODES)


@pytest.mark.parametrize("path", [p for p, _ in NODES], ids=" ".join)
async def test_help_at_every_level(
    db: Database, ctx: HandlerContext, path: tuple[str, ...]
) -> None:
    node = dict(NODES)[path]
    crew = await make_crew(db, "Billing", 2)
    before = await counts(db)
    for who in (crew.lead, crew.agents[0]):
        reply = await run(db, ctx, who, "/" + " ".join((*path, "help")))
        assert reply.ok, reply.text
        assert reply.text.startswith(f"/{' '.join(path)}: {node.summary}")
        assert node.all_usage
        for line in node.all_usage:
            assert line in reply.text
    assert await counts(db) == before


async def test_root_help_keeps_every_usage_line_in_order(db: Database, ctx: HandlerContext) -> None:
    crew = await make_crew(db, "Billing", 1)
    reply = await run(db, ctx, crew.lead, "/pulse help")
    assert reply.text.splitlines()[1:] == [
        "/pulse status [team NAME]",
        "/pulse schedule weekly|biweekly|monthly [DAY] [HH:MM] [team NAME]",
        "/pulse schedule off [team NAME]",
        "/pulse now [team NAME]",
        '/pulse question "TEXT" [team NAME]   (or `default`)',
        "/pulse enps on|off [team NAME]",
        "/pulse results [weeks N] [team NAME]",
        "/pulse mine",
    ]


@pytest.mark.parametrize("line", ["/pulse dance", "/pulse team Billing", "/pulse Now-ish 5"])
async def test_unknown_sub_command_gets_the_standard_error(
    db: Database, ctx: HandlerContext, line: str
) -> None:
    crew = await make_crew(db, "Billing", 2)
    before = await counts(db)
    reply = await run(db, ctx, crew.lead, line)
    assert not reply.ok
    rest = line.removeprefix("/pulse ")
    expected = error_reply(
        unknown_subcommand(("pulse",), COMMAND, rest).message, COMMAND.usage_text
    )
    assert reply.text == expected.text
    assert reply.text.startswith(f"I don't know `/pulse {rest}`. Say `status`, `schedule`,")
    assert "Usage" in reply.text
    assert await counts(db) == before


async def test_pulse_alone_is_status(db: Database, ctx: HandlerContext) -> None:
    crew = await make_crew(db, "Billing", 2)
    alone = await run(db, ctx, crew.lead, "/pulse")
    status = await run(db, ctx, crew.lead, "/pulse status")
    assert alone.ok
    assert alone.to_json() == status.to_json()
