"""`/stats METRIC chart` in Teams: a native Chart.Line with a table fallback and its alt
text, valid by the card schema, under the 28 KB limit for every period on a big center
(60 agents, a year of KPIs), for every role."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from bot.teams import cards, outbound
from bot.teams.cards import Pager, chart_element, render_pages
from bot.teams.paging import Typed, pager_data
from domain.types import Chart, ChartSeries, Reply, Table
from handlers.core.context import HandlerContext
from handlers.core.dispatch import run_command
from tests.bot.teams.big_center import LAST_DAY, YEAR, Center, handle, seed_center
from tests.bot.teams.card_schema import card_errors, element_errors
from tests.bot.teams.test_card_limits import LIMIT, REF
from tests.conftest import FakeClock, command, fresh_store, make_ctx

pytestmark = pytest.mark.asyncio(loop_scope="module")

PERIODS = ("", "week", "month", "30d", YEAR, f"{LAST_DAY - dt.timedelta(days=91)}..{LAST_DAY}")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def center() -> AsyncIterator[tuple[HandlerContext, Center]]:
    async with fresh_store("sqlite") as db:
        ctx = make_ctx(db, FakeClock(dt.datetime(2026, 11, 17, 10, 0, tzinfo=dt.UTC)))
        yield ctx, await seed_center(ctx)


def _sent(reply: Reply, pager: Pager) -> int:
    activity = outbound.message_activity(reply, pager=pager, page=1)
    activity = outbound.addressed(activity, REF, REF.conversation_id or "")
    body = activity.model_dump(by_alias=True, exclude_unset=True, mode="json")
    return len(json.dumps(body))


def _charts(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in card["body"] if str(e["type"]).startswith("Chart.")]


async def test_every_period_and_role_fits_and_validates(
    center: tuple[HandlerContext, Center],
) -> None:
    ctx, c = center
    lines = [f"/stats {m} chart {p}".strip() for m in ("aht", "csat", "sl") for p in PERIODS]
    lines += [f"/stats team {c.team.name} fcr chart {YEAR}", f"/stats me aht chart {YEAR}"]
    lines += [f"/stats {handle(c.agents[-1])} aht chart {YEAR}"]
    drawn = 0
    for line in lines:
        for who, actor in c.actors().items():
            reply = await run_command(await command(ctx.db, actor, line), ctx)
            pager = Pager(pager_data(Typed(line), c.team.id, "s"))
            pages = render_pages(reply, pager=pager)
            for card in pages:
                assert card_errors(card) == [], (who, line)
                assert len(json.dumps(card)) < cards.CARD_BUDGET, (who, line)
            assert _sent(reply, pager) < LIMIT, (who, line)
            if any(isinstance(b, Chart) for b in reply.blocks):
                [chart] = _charts(pages[0])
                assert chart["type"] == "Chart.Line"
                assert chart["fallback"]["type"] == "Container"
                drawn += 1
    assert drawn >= len(lines) * 2  # the lead's and the manager's at least


async def test_the_card_carries_the_figures_alt_text_and_goal(
    center: tuple[HandlerContext, Center],
) -> None:
    ctx, c = center
    reply = await run_command(await command(ctx.db, c.lead, "/stats aht chart month"), ctx)
    [block] = [b for b in reply.blocks if isinstance(b, Chart)]
    [card] = render_pages(reply)
    [chart] = _charts(card)
    line, *goal = chart["data"]
    values = [v for v in block.series[0].values if v is not None]
    assert [p["y"] for p in line["values"]] == values
    assert [p["x"] for p in line["values"]][-1] == block.labels[-1]
    if block.goal is not None:
        [g] = goal
        assert {p["y"] for p in g["values"]} == {block.goal}
    assert chart["yAxisTitle"] == "seconds"
    texts = [e.get("text", "") for e in card["body"]]
    assert block.alt_text in texts  # under the chart, for screen readers
    fallback = json.dumps(chart["fallback"], ensure_ascii=False)
    assert block.table is not None
    for row in block.table.rows:
        assert row[1] in fallback


async def test_a_huge_chart_is_bounded_and_its_fallback_says_what_was_cut() -> None:
    n = 400
    labels = tuple(f"label number {i:04d} with some length" for i in range(n))
    values = tuple(float(i) for i in range(n))
    table = Table(
        ("label", "value"), tuple((lab, f"{v:.0f}") for lab, v in zip(labels, values, strict=True))
    )
    chart = Chart(
        "line",
        "t" * 5000,
        labels,
        (ChartSeries("s", values, tuple(str(v) for v in values)),),
        goal=10.0,
        goal_text="≥ 10",
        goal_above=True,
        table=table,
    )
    element = chart_element(chart)  # 400 points: too many for a card, so the table alone
    assert element_errors(element) == []
    assert element["type"] == "Container"
    assert len(json.dumps(element)) <= cards.CHART_BYTES
    assert "more rows not shown" in json.dumps(element)
    few = chart_element(
        Chart(
            **{
                **chart.__dict__,
                "labels": labels[:60],
                "series": (ChartSeries("s", values[:60], tuple(str(v) for v in values[:60])),),
            }
        )
    )
    assert few["type"] == "Chart.Line"  # 60 points fit; the 400-row fallback is cut
    assert len(json.dumps(few)) <= cards.CHART_BYTES
    assert "more rows not shown" in json.dumps(few["fallback"])
    bar = chart_element(
        Chart("bar", "bars", ("a", "b"), (ChartSeries("s", (1.0, None), ("1", "")),))
    )
    assert bar["type"] == "Chart.VerticalBar"
    assert bar["data"] == [{"x": "a", "y": 1.0, "color": cards.CHART_LINE_COLOR}]
    assert element_errors(bar) == []


async def test_the_schema_check_catches_what_teams_would_refuse() -> None:
    bad = {
        "type": "Chart.Line",
        "data": [{"legend": "x", "color": "hotpink", "values": [{"x": "a", "y": "1"}]}],
        "colour": "x",
    }
    errors = element_errors(bad)
    assert any("hotpink" in e for e in errors)
    assert any("y number" in e for e in errors)
    assert any("unknown property colour" in e for e in errors)
    assert element_errors({"type": "Chart.Pizza"}) == ["body: unknown element type 'Chart.Pizza'"]
