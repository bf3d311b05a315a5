"""Builds the outbox senders for the platforms that are configured.

The platform modules are imported here, when a sender is built, not at the top: the
Slack and Agents SDKs take about a second each to import, and `leadbot demo`, `console`,
`import` and the admin commands never send.
"""

from __future__ import annotations

import logging

from domain.settings import Settings
from jobs.delivery import Sender
from storage.db import Database

log = logging.getLogger(__name__)


def build_senders(settings: Settings, db: Database | None = None) -> dict[str, Sender]:
    """{platform: Sender} for Slack (SLACK_BOT_TOKEN) and Teams (TEAMS_APP_ID + password)."""
    senders: dict[str, Sender] = {}
    if settings.slack_bot_token:
        from bot.slack.sender import SlackSender

        senders["slack"] = SlackSender.from_settings(settings, db)
    if settings.teams_enabled and db is not None:
        from bot.teams.sender import make_teams_sender

        teams = make_teams_sender(settings, db)
        if teams is not None:
            senders["teams"] = teams
        else:
            log.warning("Teams is configured but no Teams sender could be built")
    return senders


async def close_senders(senders: dict[str, Sender]) -> None:
    """Close the HTTP sessions senders keep open."""
    for sender in senders.values():
        close = getattr(sender, "close", None)
        if close is not None:
            try:
                await close()
            except Exception:
                log.debug("closing sender %s failed", sender.platform, exc_info=True)
