"""The Teams turn handler through the Agents SDK's TestAdapter: every registered command
answers on Teams as on the console, mentions resolve, channels strip the bot's mention,
card actions run the same handlers, and references are stored for proactive messages."""

from __future__ import annotations

import json
from typing import Any

import pytest
from microsoft_agents.activity import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ChannelId,
    ConversationAccount,
    ConversationReference,
    ResourceResponse,
)
from microsoft_agents.hosting.core import ClaimsIdentity, TurnContext
from microsoft_agents.testing import TestAdapter
from sqlmodel import select

from bot.render_text import inline
from bot.teams.agent import TeamsAgent
from bot.teams.cards import CARD_CONTENT_TYPE
from bot.teams.refs import ConversationRef
from domain.roles import Role
from handlers.core.context import HandlerContext
from handlers.core.dispatch import run_command
from handlers.registry import build_registry
from storage import people
from storage import teams as teams_store
from storage.db import Database
from storage.models import OutboxMessage, Person, ProcessedEvent, PulseResponse, Recognition
from tests.bot.teams import fakes
from tests.conftest import command, make_person, make_team

COMMANDS = build_registry().commands


class RecordingAdapter(TestAdapter):
    """The SDK's TestAdapter, also keeping the card updates (replace in place)."""

    __test__ = False

    def __init__(self, *, conversation: ConversationReference) -> None:
        super().__init__(conversation=conversation)
        self.updated: list[Activity] = []

    async def update_activity(  # type: ignore[override]
        self, context: TurnContext, activity: Activity
    ) -> ResourceResponse:
        self.updated.append(activity)
        return ResourceResponse(id=activity.id or "")


UPDATES: list[Activity] = []


async def run_turn(agent: TeamsAgent, raw: dict[str, Any]) -> list[Activity]:
    """Feed one activity (as Teams sends it) through the SDK's TestAdapter."""
    activity = Activity.model_validate(raw)
    assert activity.conversation is not None
    conv = activity.conversation
    ref = ConversationReference(
        channel_id=ChannelId("msteams"),
        service_url=activity.service_url,
        user=activity.from_property,
        agent=activity.recipient,
        conversation=ConversationAccount(
            id=conv.id,
            conversation_type=conv.conversation_type,
            tenant_id=conv.tenant_id,
            is_group=bool(conv.is_group),
        ),
        locale="en-GB",
    )
    adapter = RecordingAdapter(conversation=ref)
    original_id = activity.id

    async def turn(context: TurnContext) -> None:
        # The TestAdapter numbers activities itself; Teams' own ids matter for re-sends.
        context.activity.id = original_id
        await agent.on_turn(context)

    await adapter.process_activity(ClaimsIdentity({}), activity, turn)
    UPDATES[:] = adapter.updated
    return adapter.get_activity_snapshot()


