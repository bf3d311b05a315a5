"""Team channels in Slack: linked with `/leadbot link` only; a post leadbot can't make
(not_in_channel) waits, its linker and lead are told once, and leadbot's own
member_joined_channel sends it, once."""

from __future__ import annotations

import json

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.sender import SlackSender
from domain.roles import Role
from domain.types import Reply, Text, Visibility
from jobs.dispatcher import Dispatcher, DispatcherConfig, Rate
from storage import outbox, people
from storage.db import Database
from storage.models import OutboxStatus, Person, Team
from storage.outbox import OutboxNew
from tests.bot.slack.conftest import SlackServer
from tests.conftest import make_person, make_team


async def _lead_and_team(db: Database) -> tuple[Team, Person]:
    team = await make_team(db, "Billing")
    lead = await make_person(db, "lee.lead", role=Role.lead, team=team)
    assert lead.id is not None
    await people.set_platform_id(db, person_id=lead.id, slack_user_id="ULEE")
    fresh = await people.get_team(db, team_id=team.id or 0)
    assert fresh is not None
    return fresh, lead


async def test_slash_leadbot_link_in_a_channel_links_it_and_says_what_comes(
    slack: SlackServer, file_db: Database
) -> None:
    team, _lead = await _lead_and_team(file_db)
    await slack.post_form(
        {
            "command": "/leadbot",
            "text": "link",
            "user_id": "ULEE",
            "channel_id": "C77",
            "channel_name": "billing-floor",
            "team_id": "T1",
            "response_url": slack.fake.response_url(),
            "trigger_id": "t",
        }
    )
    [call] = await slack.fake.wait_calls("response_url")
    text = json.dumps(call.data)
    assert "#billing-floor is now *Billing*'s channel" in text
    assert "daily goal update" in text
    assert "/invite @leadbot" in text
    linked = await people.get_team(file_db, team_id=team.id or 0)
    assert linked is not None
    assert linked.slack_channel_id == "C77"
    assert linked.channel_linked_by == _lead.id


async def test_an_agent_cannot_link_and_nothing_changes(
    slack: SlackServer, file_db: Database
) -> None:
    team, _lead = await _lead_and_team(file_db)
    agent = await make_person(file_db, "ana.agent", team=team)
    await people.set_platform_id(file_db, person_id=agent.id or 0, slack_user_id="UANA")
    await slack.command("leadbot", "link team Billing", user="UANA", channel="C77")
    [call] = await slack.fake.wait_calls("response_url")
    assert "lead, its manager and admins" in json.dumps(call.data)
    after = await people.get_team(file_db, team_id=team.id or 0)
    assert after is not None
    assert after.slack_channel_id is None


async def test_a_post_leadbot_cant_make_waits_until_it_joins_the_channel(
    slack: SlackServer, file_db: Database
) -> None:
    team, lead = await _lead_and_team(file_db)
    await people.link_channel(
        file_db, team_id=team.id or 0, platform="slack", channel_ref="CBILL", by=lead.id
    )
    fake = slack.fake
    fake.channel_errors["CBILL"] = "not_in_channel"
    fake.channel_names["CBILL"] = "billing"
    post = Reply(
        blocks=[Text("Goal hit: AHT 290s")], text="Goal hit", visibility=Visibility.channel
    )
    await outbox.enqueue(
        file_db,
        messages=[OutboxNew(dedupe_key="goal:1", payload=post.to_json(), team_id=team.id)],
    )
    sender = SlackSender(
        AsyncWebClient(token="xoxb-test", base_url=fake.api_url),
        file_db,
        lookup_rate=Rate(6000, 60.0, burst=1),
    )
    d = Dispatcher(file_db, {"slack": sender}, config=DispatcherConfig(lease_seconds=30))
    try:
        await d.drain()
        await d.drain()
        [waiting] = [m for m in await outbox.list_messages(file_db) if m.recipient_team_id]
        assert waiting.status is OutboxStatus.pending  # not dead after a try
        assert (waiting.last_error or "").startswith("unreachable: not_in_channel")
        to_channel = [c for c in fake.of("chat.postMessage") if c.data.get("channel") == "CBILL"]
        assert len(to_channel) == 1  # tried once, then it waits
        told = [c for c in fake.of("chat.postMessage") if c.data.get("channel") == "ULEE"]
        assert len(told) == 1  # the linker is the lead: one DM, with the fix
        assert "/invite @leadbot" in str(told[0].data.get("text"))
        assert "#billing" in str(told[0].data.get("text"))
        assert "Billing" in str(told[0].data.get("text"))

        # Someone else joining the channel changes nothing; leadbot joining sends it.
        fake.channel_errors.clear()
        event = {"type": "member_joined_channel", "channel": "CBILL", "channel_type": "C"}
        await slack.event({**event, "user": "UOTHER"}, event_id="Ev-other")
        await d.drain()
        assert (
            len([c for c in fake.of("chat.postMessage") if c.data.get("channel") == "CBILL"]) == 1
        )
        await slack.event({**event, "user": "UBOT"}, event_id="Ev-bot")
        await d.drain()
        await slack.event({**event, "user": "UBOT"}, event_id="Ev-bot")  # Slack's retry
        await d.drain()
        to_channel = [c for c in fake.of("chat.postMessage") if c.data.get("channel") == "CBILL"]
        assert len(to_channel) == 2
        assert "Goal hit" in str(to_channel[-1].data.get("text"))
        assert not await outbox.list_messages(file_db)
        assert len([c for c in fake.of("chat.postMessage") if c.data.get("channel") == "ULEE"]) == 1
    finally:
        await sender.close()
