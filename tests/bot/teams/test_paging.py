"""Long replies page on Teams: the card shows what fits, and More (an Action.Execute
carrying the command line and the page) runs the line again as whoever pressed and
answers with the next page, in place. Proactive messages page from their stored payload,
for their recipient only."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.teams.agent import TeamsAgent
from bot.teams.cards import ACTION_KEY, PAGE_ACTION, PAGE_KEY, VALUE_KEY, render_pages
from bot.teams.paging import TEAM_KEY, Typed, pager_data, sign_team
from bot.teams.refs import ConversationRef
from bot.teams.sender import TeamsSender
from domain.roles import Role
from domain.types import Header, Reply, Table, Visibility
from handlers.core.context import HandlerContext
from handlers.core.dispatch import run_command
from jobs.dispatcher import Dispatcher, DispatcherConfig
from storage import outbox, people
from storage import teams as teams_store
from storage.db import Database
from storage.models import Person, utcnow
from storage.outbox import OutboxNew
from tests.bot.teams import fakes
from tests.bot.teams.big_center import Center, seed_center
from tests.bot.teams.test_agent import UPDATES, cards_of, invoke_body, run_turn
from tests.bot.teams.test_card_limits import expected_rows, shown_rows
from tests.conftest import FakeClock, command

LIMIT = 28 * 1024


@pytest.fixture
def agent(ctx: HandlerContext) -> TeamsAgent:
    return TeamsAgent(ctx, fetch_members=False)


async def on_teams(db: Database, p: Person, n: int) -> None:
    assert p.id is not None
    await teams_store.link_person(db, person_id=p.id, teams_user_id=fakes.aad(n))


async def big(ctx: HandlerContext, agents: int = 60) -> Center:
    center = await seed_center(ctx, agents=agents, days=14, extras=False)
    await on_teams(ctx.db, center.lead, 1)
    await on_teams(ctx.db, center.agents[0], 5)
    await on_teams(ctx.db, center.manager, 6)
    return center


def more_of(card: dict[str, Any], title: str = "More") -> dict[str, Any] | None:
    for element in card["body"]:
        if element["type"] != "ActionSet":
            continue
        for action in element["actions"]:
            if action["data"].get(ACTION_KEY) == PAGE_ACTION and action["title"].startswith(title):
                assert action["type"] == "Action.Execute"
                assert action["fallback"]["data"] == action["data"]
                return dict(action["data"])
    return None


async def press(agent: TeamsAgent, data: dict[str, Any], user: int, **kw: Any) -> dict[str, Any]:
    body = invoke_body(await run_turn(agent, fakes.invoke(data, user=user, **kw)))
    assert body["type"] == "application/vnd.microsoft.card.adaptive", body
    card = body["value"]
    assert isinstance(card, dict)
    return card


def names(center: Center) -> list[str]:
    return [a.display_name for a in center.agents]


async def test_more_walks_every_page_in_place_and_shows_every_row_once(
    ctx: HandlerContext, agent: TeamsAgent
) -> None:
    center = await big(ctx)
    reply = await run_command(await command(ctx.db, center.lead, "/stats aht week"), ctx)
    first = cards_of(await run_turn(agent, fakes.message("stats aht week", user=1)))
    assert len(first) == 1
    pages = [first[0]]
    while (data := more_of(pages[-1])) is not None:
        assert data[PAGE_KEY] == len(pages) + 1
        pages.append(await press(agent, data, user=1))
        assert len(pages) < 10
    assert len(pages) >= 2
    assert all(len(json.dumps(p)) < LIMIT for p in pages)
    assert shown_rows(pages) == expected_rows(reply)
    assert len(shown_rows(pages)) == sum(len(b.rows) for b in reply.blocks if isinstance(b, Table))
    # Each page carries the title; Previous goes back to the same first page.
    title = next(b for b in reply.blocks if isinstance(b, Header)).text
    assert all(p["body"][0]["text"] == title for p in pages)
    back = more_of(pages[1], "Previous")
    assert back is not None
    assert back[PAGE_KEY] == 1
    assert (await press(agent, back, user=1))["body"] == pages[0]["body"]


async def test_more_checks_the_role_of_whoever_presses_now(
    ctx: HandlerContext, agent: TeamsAgent
) -> None:
    center = await big(ctx)
    first = cards_of(await run_turn(agent, fakes.message("stats aht week", user=1)))[0]
    data = more_of(first)
    assert data is not None
    assert any(n in json.dumps(first) for n in names(center))
    # Another agent pressing the lead's button: their own view, not the team's rows.
    theirs = await press(agent, data, user=5)
    assert not any(n in json.dumps(theirs) for n in names(center)[1:])
    # The lead, moved to agent since: the team's rows are gone for her too.
    assert center.lead.id is not None
    assert center.team.id is not None
    await people.assign_member(
        ctx.db, person_id=center.lead.id, team_id=center.team.id, role=Role.agent
    )
    now = await press(agent, data, user=1)
    assert not any(n in json.dumps(now) for n in names(center))


async def test_the_line_is_only_typed_text(ctx: HandlerContext, agent: TeamsAgent) -> None:
    """What a More button carries is the client's to forge: it is parsed like a message
    the presser typed, nothing more."""
    center = await big(ctx)
    base = {ACTION_KEY: PAGE_ACTION, VALUE_KEY: "", PAGE_KEY: 2}
    garbage = await press(agent, {**base, "line": 5}, user=1)
    assert "no longer valid" in garbage["fallbackText"]
    bad_mentions = await press(agent, {**base, "line": "stats", "mentions": [["x"]]}, user=1)
    assert "no longer valid" in bad_mentions["fallbackText"]
    # A page past the last shows the last.
    beyond = await press(agent, {**base, "line": "stats aht week", PAGE_KEY: 99}, user=1)
    assert more_of(beyond) is None
    assert more_of(beyond, "Previous") is not None
    # An agent typing the lead's line gets what an agent gets.
    agent_view = await press(agent, {**base, "line": "stats aht week", PAGE_KEY: 1}, user=5)
    assert not any(n in json.dumps(agent_view) for n in names(center)[1:])


async def test_a_private_answer_pages_from_the_1_1_chat_for_the_channel_s_team(
    ctx: HandlerContext, agent: TeamsAgent
) -> None:
    """A channel question answered privately: More is pressed in the 1:1 chat, so the
    channel's team travels with the line, signed; a forged team is ignored."""
    center = await big(ctx)
    # Mona manages Billing (the big team) but her home team is Tech Support.
    assert center.manager.id is not None
    assert center.other.id is not None
    assert center.team.id is not None
    await people.upsert_person(
        ctx.db,
        email=center.manager.email,
        display_name=center.manager.display_name,
        role=Role.manager,
        team_id=center.other.id,
    )
    await people.assign_member(
        ctx.db, person_id=center.manager.id, team_id=center.team.id, role=Role.manager
    )
    secret = ctx.settings.secret
    line = Typed("stats aht week")
    base = {ACTION_KEY: PAGE_ACTION, VALUE_KEY: "", PAGE_KEY: 2}
    signed = await press(agent, {**base, **pager_data(line, center.team.id, secret)}, user=6)
    assert any(n in json.dumps(signed) for n in names(center))
    assert "Billing" in signed["body"][0]["text"]
    forged = {**base, **pager_data(line, None, secret), TEAM_KEY: f"{center.team.id}.00ff"}
    unsigned = await press(agent, forged, user=6)
    assert "Billing" not in unsigned["body"][0]["text"]
    assert sign_team(secret, center.team.id) != forged[TEAM_KEY]


