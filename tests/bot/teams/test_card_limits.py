"""Every command of the registry, on a big center (60 agents, a year of KPIs, 1:1s, action
items and kudos for all of them), as an admin, a manager, a lead and an agent: every card
Teams would get is under its 28 KB limit (the card under CARD_BUDGET, the whole activity
under 28 KB), and a reply that needs several cards shows each of its table rows and facts
exactly once across its pages."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from sqlmodel import select

from bot.teams import cards, outbound
from bot.teams.cards import Pager, markdown, render_pages
from bot.teams.paging import Typed, pager_data
from bot.teams.refs import ConversationRef
from domain.types import Fields, Reply, Table
from handlers.core.context import CommandSpec, HandlerContext
from handlers.core.dispatch import run_command
from handlers.registry import build_registry
from storage.models import ActionItem
from tests.bot.teams import fakes
from tests.bot.teams.big_center import Center, lines_for, seed_center
from tests.conftest import FakeClock, command, fresh_store, make_ctx

pytestmark = pytest.mark.asyncio(loop_scope="module")

LIMIT = 28 * 1024  # Teams answers 413 past this

COMMANDS = build_registry().commands
# The forms whose replies may page: a More press runs the line again, so it must not
# change anything. A form that changes data and pages fails the sweep below.
READ_ONLY = (
    "/stats",
    "/goal list",
    "/kudos top",
    "/kudos mine",
    "/kudos values",
    "/1on1",
    "/1on1 list",
    "/1on1 prep",
    "/action list",
    "/action show",
    "/pulse status",
    "/pulse results",
    "/pulse mine",
    "/leadbot",
    "/leadbot help",
    "/leadbot whoami",
    "/leadbot home",
    "/leadbot team list",
)
# A long Teams address, as a real reply's envelope would carry.
REF = ConversationRef(
    service_url="https://smba.trafficmanager.net/emea/72f988bf-86f1-41af-91ab-2d7cd011db47/",
    tenant_id=fakes.TENANT,
    conversation_id="a:1" + "x" * 180,
    user_id="29:1" + "y" * 120,
    aad_object_id=fakes.aad(1),
    bot_id=fakes.BOT_ID,
    bot_name=fakes.BOT_NAME,
)


@dataclass
class World:
    ctx: HandlerContext
    center: Center
    ids: dict[str, str]
    paged: dict[str, int]  # line -> pages, for every reply that needed several


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world() -> AsyncIterator[World]:
    async with fresh_store("sqlite") as db:
        ctx = make_ctx(db, FakeClock(dt.datetime(2026, 11, 17, 10, 0, tzinfo=dt.UTC)))
        center = await seed_center(ctx)
        async with db.session() as s:
            first = (await s.execute(select(ActionItem.id))).scalars().first()
        yield World(ctx, center, {"action": str(first)}, {})


def sent_size(reply: Reply, pager: Pager | None, page: int) -> int:
    """The bytes of the activity the connector client posts for this page."""
    activity = outbound.message_activity(reply, pager=pager, page=page)
    activity = outbound.addressed(activity, REF, REF.conversation_id or "")
    activity.reply_to_id = "1700000000000"
    body = activity.model_dump(by_alias=True, exclude_unset=True, mode="json")
    return len(json.dumps(body))


def expected_rows(reply: Reply) -> list[list[str]]:
    rows: list[list[str]] = []
    for block in reply.blocks:
        if isinstance(block, Table):
            n = len(block.columns)
            for row in block.rows:
                cells = (tuple(row) + ("",) * n)[:n]
                rows.append(
                    [cards._clip_bytes(markdown(c), cards.CELL_BYTES) or " " for c in cells]
                )
    return rows


def expected_facts(reply: Reply) -> list[str]:
    return [k for block in reply.blocks if isinstance(block, Fields) for k, _v in block.pairs]


def shown_rows(pages: list[dict[str, Any]]) -> list[list[str]]:
    rows: list[list[str]] = []
    for card in pages:
        for element in card["body"]:
            if element["type"] != "Table":
                continue
            body = element["rows"][1:] if element["firstRowAsHeader"] else element["rows"]
            rows.extend([c["items"][0]["text"] for c in r["cells"]] for r in body)
    return rows


def shown_facts(pages: list[dict[str, Any]]) -> list[str]:
    return [
        f["title"]
        for card in pages
        for element in card["body"]
        if element["type"] == "FactSet"
        for f in element["facts"]
    ]


def check(line: str, reply: Reply, pager: Pager, paged: dict[str, int]) -> None:
    pages = render_pages(reply, pager=pager)
    for n, card in enumerate(pages, start=1):
        size = len(json.dumps(card))
        assert size < LIMIT, (line, n, size)
        assert sent_size(reply, pager, n) < LIMIT, (line, n)
    assert shown_rows(pages) == expected_rows(reply), line
    assert shown_facts(pages) == expected_facts(reply), line
    if len(pages) > 1:
        paged[line] = len(pages)
        assert line.startswith(READ_ONLY), f"{line!r} pages but may change data"
        more = [
            a
            for card in pages[:-1]
            for e in card["body"]
            if e["type"] == "ActionSet"
            for a in e["actions"]
            if a["data"].get(cards.ACTION_KEY) == cards.PAGE_ACTION
            and a["title"].startswith("More")
        ]
        assert [a["data"][cards.PAGE_KEY] for a in more] == list(range(2, len(pages) + 1))


@pytest.mark.parametrize("spec", COMMANDS, ids=[c.verb for c in COMMANDS])
async def test_every_form_of_every_command_fits_teams(world: World, spec: CommandSpec) -> None:
    lines = lines_for(spec, world.center, world.ids)
    assert lines
    for line in lines:
        for who, actor in world.center.actors().items():
            cmd = await command(world.ctx.db, actor, line)
            reply = await run_command(cmd, world.ctx)
            pager = Pager(pager_data(Typed(line), world.center.team.id, "s"))
            try:
                check(line, reply, pager, world.paged)
            except AssertionError as exc:
                raise AssertionError(f"{who}: {exc}") from exc


async def test_the_sweep_paged_the_big_tables(world: World) -> None:
    """The sweep above is only worth something if the big replies did page."""
    assert world.paged.get("/stats aht week", 0) >= 2, world.paged  # the case Teams refused
    for verb in ("/action ", "/1on1"):
        assert any(line.startswith(verb) for line in world.paged), (verb, world.paged)
