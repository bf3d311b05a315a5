"""/stats help at every level, from the declaration; words that are no sub-command."""

from __future__ import annotations

import pytest

from handlers.core.context import HandlerContext
from handlers.stats import COMMAND
from storage import goals, kpis
from tests.handlers.stats.world import make_world, run, text_of

NODES = [" ".join(path) for path, _ in COMMAND.walk()]


@pytest.mark.parametrize("path", NODES)
@pytest.mark.parametrize("word", ["help", "?"])
async def test_every_node_answers_help_with_its_usage(
    ctx: HandlerContext, path: str, word: str
) -> None:
    w = await make_world(ctx.db)
    node = dict((" ".join(p), n) for p, n in COMMAND.walk())[path]
    reply = await run(ctx, w.ann, f"/{path} {word}")
    assert reply.ok, text_of(reply)
    assert node.summary in reply.text
    for line in node.all_usage:
        assert line in reply.text


def test_the_old_usage_lines_are_all_declared() -> None:
    assert set(COMMAND.all_usage) >= {
        "/stats [PERIOD]                       your team (leads, managers); your own (agents)",
        "/stats me [METRIC] [PERIOD]",
        "/stats @person [METRIC] [PERIOD]",
        "/stats team NAME [METRIC] [PERIOD]",
        "/stats METRIC [PERIOD]                every agent on one metric, best first",
        "PERIOD: today | yesterday | week | month | 30d | YYYY-MM-DD[..YYYY-MM-DD]",
    }
    assert [n.verb for n in COMMAND.subcommands] == ["me", "team", "chart"]


@pytest.mark.parametrize(
    ("line", "node"), [("/stats frobnicate", ()), ("/stats me frobnicate", ("me",))]
)
async def test_an_unknown_word_lists_metrics_and_periods_with_the_usage(
    ctx: HandlerContext, line: str, node: tuple[str, ...]
) -> None:
    # Every /stats node takes a metric or a period, so no node fits sub-commands only: an
    # unknown word keeps its message naming the metrics and periods, with the usage.
    w = await make_world(ctx.db)
    assert w.billing.id
    before = (
        await kpis.count_values(ctx.db),
        await goals.list_goals(ctx.db, team_ids=[w.billing.id]),
    )
    reply = await run(ctx, w.lead, line)
    assert not reply.ok
    text = text_of(reply)
    assert "I don't know 'frobnicate'. Metrics: " in text
    assert "Periods: " in text
    here = COMMAND if not node else COMMAND.child(node[0])
    assert here is not None
    assert "Usage:\n" + here.usage_text in reply.text
    after = (
        await kpis.count_values(ctx.db),
        await goals.list_goals(ctx.db, team_ids=[w.billing.id]),
    )
    assert after == before
