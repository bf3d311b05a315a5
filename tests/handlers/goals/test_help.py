"""/goal help at every level, from the declaration; an unknown sub-command's error."""

from __future__ import annotations

import pytest

from handlers.core.context import HandlerContext
from handlers.goals import COMMAND
from tests.handlers.goals.helpers import active, run
from tests.handlers.stats.world import make_world

NODES = {" ".join(path): node for path, node in COMMAND.walk()}


@pytest.mark.parametrize("path", list(NODES))
@pytest.mark.parametrize("word", ["help", "?"])
async def test_every_node_answers_help_with_its_usage(
    ctx: HandlerContext, path: str, word: str
) -> None:
    w = await make_world(ctx.db)
    ok, text = await run(ctx, w.ann, f"/{path} {word}")
    assert ok, text
    assert NODES[path].summary in text
    for line in NODES[path].all_usage:
        assert line in text


@pytest.mark.parametrize(
    ("alias", "verb"), [("ls", "list"), ("rm", "clear"), ("remove", "clear"), ("delete", "clear")]
)
async def test_aliases_answer_their_sub_commands_help(
    ctx: HandlerContext, alias: str, verb: str
) -> None:
    w = await make_world(ctx.db)
    ok, text = await run(ctx, w.lead, f"/goal {alias} help")
    assert ok
    assert text.startswith(f"/goal {verb}: ")


def test_the_old_usage_lines_are_all_declared() -> None:
    assert set(COMMAND.all_usage) == {
        "/goal set METRIC OP TARGET [daily|weekly|monthly] [team NAME]",
        "/goal list [team NAME]",
        "/goal clear METRIC [daily|weekly|monthly] [team NAME]",
        "OP: >= <= > <   TARGET: 300s, 5:00, 5m, 90%, +30",
    }
    assert COMMAND.all_usage[0].startswith("/goal set ")  # the Slack usage hint


@pytest.mark.parametrize("line", ["/goal frobnicate", "/goal team Billing", "/goal aht <= 300s"])
async def test_an_unknown_sub_command_gets_the_standard_error(
    ctx: HandlerContext, line: str
) -> None:
    w = await make_world(ctx.db)
    before = [(g.id, g.target, g.active) for g in await active(ctx, w)]
    ok, text = await run(ctx, w.lead, line)
    assert not ok
    rest = line.removeprefix("/goal ")
    assert f"I don't know `/goal {rest}`. Say `set`, `list` or `clear`." in text
    assert "Usage:\n" + COMMAND.usage_text in text
    assert [(g.id, g.target, g.active) for g in await active(ctx, w)] == before
