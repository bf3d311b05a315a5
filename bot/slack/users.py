"""Who is who: Slack user ids to people on the roster, and mentions in command text."""

from __future__ import annotations

import logging
import re

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.mentions import resolve_handle
from domain.types import Actor, Mention, UnresolvedMention
from storage import people
from storage.db import Database
from storage.models import Person

log = logging.getLogger(__name__)

_SLACK_MENTION = re.compile(r"^<@([A-Z0-9]+)(?:\|([^>]*))?>$")


def slack_error(exc: SlackApiError) -> str:
    """The `error` code of a failed Web API call (or the HTTP status when there is none)."""
    data = getattr(exc.response, "data", None)
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    return f"http {getattr(exc.response, 'status_code', '?')}"


def not_on_roster_text(email: str | None) -> str:
    """What an unknown user is told: how to get added."""
    who = f"your email ({email})" if email else "your work email"
    return (
        "I don't know you yet, so I can't run this for you. "
        f"Ask your leadbot admin to add {who} to the roster "
        "(`leadbot import roster`, or `/leadbot team add` once you are on it); "
        "I'll recognise you automatically after that."
    )


def inactive_text() -> str:
    return "Your leadbot account is switched off. Ask your leadbot admin if that is a mistake."


def actor_of(person: Person) -> Actor:
    assert person.id is not None
    return Actor(
        person_id=person.id,
        email=person.email,
        name=person.display_name,
        role=person.role,
        team_id=person.team_id,
        timezone=person.timezone,
    )


class UserDirectory:
    """Maps Slack users to people: by stored slack_user_id, else once by email (users.info).

    A match by email is remembered on the person, so users.info is asked once per person.
    """

    def __init__(self, db: Database, client: AsyncWebClient) -> None:
        self.db = db
        self.client = client

    async def email_of(self, slack_user_id: str) -> str | None:
        """The user's email from Slack (needs users:read.email), or None."""
        try:
            resp = await self.client.users_info(user=slack_user_id)
        except SlackApiError as exc:
            log.warning("users.info failed user=%s error=%s", slack_user_id, slack_error(exc))
            return None
        user = resp.get("user") or {}
        profile = user.get("profile") or {}
        email = profile.get("email")
        return str(email).strip().lower() if email else None

    async def person_for(self, slack_user_id: str) -> tuple[Person | None, str | None]:
        """(the person, their Slack email when we had to look it up)."""
        person = await people.get_by_slack_id(self.db, slack_user_id=slack_user_id)
        if person is not None:
            return person, None
        email = await self.email_of(slack_user_id)
        if email is None:
            return None, None
        person = await people.get_by_email(self.db, email=email)
        if person is None or person.id is None:
            return None, email
        if person.slack_user_id and person.slack_user_id != slack_user_id:
            # The roster already links this email to another Slack user; don't steal it.
            log.warning(
                "email %s is linked to slack user %s, not %s",
                email,
                person.slack_user_id,
                slack_user_id,
            )
            return None, email
        await people.set_platform_id(self.db, person_id=person.id, slack_user_id=slack_user_id)
        person.slack_user_id = slack_user_id
        log.info("linked slack user %s to person %s by email", slack_user_id, person.id)
        return person, email

    async def actor_for(self, slack_user_id: str) -> tuple[Actor | None, str]:
        """The Actor for a Slack user, or None with the message to show them."""
        person, email = await self.person_for(slack_user_id)
        if person is None:
            return None, not_on_roster_text(email)
        if not person.active:
            return None, inactive_text()
        return actor_of(person), ""

    async def resolve_mention(self, text: str) -> Mention | UnresolvedMention:
        """`<@U123|name>`, `<@U123>` by Slack id (users.info fallback); `@name` by handle."""
        m = _SLACK_MENTION.match(text)
        if m is None:
            return await resolve_handle(self.db, text)
        user_id, label = m.group(1), m.group(2)
        shown = f"@{label}" if label else f"<@{user_id}>"
        person, _email = await self.person_for(user_id)
        if person is None or person.id is None or not person.active:
            return UnresolvedMention(shown, "they are not on the leadbot roster")
        return Mention(person.id, person.display_name)