async def test_the_submit_fallback_of_more_updates_the_card_in_place(
    ctx: HandlerContext, agent: TeamsAgent
) -> None:
    await big(ctx)
    first = cards_of(await run_turn(agent, fakes.message("stats aht week", user=1)))[0]
    data = more_of(first)
    assert data is not None
    raw = fakes.message("", user=1, value=data)
    raw["replyToId"] = "card-1"
    sent = await run_turn(agent, raw)
    assert cards_of(sent) == []
    [updated] = UPDATES
    assert updated.id == "card-1"
    assert updated.attachments is not None
    card = updated.attachments[0].content
    assert isinstance(card, dict)
    assert more_of(card, "Previous") is not None


async def test_a_long_proactive_message_pages_for_its_recipient_only(
    db: Database, ctx: HandlerContext, agent: TeamsAgent, clock: FakeClock
) -> None:
    center = await big(ctx, agents=12)
    rows = tuple((f"Agent {i}", f"callback {i}: " + "refund confirmed " * 6) for i in range(300))
    reply = Reply(
        blocks=[Header("Open callbacks"), Table(("owner", "what"), rows)],
        text="Open callbacks",
        visibility=Visibility.ephemeral,
    )
    fake = fakes.FakeConnector()
    url = await fake.start()
    sender = TeamsSender(db)
    try:
        ref = ConversationRef(
            service_url=url,
            tenant_id=fakes.TENANT,
            conversation_id="a:personal-1",
            user_id=fakes.user_id(1),
            aad_object_id=fakes.aad(1),
            bot_id=fakes.BOT_ID,
        )
        assert center.lead.id is not None
        await teams_store.link_person(
            db, person_id=center.lead.id, teams_user_id=fakes.aad(1), conversation_ref=ref.to_json()
        )
        await outbox.enqueue(
            db,
            messages=[
                OutboxNew(dedupe_key="long:1", payload=reply.to_json(), person_id=center.lead.id)
            ],
        )
        clock.set(utcnow())
        clock.advance(seconds=1)
        await Dispatcher(
            db, {"teams": sender}, config=DispatcherConfig(batch_size=1), clock=clock
        ).drain()
    finally:
        await sender.close()
        await fake.close()
    [posted] = fake.cards()
    assert len(json.dumps(posted)) < LIMIT
    pages = [posted]
    while (data := more_of(pages[-1])) is not None:
        pages.append(await press(agent, data, user=1))
    assert len(pages) == len(render_pages(reply)) >= 2
    assert shown_rows(pages) == expected_rows(reply)
    # Someone else pressing the same button sees nothing of it.
    data = more_of(posted)
    assert data is not None
    other = await press(agent, data, user=5)
    assert "no longer available" in other["fallbackText"]
    assert "callback" not in json.dumps(other)