def cards_of(sent: list[Activity]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for act in sent:
        if act.type != ActivityTypes.message:
            continue
        for a in act.attachments or []:
            if a.content_type == CARD_CONTENT_TYPE and isinstance(a.content, dict):
                out.append(a.content)
    return out


def invoke_body(sent: list[Activity]) -> dict[str, Any]:
    responses = [a for a in sent if a.type == ActivityTypes.invoke_response]
    assert len(responses) == 1, sent
    value = responses[0].value
    assert isinstance(value, dict)
    assert value["status"] == 200
    body = value["body"]
    assert isinstance(body, dict)
    return body


async def on_teams(db: Database, p: Person, n: int) -> None:
    assert p.id is not None
    await teams_store.link_person(db, person_id=p.id, teams_user_id=fakes.aad(n))


@pytest.fixture
def agent(ctx: HandlerContext) -> TeamsAgent:
    return TeamsAgent(ctx, fetch_members=False)


@pytest.mark.parametrize(
    "spec", build_registry().commands, ids=[c.verb for c in build_registry().commands]
)
async def test_every_command_answers_on_teams_as_on_the_console(
    spec: Any, db: Database, ctx: HandlerContext, agent: TeamsAgent
) -> None:
    team = await make_team(db)
    lead = await make_person(db, "lena.lead", role=Role.lead, team=team)
    await make_person(db, "maria.lopez", team=team)
    await on_teams(db, lead, 1)
    console = await run_command(await command(db, lead, f"/{spec.verb}"), ctx)

    sent = await run_turn(agent, fakes.message(spec.verb, user=1, name="Lena Lead"))

    cards = cards_of(sent)
    assert len(cards) == 1
    assert cards[0]["version"] == "1.5"
    assert cards[0]["fallbackText"] == inline(console.fallback)
    assert cards[0]["fallbackText"].strip()


async def test_a_leading_slash_and_help_word_are_understood(
    db: Database, ctx: HandlerContext, agent: TeamsAgent
) -> None:
    team = await make_team(db)
    lead = await make_person(db, "lena.lead", role=Role.lead, team=team)
    await on_teams(db, lead, 1)
    help_card = cards_of(await run_turn(agent, fakes.message("help", user=1)))[0]
    slash_card = cards_of(await run_turn(agent, fakes.message("/leadbot help", user=1)))[0]
    assert help_card["fallbackText"] == slash_card["fallbackText"]
    # The help table lists every registered command.
    text = json.dumps(help_card)
    for spec in COMMANDS:
        assert f"/{spec.verb}" in text


async def test_channel_message_strips_the_bot_mention_and_links_only_on_purpose(
    db: Database, ctx: HandlerContext, agent: TeamsAgent
) -> None:
    team = await make_team(db, "Billing")
    lead = await make_person(db, "lena.lead", role=Role.lead, team=team)
    await on_teams(db, lead, 1)
    raw = fakes.message(
        "<at>leadbot</at> leadbot whoami",
        user=1,
        conversation_type="channel",
        mentions=[(None, "leadbot")],
        team_name="Billing",
    )
    sent = await run_turn(agent, raw)
    # The answer is private: without a connector it can't go to the 1:1 chat, so the
    # channel is told where to ask instead of seeing it.
    texts = [c["fallbackText"] for c in cards_of(sent)]
    assert len(texts) == 1
    assert "private" in texts[0]
    assert "lena.lead@example.com" not in json.dumps(cards_of(sent))
    assert team.id is not None
    # A channel named like the team, and its lead using leadbot there, link nothing.
    stored = await people.get_team(db, team_id=team.id)
    assert stored is not None
    assert stored.teams_channel_ref is None
    link = fakes.message(
        "<at>leadbot</at> leadbot link",
        user=1,
        conversation_type="channel",
        mentions=[(None, "leadbot")],
        team_name="Billing",
    )
    await run_turn(agent, link)
    stored = await people.get_team(db, team_id=team.id)
    assert stored is not None
    assert stored.channel_linked_by == lead.id
    ref = ConversationRef.from_json(stored.teams_channel_ref)
    assert ref is not None
    assert ref.conversation_id == fakes.CHANNEL_ID
    assert ref.service_url == "https://smba.example.test/teams/"
    assert ref.tenant_id == fakes.TENANT
    # A usage error is not private: it is answered where it was asked.
    bad = fakes.message(
        "<at>leadbot</at> leadbot nonsense",
        user=1,
        conversation_type="channel",
        mentions=[(None, "leadbot")],
    )
    out = cards_of(await run_turn(agent, bad))
    assert len(out) == 1
    assert "nonsense" in out[0]["fallbackText"]


async def test_mentions_resolve_by_teams_id_then_by_name_in_the_team(
    db: Database, ctx: HandlerContext, agent: TeamsAgent
) -> None:
    billing = await make_team(db, "Billing")
    sales = await make_team(db, "Sales")
    admin = await make_person(db, "ada.admin", role=Role.admin, team=billing)
    maria = await make_person(db, "maria.lopez", team=billing)
    tom = await make_person(db, "tom.hanks", team=billing)
    await on_teams(db, admin, 1)
    await on_teams(db, maria, 2)
    # Maria by her Teams id; the <at> text is her Teams display name, not ours.
    raw = fakes.message(
        "leadbot team add <at>M. Lopez (Billing)</at> Sales as agent",
        user=1,
        mentions=[(2, "M. Lopez (Billing)")],
    )
    card = cards_of(await run_turn(agent, raw))[0]
    assert "Maria Lopez" in card["fallbackText"], card["fallbackText"]
    assert maria.id is not None
    moved = await people.get_person(db, person_id=maria.id)
    assert moved is not None
    assert moved.team_id == sales.id
    # Tom has no Teams id yet: his name is matched within the admin's team.
    raw = fakes.message(
        "leadbot team add <at>Tom Hanks</at> Sales as agent",
        user=1,
        mentions=[(3, "Tom Hanks")],
        aad_ids=False,
    )
    card = cards_of(await run_turn(agent, raw))[0]
    assert "Tom Hanks" in card["fallbackText"]
    assert tom.id is not None
    moved = await people.get_person(db, person_id=tom.id)
    assert moved is not None
    assert moved.team_id == sales.id
    # Nobody on the roster: explained, nothing changes.
    raw = fakes.message(
        "leadbot team add <at>Zed Unknown</at> Sales as agent",
        user=1,
        mentions=[(9, "Zed Unknown")],
    )
    card = cards_of(await run_turn(agent, raw))[0]
    assert "@Zed Unknown" in card["fallbackText"]
    assert "roster" in card["fallbackText"]


async def test_unknown_user_is_told_how_to_get_added_and_nothing_is_written(
    db: Database, ctx: HandlerContext, agent: TeamsAgent
) -> None:
    await make_person(db, "maria.lopez")
    sent = await run_turn(agent, fakes.message("stats", user=7, name="Stranger"))
    text = cards_of(sent)[0]["fallbackText"]
    assert "I don't know you yet" in text
    assert "roster" in text
    async with db.session() as s:
        linked = (await s.execute(select(Person).where(Person.teams_user_id.is_not(None)))).all()  # type: ignore[union-attr]
    assert linked == []


async def test_a_redelivered_activity_is_processed_once(
    db: Database, ctx: HandlerContext, agent: TeamsAgent
) -> None:
    team = await make_team(db)
    lead = await make_person(db, "lena.lead", role=Role.lead, team=team)
    await on_teams(db, lead, 1)
    raw = fakes.message("leadbot whoami", user=1, activity_id="dup-1")
    first = await run_turn(agent, raw)
    again = await run_turn(agent, raw)
    assert len(cards_of(first)) == 1
    assert again == []
    async with db.session() as s:
        keys = [e.key for e in (await s.execute(select(ProcessedEvent))).scalars()]
    assert keys == ["teams:a:personal-1:dup-1"]


async def test_personal_message_stores_the_conversation_reference(
    db: Database, ctx: HandlerContext, agent: TeamsAgent
) -> None:
    p = await make_person(db, "maria.lopez")
    await on_teams(db, p, 2)
    await run_turn(agent, fakes.message("leadbot whoami", user=2))
    assert p.id is not None
    stored = await people.get_person(db, person_id=p.id)
    assert stored is not None
    ref = ConversationRef.from_json(stored.teams_conversation_ref)
    assert ref is not None
    assert ref.conversation_id == "a:personal-2"
    assert ref.user_id == fakes.user_id(2)
    assert ref.aad_object_id == fakes.aad(2)
    assert ref.bot_id == fakes.BOT_ID
    assert ref.tenant_id == fakes.TENANT


async def test_install_in_personal_scope_welcomes_and_stores_the_reference(
    db: Database, ctx: HandlerContext, agent: TeamsAgent
) -> None:
    p = await make_person(db, "maria.lopez")
    await on_teams(db, p, 2)
    raw = fakes.message("", user=2)
    raw["type"] = "conversationUpdate"
    raw["membersAdded"] = [{"id": fakes.BOT_ID}]
    sent = await run_turn(agent, raw)
    assert "Type *help*" in cards_of(sent)[0]["fallbackText"] or "help" in json.dumps(
        cards_of(sent)[0]
    )
    assert p.id is not None
    stored = await people.get_person(db, person_id=p.id)
    assert stored is not None
    assert ConversationRef.from_json(stored.teams_conversation_ref) is not None


async def _open_pulse(db: Database, ctx: HandlerContext) -> tuple[Person, int]:
    team = await make_team(db)
    lead = await make_person(db, "lena.lead", role=Role.lead, team=team)
    agents = [await make_person(db, f"agent{i}.x", team=team) for i in range(5)]
    reply = await run_command(await command(db, lead, "/pulse now"), ctx)
    assert reply.ok, reply.text
    async with db.session() as s:
        rows = list((await s.execute(select(OutboxMessage))).scalars())
    payload = next(m.payload for m in rows if m.recipient_person_id == agents[0].id)
    values = [
        b["value"]
        for block in json.loads(payload)["blocks"]
        if block["kind"] == "buttons"
        for b in block["buttons"]
        if b["action_id"] == "pulse.answer"
    ]
    round_id = int(values[0].split(":")[0])
    await on_teams(db, agents[0], 2)
    return agents[0], round_id


async def _responses(db: Database) -> list[PulseResponse]:
    async with db.session() as s:
        return list((await s.execute(select(PulseResponse))).scalars())


async def test_pulse_answer_through_action_execute_records_once_and_updates_the_card(
    db: Database, ctx: HandlerContext, agent: TeamsAgent
) -> None:
    _agent, round_id = await _open_pulse(db, ctx)
    data = {"leadbot": "pulse.answer", "value": f"{round_id}:esat:4"}
    body = invoke_body(await run_turn(agent, fakes.invoke(data, user=2)))
    assert body["statusCode"] == 200
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    card = body["value"]
    assert "Thanks, your answer is in" in card["fallbackText"]
    # The chosen score is highlighted and the buttons are still there to change it.
    chosen = [
        a
        for block in card["body"]
        if block["type"] == "ActionSet"
        for a in block["actions"]
        if a.get("style") == "positive"
    ]
    assert [a["data"]["value"] for a in chosen] == [f"{round_id}:esat:4"]
    assert chosen[0]["type"] == "Action.Execute"
    assert chosen[0]["fallback"]["type"] == "Action.Submit"
    # Pressing again (Teams retries, double taps) records nothing new.
    invoke_body(await run_turn(agent, fakes.invoke(data, user=2)))
    rows = await _responses(db)
    assert [(r.round_id, r.score) for r in rows] == [(round_id, 4)]


async def test_a_forged_action_value_changes_nothing(
    db: Database, ctx: HandlerContext, agent: TeamsAgent
) -> None:
    _agent, round_id = await _open_pulse(db, ctx)
    for value in (f"{round_id + 99}:esat:4", f"{round_id}:esat:9", "x;DROP TABLE", ""):
        data = {"leadbot": "pulse.answer", "value": value}
        body = invoke_body(await run_turn(agent, fakes.invoke(data, user=2)))
        # A refusal is a message; the card the person sees stays as it was.
        assert body["type"] == "application/vnd.microsoft.activity.message"
        assert "nothing was recorded" in body["value"] or "no longer valid" in body["value"]
    body = invoke_body(
        await run_turn(agent, fakes.invoke({"leadbot": "nosuch.thing", "value": "1"}, user=2))
    )
    assert "no longer valid" in body["value"]
    assert await _responses(db) == []


async def test_action_submit_fallback_runs_the_same_handler(
    db: Database, ctx: HandlerContext, agent: TeamsAgent
) -> None:
    _agent, round_id = await _open_pulse(db, ctx)
    raw = fakes.message(
        "", user=2, value={"leadbot": "pulse.answer", "value": f"{round_id}:esat:5"}
    )
    raw["replyToId"] = "card-1"
    sent = await run_turn(agent, raw)
    # The card the button was on is replaced in place; nothing new is posted.
    assert [a.id for a in UPDATES] == ["card-1"]
    assert "Thanks, your answer is in" in cards_of(UPDATES)[0]["fallbackText"]
    assert cards_of(sent) == []
    assert [r.score for r in await _responses(db)] == [5]


async def test_comment_form_errors_show_the_form_again_with_what_was_typed(
    db: Database, ctx: HandlerContext, agent: TeamsAgent
) -> None:
    _agent, round_id = await _open_pulse(db, ctx)
    invoke_body(
        await run_turn(
            agent, fakes.invoke({"leadbot": "pulse.answer", "value": f"{round_id}:esat:3"}, user=2)
        )
    )
    # The answered card has a comment button that opens a form in the card.
    data = {"leadbot": "pulse.answer", "value": f"{round_id}:esat:3"}
    card = invoke_body(await run_turn(agent, fakes.invoke(data, user=2)))["value"]
    show = [
        a
        for block in card["body"]
        if block["type"] == "ActionSet"
        for a in block["actions"]
        if a["type"] == "Action.ShowCard"
    ]
    assert len(show) == 1
    submit = show[0]["card"]["actions"][0]
    assert submit["type"] == "Action.Execute"
    assert [i["id"] for i in show[0]["card"]["body"] if i["type"] == "Input.Text"] == ["f_comment"]
    too_long = dict(submit["data"], f_comment="x" * 1001)
    body = invoke_body(await run_turn(agent, fakes.invoke(too_long, user=2)))
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    shown = json.dumps(body["value"])
    assert "1000 characters" in shown
    assert '"f_comment"' in shown
    ok = dict(submit["data"], f_comment="More coaching please")
    body = invoke_body(await run_turn(agent, fakes.invoke(ok, user=2)))
    rows = await _responses(db)
    assert [r.comment for r in rows if r.question == "esat"] == ["More coaching please"]
    assert isinstance(body["value"], str)


def test_channel_account_model_keeps_email() -> None:
    # The roster lookup relies on the SDK keeping unknown member fields.
    member = ChannelAccount.model_validate({"id": "29:x", "email": "a@b.c"})
    assert member.properties["email"] == "a@b.c"


async def test_kudos_with_a_teams_mention_is_recorded_for_the_right_person(
    db: Database, ctx: HandlerContext, agent: TeamsAgent
) -> None:
    team = await make_team(db)
    lena = await make_person(db, "lena.lead", role=Role.lead, team=team)
    maria = await make_person(db, "maria.lopez", team=team)
    await on_teams(db, lena, 1)
    await on_teams(db, maria, 2)
    raw = fakes.message(
        "kudos <at>Maria</at> great save on the outage #ownership",
        user=1,
        mentions=[(2, "Maria")],
    )
    card = cards_of(await run_turn(agent, raw))[0]
    assert "Maria Lopez" in card["fallbackText"], card["fallbackText"]
    async with db.session() as s:
        rows = list((await s.execute(select(Recognition))).scalars())
    assert [(r.giver_id, r.receiver_id, r.value_tag) for r in rows] == [
        (lena.id, maria.id, "ownership")
    ]
    assert "great save on the outage" in rows[0].message


async def test_a_mention_split_in_parts_is_one_person(
    db: Database, ctx: HandlerContext, agent: TeamsAgent
) -> None:
    team = await make_team(db)
    lena = await make_person(db, "lena.lead", role=Role.lead, team=team)
    maria = await make_person(db, "maria.lopez", team=team)
    await on_teams(db, lena, 1)
    raw = fakes.message(
        "kudos <at>Maria</at> <at>Lopez</at> thanks for covering #partnership",
        user=1,
        mentions=[(2, "Maria"), (2, "Lopez")],
        aad_ids=False,  # not linked yet: matched by the joined name within the team
    )
    card = cards_of(await run_turn(agent, raw))[0]
    assert "Maria Lopez" in card["fallbackText"], card["fallbackText"]
    async with db.session() as s:
        rows = list((await s.execute(select(Recognition))).scalars())
    assert [r.receiver_id for r in rows] == [maria.id]
    assert rows[0].message.startswith("thanks for covering")
