"""POST /api/messages on the shared aiohttp server.

The Agents SDK's JWT middleware checks the Bot Framework bearer token before anything is
read; a missing or bad token is a 401 and touches nothing. Without TEAMS_APP_ID and
TEAMS_APP_PASSWORD (and without TEAMS_ALLOW_ANONYMOUS) Teams is off: the route answers
401 and processes nothing.
"""

from __future__ import annotations

import logging
import secrets
import warnings
from collections.abc import Awaitable, Callable

from aiohttp import web
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.aiohttp import CloudAdapter, jwt_authorization_middleware
from microsoft_agents.hosting.core import AgentAuthConfiguration, TurnContext
from pydantic import ValidationError

from bot.bootstrap import App
from bot.teams import outbound
from bot.teams.agent import TeamsAgent
from bot.teams.auth import auth_configuration
from domain.types import message

log = logging.getLogger(__name__)

MESSAGES_PATH = "/api/messages"
SORRY = "Sorry, something went wrong on our side (ref {ref}). Nothing was changed."


def make_adapter(config: AgentAuthConfiguration) -> CloudAdapter:
    """A CloudAdapter whose turn errors are logged, never shown to the user."""
    adapter = CloudAdapter(
        connection_manager=MsalConnectionManager(
            connections_configurations={"SERVICE_CONNECTION": config}
        )
    )

    async def on_turn_error(context: TurnContext, error: Exception) -> None:
        ref = secrets.token_hex(3)
        log.error(
            "teams turn failed ref=%s type=%s",
            ref,
            context.activity.type,
            exc_info=(type(error), error, error.__traceback__),
        )
        try:
            await context.send_activity(outbound.message_activity(message(SORRY.format(ref=ref))))
        except Exception as exc:  # the connector itself may be what failed
            log.warning("teams: could not report turn error ref=%s: %s", ref, type(exc).__name__)

    adapter.on_turn_error = on_turn_error
    return adapter


@web.middleware
async def refuse_unreadable_tokens(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """A token the SDK's validator trips over (e.g. a JWT without a key id) is a 401."""
    try:
        return await handler(request)
    except Exception as exc:
        if "claims_identity" in request:
            raise  # authenticated: an error of ours, not of the caller's token
        log.warning("teams: refused a request with an unreadable token (%s)", type(exc).__name__)
        return web.json_response({"error": "Invalid token or authentication failed."}, status=401)


def build_teams_app(leadbot: App) -> web.Application:
    """The sub-application mounted at /api: POST /messages."""
    settings = leadbot.settings
    config = auth_configuration(settings)
    if config is None:
        raise ValueError("Microsoft Teams is off: set TEAMS_APP_ID and TEAMS_APP_PASSWORD")
    sub = web.Application(middlewares=[refuse_unreadable_tokens, jwt_authorization_middleware])
    if settings.teams_allow_anonymous:
        log.warning(
            "TEAMS_ALLOW_ANONYMOUS is on: /api/messages accepts requests without a token. "
            "Use this only for local testing."
        )
    with warnings.catch_warnings():
        # The SDK's middleware reads its settings under this plain string key.
        warnings.simplefilter("ignore", web.NotAppKeyWarning)
        sub["agent_configuration"] = config
    adapter = make_adapter(config)
    agent = TeamsAgent(leadbot.ctx)

    async def messages(request: web.Request) -> web.StreamResponse:
        try:
            response = await adapter.process(request, agent)
        except ValidationError:
            return web.json_response({"error": "not a valid activity"}, status=400)
        return response if response is not None else web.Response(status=202)

    sub.router.add_post("/messages", messages)
    log.info("Microsoft Teams on: POST %s", MESSAGES_PATH)
    return sub
