"""Mounting POST /api/messages on the server, without loading the Agents SDK while Teams
is off (the SDK and MSAL take most of a second to import)."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.bootstrap import App

log = logging.getLogger(__name__)


async def teams_off(_request: web.Request) -> web.Response:
    """Teams is not configured: refuse, read nothing."""
    return web.json_response({"error": "Microsoft Teams is not configured"}, status=401)


def install_teams(app: web.Application, leadbot: App) -> None:
    """Mount POST /api/messages on the server's Application (401 while Teams is off)."""
    if not leadbot.settings.teams_enabled:
        log.info("Microsoft Teams is off (TEAMS_APP_ID/TEAMS_APP_PASSWORD not set)")
        app.router.add_post("/api/messages", teams_off)
        return
    from bot.teams.web import build_teams_app  # the SDK loads only when Teams is on

    app.add_subapp("/api", build_teams_app(leadbot))