@pytest.mark.parametrize("agents", [12, 24, 60])
async def test_stats_aht_week_fits_for_teams_of_every_size(
    ctx: HandlerContext, agents: int
) -> None:
    center = await seed_center(ctx, agents=agents, days=14, extras=False)
    reply = await run_command(await command(ctx.db, center.lead, "/stats aht week"), ctx)
    pages = render_pages(reply, pager=None)
    sizes = [len(json.dumps(p)) for p in pages]
    print(f"/stats aht week, {agents} agents: {sizes} bytes")
    assert all(s < LIMIT for s in sizes)
    assert shown_rows(pages[:1]) == expected_rows(reply)[: len(shown_rows(pages[:1]))]
    # Without a pager nothing past the first page can be reached: it says so.
    if len(pages) > 1:
        assert "did not fit" in json.dumps(pages[0])


async def test_in_a_channel_a_private_page_never_replaces_the_shared_card(
    ctx: HandlerContext, agent: TeamsAgent
) -> None:
    """A card in a channel is seen by everyone: More pressed there by someone whose view
    is private (a lead's team figures) must not put that view on the shared card."""
    center = await big(ctx)
    data = {
        ACTION_KEY: PAGE_ACTION,
        VALUE_KEY: "",
        PAGE_KEY: 2,
        **pager_data(Typed("stats aht week"), None, ctx.settings.secret),
    }
    raw = fakes.invoke(data, user=1, conversation_type="channel")
    body = invoke_body(await run_turn(agent, raw))
    assert body["type"] == "application/vnd.microsoft.activity.message"
    assert not any(n in json.dumps(body) for n in names(center))
    # The Action.Submit fallback in the channel: no card updated in place either.
    sub = fakes.message("", user=1, conversation_type="channel", value=data)
    sub["replyToId"] = "card-1"
    sent = await run_turn(agent, sub)
    assert UPDATES == []
    assert not any(n in json.dumps(cards_of(sent)) for n in names(center))
