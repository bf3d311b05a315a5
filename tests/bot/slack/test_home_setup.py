"""First-run onboarding on the Slack App Home: before there is an admin, how to add the
first; an admin's home leads with the setup checklist (Slack asked through the fake)."""

from __future__ import annotations

import json

from domain.roles import Role
from storage import people
from storage.db import Database
from tests.bot.slack.conftest import SlackServer
from tests.conftest import make_person


def _texts(call_data: dict[str, object]) -> str:
    view = call_data["view"]
    return json.dumps(json.loads(view) if isinstance(view, str) else view)


async def test_before_any_admin_the_home_says_how_to_add_the_first(slack: SlackServer) -> None:
    await slack.event({"type": "app_home_opened", "user": "U77", "tab": "home"})
    [call] = await slack.fake.wait_calls("views.publish")
    shown = _texts(call.data)
    assert "Ask your leadbot admin" in shown
    assert "leadbot isn't set up yet: it has no admin." in shown
    assert "leadbot people add you@example.com" in shown


async def test_an_admins_home_shows_the_checklist_until_setup_is_done(
    slack: SlackServer, file_db: Database
) -> None:
    admin = await make_person(file_db, "ada.admin", role=Role.admin)
    await people.set_platform_id(file_db, person_id=admin.id or 0, slack_user_id="U1")
    await slack.event({"type": "app_home_opened", "user": "U1", "tab": "home"})
    [call] = await slack.fake.wait_calls("views.publish")
    shown = _texts(call.data)
    assert "Finish setting up leadbot" in shown
    assert "there are no teams yet" in shown
    assert "Create a team" in shown  # the next step, as a button
    # The platform check asked the fake Slack, whose auth.test names no scopes.
    assert slack.fake.of("auth.test")
    assert "Slack did not say which scopes the token has" in shown
    # Not on anyone else's home.
    agent = await make_person(file_db, "maria.lopez")
    await people.set_platform_id(file_db, person_id=agent.id or 0, slack_user_id="U2")
    await slack.event({"type": "app_home_opened", "user": "U2", "tab": "home"}, event_id="Ev2")
    calls = await slack.fake.wait_calls("views.publish", 2)
    assert "Finish setting up leadbot" not in _texts(calls[1].data)
