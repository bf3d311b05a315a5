"""Slack end to end: signed requests to leadbot's real aiohttp server and bolt app, with
a loopback fake Slack Web API receiving what the bot sends."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from bot.slack.render import render_blocks
from domain.errors import UserError
from domain.parsing import Args
from domain.roles import Role
from domain.types import (
    Action,
    Button,
    Buttons,
    Command,
    Form,
    FormField,
    Reply,
    Text,
    UnresolvedMention,
    Visibility,
)
from handlers.core.context import ActionSpec, CommandSpec, HandlerContext, Registry
from handlers.registry import build_registry
from storage import events, people
from storage.db import Database
from storage.models import Person, ProcessedEvent
from tests.bot.slack.conftest import SIGNING_SECRET, SlackServer
from tests.bot.slack.fake_slack import signed_headers
from tests.conftest import make_person, make_team

# --- a small fake feature, registered like a real one -----------------------------------

SEEN: list[tuple[str, str, dict[str, str]]] = []
COMMANDS_SEEN: list[Command] = []

NOTE_FORM = Form(
    "Add a note",
    "lbtest.save",
    "7",
    (FormField("note", "Note", multiline=True, optional=False, max_length=200),),
)


async def _lbtest(cmd: Command, _args: Args, ctx: HandlerContext) -> Reply:
    COMMANDS_SEEN.append(cmd)
    if cmd.args == ("form",):
        return Reply(form=NOTE_FORM)
    return Reply(
        blocks=[
            Text(f"Hello *{cmd.actor.name}*, {len(cmd.args)} args"),
            Buttons(
                (
                    Button("Ping", "lbtest.ping", "42", style="primary"),
                    Button("Note", "lbtest.note", "", form=NOTE_FORM),
                )
            ),
        ],
        text="hello",
        visibility=Visibility.channel if cmd.args == ("loud",) else Visibility.ephemeral,
    )


async def _lbtest_action(action: Action, ctx: HandlerContext) -> Reply:
    if action.action_id == "lbtest.ping":
        if not action.value.isdigit():
            raise UserError("That button is broken.")
        SEEN.append((action.action_id, action.value, action.form))
        return Reply(blocks=[Text(f"pong {action.value}")], replace_original=True)
    if action.action_id == "lbtest.save":
        note = action.form.get("note", "").strip()
        if not note:
            return Reply(errors={"note": "Write a few words."}, ok=False)
        if note == "nope":
            raise UserError("Notes can't say nope.")
        SEEN.append((action.action_id, action.value, action.form))
        return Reply(blocks=[Text(f"saved: {note}")])
    if action.action_id == "lbtest.home":
        SEEN.append((action.action_id, action.value, action.form))
        return Reply(blocks=[Text("done from home")])
    raise UserError("unknown")


TEST_COMMAND = CommandSpec("lbtest", "a test command", ("/lbtest",), _lbtest)


@pytest.fixture
def slack_registry() -> Registry:
    """The real registry plus /lbtest and the `lbtest.*` buttons, registered like features."""
    base = build_registry()
    return dataclasses.replace(
        base,
        commands=(*base.commands, TEST_COMMAND),
        actions=(*base.actions, ActionSpec("lbtest", _lbtest_action)),
    )


@pytest.fixture(autouse=True)
def _fake_feature() -> Iterator[None]:
    SEEN.clear()
    COMMANDS_SEEN.clear()
    yield
    SEEN.clear()


async def _person(db: Database, handle: str, slack_id: str | None, **kw: Any) -> Person:
    p = await make_person(db, handle, **kw)
    assert p.id is not None
    if slack_id:
        await people.set_platform_id(db, person_id=p.id, slack_user_id=slack_id)
    return p


async def _slack_ids(db: Database) -> dict[str, str | None]:
    return {p.email: p.slack_user_id for p in await people.list_people(db)}


async def _processed(db: Database) -> int:
    return await events.count(db)


# --- slash commands -----------------------------------------------------------------------


async def test_slash_command_acks_empty_then_reply_arrives_at_response_url(
    slack: SlackServer, file_db: Database
) -> None:
    await _person(file_db, "ana.silva", "U1")
    status, body = await slack.command("leadbot", "help")
    assert status == 200
    assert body == ""
    [call] = await slack.fake.wait_calls("response_url")
    assert call.path.endswith("/respond/cmd-leadbot")
    assert call.data["response_type"] == "ephemeral"
    assert call.data["text"]
    assert call.data["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "leadbot commands", "emoji": True},
    }
    assert "/leadbot" in json.dumps(call.data["blocks"])


async def test_every_registry_command_is_a_slash_command(
    slack: SlackServer, file_db: Database, slack_registry: Registry
) -> None:
    await _person(file_db, "ana.silva", "U1", role=Role.admin)
    verbs = [c.verb for c in slack_registry.commands]
    assert "lbtest" in verbs
    assert "leadbot" in verbs
    for verb in verbs:
        status, _ = await slack.command(verb, "")
        assert status == 200, verb
    calls = await slack.fake.wait_calls("response_url", len(verbs))
    assert sorted(c.path.rsplit("-", 1)[1] for c in calls) == sorted(verbs)
    # Nothing fell into the generic "went wrong on our side" path.
    assert not [c for c in calls if "went wrong" in json.dumps(c.data)]


async def test_channel_visibility_posts_in_channel(slack: SlackServer, file_db: Database) -> None:
    await _person(file_db, "ana.silva", "U1")
    await slack.command("lbtest", "loud")
    [call] = await slack.fake.wait_calls("response_url")
    assert call.data["response_type"] == "in_channel"
    assert "Hello *Ana Silva*, 1 args" in json.dumps(call.data["blocks"])


async def test_unknown_user_matched_by_email_once_then_remembered(
    slack: SlackServer, file_db: Database
) -> None:
    await _person(file_db, "maria.lopez", None)
    slack.fake.users["U9"] = "Maria.Lopez@Example.com"
    await slack.command("leadbot", "whoami", user="U9")
    [reply] = await slack.fake.wait_calls("response_url")
    assert "maria.lopez@example.com" in json.dumps(reply.data)
    assert (await _slack_ids(file_db))["maria.lopez@example.com"] == "U9"
    await slack.command("leadbot", "whoami", user="U9")
    await slack.fake.wait_calls("response_url", 2)
    assert len(slack.fake.of("users.info")) == 1


async def test_user_not_on_roster_is_told_how_to_get_added(
    slack: SlackServer, file_db: Database
) -> None:
    slack.fake.users["U7"] = "stranger@example.com"
    await slack.command("leadbot", "whoami", user="U7")
    [reply] = await slack.fake.wait_calls("response_url")
    text = json.dumps(reply.data)
    assert "Ask your leadbot admin to add your email (stranger@example.com)" in text
    assert reply.data["response_type"] == "ephemeral"
    assert await people.list_people(file_db) == []


@pytest.mark.parametrize("problem", ["bad signature", "stale", "unsigned", "wrong secret"])
async def test_unverified_requests_get_401_and_touch_nothing(
    slack: SlackServer, file_db: Database, problem: str
) -> None:
    await _person(file_db, "maria.lopez", None)
    slack.fake.users["U9"] = "maria.lopez@example.com"
    body = (
        "command=%2Fleadbot&text=whoami&user_id=U9&channel_id=C1&team_id=T1"
        f"&response_url={slack.fake.response_url()}&trigger_id=t"
    )
    ctype = "application/x-www-form-urlencoded"
    if problem == "bad signature":
        headers = signed_headers(SIGNING_SECRET, body, content_type=ctype)
        headers["X-Slack-Signature"] = "v0=" + "0" * 64
    elif problem == "stale":
        headers = signed_headers(
            SIGNING_SECRET, body, timestamp=int(time.time()) - 6 * 60, content_type=ctype
        )
    elif problem == "wrong secret":
        headers = signed_headers("not-the-secret", body, content_type=ctype)
    else:
        headers = {"Content-Type": ctype}
    status, _text, _ = await slack.post_raw(body, headers)
    assert status == 401
    assert slack.bot.tracker.tasks == set()
    assert slack.fake.calls == []
    assert (await _slack_ids(file_db))["maria.lopez@example.com"] is None
    assert await _processed(file_db) == 0


async def test_unverified_event_is_not_recorded(slack: SlackServer, file_db: Database) -> None:
    body = json.dumps({"type": "event_callback", "event_id": "EvX", "event": {}})
    headers = signed_headers("wrong", body, content_type="application/json")
    status, _t, _h = await slack.post_raw(body, headers)
    assert status == 401
    assert await _processed(file_db) == 0


async def test_body_over_the_limit_is_refused_before_parsing(
    slack: SlackServer, file_db: Database
) -> None:
    await _person(file_db, "ana.silva", "U1")
    status, _ = await slack.command("leadbot", "x" * (70 * 1024))
    assert status == 413
    assert slack.fake.calls == []


async def test_mentions_resolve_by_slack_id_and_by_handle(
    slack: SlackServer, file_db: Database
) -> None:
    billing = await make_team(file_db, "Billing")
    await _person(file_db, "ana.silva", "U1", role=Role.admin)
    await _person(file_db, "bob.jones", None)
    await _person(file_db, "maria.lopez", None)
    slack.fake.users["U2"] = "bob.jones@example.com"
    await slack.command("leadbot", "team add <@U2|bob> Billing as agent")
    await slack.fake.wait_calls("response_url")
    await slack.command("leadbot", "team add @maria.lopez Billing as lead")
    calls = await slack.fake.wait_calls("response_url", 2)
    texts = [json.dumps(c.data) for c in calls]
    assert "Bob Jones is now an agent in *Billing*" in texts[0]
    assert "Maria Lopez is now the lead of *Billing*" in texts[1]
    members = {p.email: p for p in await people.list_people(file_db, team_id=billing.id)}
    assert members["bob.jones@example.com"].slack_user_id == "U2"
    assert members["maria.lopez@example.com"].role is Role.lead


async def test_unknown_mention_is_explained(slack: SlackServer, file_db: Database) -> None:
    await make_team(file_db, "Billing")
    await _person(file_db, "ana.silva", "U1", role=Role.admin)
    await slack.command("leadbot", "team add <@U404|ghost> Billing as agent")
    [call] = await slack.fake.wait_calls("response_url")
    text = json.dumps(call.data)
    assert "I don't know @ghost" in text
    assert "Usage" in text
    assert len(await people.list_people(file_db)) == 1


async def test_command_from_a_team_channel_carries_the_team(
    slack: SlackServer, file_db: Database
) -> None:
    team = await make_team(file_db, "Billing")
    assert team.id is not None
    await people.update_team(file_db, team_id=team.id, slack_channel_id="CBILL")
    await _person(file_db, "ana.silva", "U1")
    await slack.command("lbtest", 'one "two three"', channel="CBILL")
    await slack.fake.wait_calls("response_url")
    [cmd] = COMMANDS_SEEN
    assert cmd.channel_team_id == team.id
    assert cmd.args == ("one", "two three")
    assert cmd.platform.value == "slack"
    assert cmd.raw == '/lbtest one "two three"'


async def test_a_first_command_in_an_unlinked_channel_links_nothing(
    slack: SlackServer, file_db: Database
) -> None:
    # Neither a channel named after the team nor the team's lead using leadbot there
    # links it: channels are linked only with `/leadbot link`.
    team = await make_team(file_db, "Billing")
    await _person(file_db, "leo.lead", "U2", team=team, role=Role.lead)
    status, _ = await slack.post_form(
        {
            "command": "/lbtest",
            "text": "",
            "user_id": "U2",
            "channel_id": "C77",
            "channel_name": "team-billing",
            "team_id": "T1",
            "response_url": slack.fake.response_url(),
            "trigger_id": "t",
        }
    )
    assert status == 200
    [call] = await slack.fake.wait_calls("response_url")
    assert "channel" not in json.dumps(call.data).lower()
    assert await people.get_team_by_slack_channel(file_db, channel_id="C77") is None
    assert (await people.get_team(file_db, team_id=team.id or 0)).slack_channel_id is None  # type: ignore[union-attr]
    assert COMMANDS_SEEN[0].channel_team_id is None
    # The adapter passes the channel, for `/leadbot link`; a DM has none.
    assert COMMANDS_SEEN[0].channel_ref == "C77"
    await slack.command("lbtest", "", user="U2", channel="D5")
    await slack.fake.wait_calls("response_url", 2)
    assert COMMANDS_SEEN[1].channel_ref is None


async def test_slack_escaping_is_undone_in_command_text(
    slack: SlackServer, file_db: Database
) -> None:
    await _person(file_db, "ana.silva", "U1")
    text = "aht &lt; 300 &amp; <#C42|billing> <https://x.example/a|x.example/a> <!here>"
    await slack.command("lbtest", text, channel="CNONE")
    await slack.fake.wait_calls("response_url")
    [cmd] = COMMANDS_SEEN
    assert cmd.channel_team_id is None
    assert cmd.args[:6] == ("aht", "<", "300", "&", "#billing", "https://x.example/a")
    # `<!here>` reads as a mention, exactly as a console `@here` would, and matches nobody.
    assert cmd.args[6] == UnresolvedMention("@here")


# --- buttons and forms ----------------------------------------------------------------


def _rendered_buttons() -> list[dict[str, Any]]:
    reply = Reply(
        blocks=[
            Buttons(
                (
                    Button("Ping", "lbtest.ping", "42"),
                    Button("Note", "lbtest.note", "", form=NOTE_FORM),
                )
            )
        ]
    )
    [actions] = render_blocks(reply)
    elements: list[dict[str, Any]] = actions["elements"]
    return elements


async def test_button_click_round_trip_replaces_the_message(
    slack: SlackServer, file_db: Database
) -> None:
    await _person(file_db, "ana.silva", "U1")
    ping = _rendered_buttons()[0]
    status, body = await slack.click(ping["action_id"], ping["value"])
    assert (status, body) == (200, "")
    [call] = await slack.fake.wait_calls("response_url")
    assert call.data["replace_original"] is True
    assert "pong 42" in json.dumps(call.data["blocks"])
    assert SEEN == [("lbtest.ping", "42", {})]


async def test_forged_button_value_changes_nothing(slack: SlackServer, file_db: Database) -> None:
    await _person(file_db, "ana.silva", "U1")
    await slack.click("lbtest.ping~0", "drop table")
    await slack.click("lbtest.ping~1", "~fnot-base64!")
    calls = await slack.fake.wait_calls("response_url", 2)
    texts = sorted(json.dumps(c.data) for c in calls)
    assert "That button is broken." in texts[0] + texts[1]
    assert "That button is no longer valid." in texts[0] + texts[1]
    assert SEEN == []


async def test_unknown_user_clicking_is_told_how_to_get_added(slack: SlackServer) -> None:
    ping = _rendered_buttons()[0]
    await slack.click(ping["action_id"], ping["value"], user="U55")
    [call] = await slack.fake.wait_calls("response_url")
    assert "Ask your leadbot admin" in json.dumps(call.data)
    assert SEEN == []


async def _open_note_form(slack: SlackServer) -> dict[str, Any]:
    note = _rendered_buttons()[1]
    await slack.click(note["action_id"], note["value"])
    [opened] = await slack.fake.wait_calls("views.open")
    assert opened.data["trigger_id"] == "trigger-2"
    view = opened.data["view"]
    if isinstance(view, str):
        view = json.loads(view)
    assert isinstance(view, dict)
    return view


def _submission(view: dict[str, Any], note: str, user: str = "U1") -> dict[str, Any]:
    return {
        "type": "view_submission",
        "team": {"id": "T1"},
        "user": {"id": user},
        "api_app_id": "A1",
        "trigger_id": "trigger-3",
        "view": {
            "id": "V9",
            "type": "modal",
            "callback_id": view["callback_id"],
            "private_metadata": view["private_metadata"],
            "state": {"values": {"note": {"note": {"type": "plain_text_input", "value": note}}}},
        },
    }


async def test_button_with_form_opens_a_modal_and_submission_round_trips(
    slack: SlackServer, file_db: Database
) -> None:
    await _person(file_db, "ana.silva", "U1")
    view = await _open_note_form(slack)
    assert view["type"] == "modal"
    assert view["title"]["text"] == "Add a note"
    assert view["blocks"][0]["block_id"] == "note"
    assert view["blocks"][0]["optional"] is False
    assert json.loads(view["private_metadata"])["a"] == "lbtest.save"
    assert slack.fake.of("response_url") == []

    status, body = await slack.interactive(_submission(view, "Great call today"))
    assert status == 200
    assert body == ""  # the modal closes
    [call] = await slack.fake.wait_calls("response_url")
    assert call.path.endswith("/respond/click")
    assert "saved: Great call today" in json.dumps(call.data)
    assert SEEN == [("lbtest.save", "7", {"note": "Great call today"})]


async def test_a_modal_answer_whose_response_url_expired_arrives_by_dm(
    slack: SlackServer, file_db: Database
) -> None:
    await _person(file_db, "ana.silva", "U1")
    view = await _open_note_form(slack)
    slack.fake.expired.add("click")  # the message the button was on is too old to answer
    status, _body = await slack.interactive(_submission(view, "Great call today"))
    assert status == 200
    [dm] = await slack.fake.wait_calls("chat.postMessage")
    assert dm.data["channel"] == "U1"
    assert "saved: Great call today" in json.dumps(dm.data)
    assert [c.status for c in slack.fake.of("response_url", ok_only=False)] == [404]


async def test_a_command_answer_whose_response_url_expired_arrives_by_dm(
    slack: SlackServer, file_db: Database
) -> None:
    await _person(file_db, "ana.silva", "U1")
    slack.fake.expired.add("cmd-lbtest")
    await slack.command("lbtest", "one")
    [dm] = await slack.fake.wait_calls("chat.postMessage")
    assert dm.data["channel"] == "U1"
    assert "Hello *Ana Silva*" in json.dumps(dm.data)
    assert len(slack.fake.of("chat.postMessage")) == 1


async def test_invalid_modal_input_answers_field_errors(
    slack: SlackServer, file_db: Database
) -> None:
    await _person(file_db, "ana.silva", "U1")
    view = await _open_note_form(slack)
    status, body = await slack.interactive(_submission(view, "   "))
    assert status == 200
    assert json.loads(body) == {
        "response_action": "errors",
        "errors": {"note": "Write a few words."},
    }
    status, body = await slack.interactive(_submission(view, "nope"))
    assert json.loads(body) == {
        "response_action": "errors",
        "errors": {"note": "Notes can't say nope."},
    }
    assert SEEN == []
    assert slack.fake.of("response_url") == []


async def test_home_button_answers_by_dm_and_refreshes_home(
    slack: SlackServer, file_db: Database
) -> None:
    await _person(file_db, "ana.silva", "U1")
    await slack.click("lbtest.home~0", "x", in_home=True)
    [dm] = await slack.fake.wait_calls("chat.postMessage")
    assert dm.data["channel"] == "U1"
    assert "done from home" in json.dumps(dm.data)
    [published] = await slack.fake.wait_calls("views.publish")
    assert published.data["user_id"] == "U1"
    assert SEEN == [("lbtest.home", "x", {})]


# --- events -----------------------------------------------------------------------------


async def test_app_home_opened_publishes_the_home_view(
    slack: SlackServer, file_db: Database
) -> None:
    await _person(file_db, "ana.silva", "U1")
    status, _ = await slack.event({"type": "app_home_opened", "user": "U1", "tab": "home"})
    assert status == 200
    [call] = await slack.fake.wait_calls("views.publish")
    view = call.data["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["type"] == "home"
    assert view["blocks"][0]["text"]["text"] == "Hi Ana"


async def test_app_home_for_an_unknown_user_explains_how_to_join(slack: SlackServer) -> None:
    await slack.event({"type": "app_home_opened", "user": "U77", "tab": "home"})
    [call] = await slack.fake.wait_calls("views.publish")
    assert "Ask your leadbot admin" in json.dumps(call.data)


async def test_retried_event_delivery_is_recorded_once(
    slack: SlackServer, file_db: Database
) -> None:
    await _person(file_db, "ana.silva", "U1")
    event = {"type": "app_home_opened", "user": "U1", "tab": "home"}
    assert (await slack.event(event, event_id="Ev42"))[0] == 200
    await slack.fake.wait_calls("views.publish")
    for retry in (1, 2):
        assert (await slack.event(event, event_id="Ev42", retry=retry))[0] == 200
        assert slack.bot.tracker.tasks == set()  # nothing was started for the retry
    await slack.bot.tracker.drain(5)
    assert len(slack.fake.of("views.publish")) == 1
    async with file_db.session() as s:
        keys = (await s.execute(sa.select(ProcessedEvent.key))).scalars().all()  # type: ignore[call-overload]
    assert keys == ["slack:event:Ev42"]
    # A different event is a different delivery.
    await slack.event(event, event_id="Ev43")
    await slack.fake.wait_calls("views.publish", 2)


async def test_messages_tab_open_does_nothing(slack: SlackServer, file_db: Database) -> None:
    await _person(file_db, "ana.silva", "U1")
    assert (await slack.event({"type": "app_home_opened", "user": "U1", "tab": "messages"}))[
        0
    ] == 200
    await slack.bot.tracker.drain(5)
    assert slack.fake.of("views.publish") == []


async def test_url_verification_challenge(slack: SlackServer) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "t"})
    status, text, _ = await slack.post_raw(
        body, signed_headers(SIGNING_SECRET, body, content_type="application/json")
    )
    assert status == 200
    assert "abc123" in text


# --- rate limits ----------------------------------------------------------------------


async def test_429_on_response_url_is_retried_and_arrives_once(
    slack: SlackServer, file_db: Database
) -> None:
    await _person(file_db, "ana.silva", "U1")
    slack.fake.rate_limit_next["response_url"] = 1
    await slack.command("leadbot", "help")
    await slack.fake.wait_calls("response_url")
    await slack.bot.tracker.drain(5)
    assert len(slack.fake.of("response_url", ok_only=False)) == 2
    assert len(slack.fake.of("response_url")) == 1


async def test_429_on_web_api_is_retried_and_arrives_once(
    slack: SlackServer, file_db: Database
) -> None:
    await _person(file_db, "ana.silva", "U1")
    slack.fake.rate_limit_next["chat.postMessage"] = 1
    slack.fake.rate_limit_next["views.publish"] = 1
    await slack.click("lbtest.home~0", "x", in_home=True)
    await slack.fake.wait_calls("views.publish")
    await slack.bot.tracker.drain(5)
    assert [c.status for c in slack.fake.of("chat.postMessage", ok_only=False)] == [429, 200]
    assert [c.status for c in slack.fake.of("views.publish", ok_only=False)] == [429, 200]
    assert SEEN == [("lbtest.home", "x", {})]


async def test_a_command_can_answer_with_a_form(slack: SlackServer, file_db: Database) -> None:
    await _person(file_db, "ana.silva", "U1")
    await slack.command("lbtest", "form")
    [opened] = await slack.fake.wait_calls("views.open")
    assert opened.data["trigger_id"] == "trigger-1"
    view = opened.data["view"]
    view = json.loads(view) if isinstance(view, str) else view
    meta = json.loads(view["private_metadata"])
    assert meta["a"] == "lbtest.save"
    assert meta["r"].endswith("/respond/cmd-lbtest")
    await slack.interactive(_submission(view, "from a command"))
    [call] = await slack.fake.wait_calls("response_url")
    assert call.path.endswith("/respond/cmd-lbtest")
    assert "saved: from a command" in json.dumps(call.data)


async def test_slow_submission_closes_the_modal_and_answers_later(
    slack: SlackServer, file_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.slack.app as slack_app

    await _person(file_db, "ana.silva", "U1")
    view = await _open_note_form(slack)
    monkeypatch.setattr(slack_app, "SUBMIT_BUDGET_SECONDS", 0.0)
    status, body = await slack.interactive(_submission(view, "late but fine"))
    assert (status, body) == (200, "")
    status, body = await slack.interactive(_submission(view, " "))
    assert (status, body) == (200, "")
    calls = await slack.fake.wait_calls("response_url", 2)
    texts = sorted(json.dumps(c.data) for c in calls)
    assert any("saved: late but fine" in t for t in texts)
    assert any("That form had a problem, so nothing was saved" in t for t in texts)
    assert any("Write a few words." in t for t in texts)
    assert SEEN == [("lbtest.save", "7", {"note": "late but fine"})]


async def test_form_opened_from_app_home_answers_by_dm_and_refreshes_home(
    slack: SlackServer, file_db: Database
) -> None:
    await _person(file_db, "ana.silva", "U1")
    note = _rendered_buttons()[1]
    await slack.click(note["action_id"], note["value"], in_home=True)
    [opened] = await slack.fake.wait_calls("views.open")
    view = opened.data["view"]
    view = json.loads(view) if isinstance(view, str) else view
    status, body = await slack.interactive(_submission(view, "from home"))
    assert (status, body) == (200, "")
    [dm] = await slack.fake.wait_calls("chat.postMessage")
    assert dm.data["channel"] == "U1"
    assert "saved: from home" in json.dumps(dm.data)
    await slack.fake.wait_calls("views.publish")
