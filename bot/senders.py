"""Builds the outbox senders for the platforms that are configured."""

from __future__ import annotations

import importlib
import logging
from typing import Any

from bot.config import Settings
from jobs.delivery import Sender
from storage.db import Database

log = logging.getLogger(__name__)


def build_senders(settings: Settings, db: Database | None = None) -> dict[str, Sender]:
    """{platform: Sender} for Slack (SLACK_BOT_TOKEN) and Teams (TEAMS_APP_ID + password)."""
    senders: dict[str, Sender] = {}
    if settings.slack_bot_token:
        from bot.slack.sender import SlackSender

        senders["slack"] = SlackSender.from_settings(settings)
    if settings.teams_enabled and db is not None:
        teams = _teams_sender(settings, db)
        if teams is not None:
            senders["teams"] = teams
        else:
            log.warning("Teams is configured but no Teams sender could be built")
    return senders


def _teams_sender(settings: Settings, db: Database) -> Sender | None:
    try:
        mod: Any = importlib.import_module("bot.teams.sender")
    except ModuleNotFoundError:
        return None
    factory = getattr(mod, "make_teams_sender", None)
    if factory is None:
        return None
    sender: Sender | None = factory(settings, db)
    return sender


async def close_senders(senders: dict[str, Sender]) -> None:
    """Close the HTTP sessions senders keep open."""
    for sender in senders.values():
        close = getattr(sender, "close", None)
        if close is not None:
            try:
                await close()
            except Exception:
                log.debug("closing sender %s failed", sender.platform, exc_info=True)
