"""POST /api/messages on the shared aiohttp server.

The Agents SDK's JWT middleware checks the Bot Framework bearer token before anything is
read (signature, expiry, audience, issuer: bot/teams/auth.py); a missing or bad token is
a 401 and touches nothing. Then bot/teams/trust.py binds the activity to the token (its
serviceUrl is the token's serviceurl claim, an allowed host, in an allowed tenant), and
the SDK's OutboundHostValidator checks the host once more. Without TEAMS_APP_ID and
TEAMS_APP_PASSWORD (and without TEAMS_ALLOW_ANONYMOUS) Teams is off: the route answers
401 and processes nothing.
"""

from __future__ import annotations

import logging
import secrets
import ssl
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web
from microsoft_agents.hosting.aiohttp import CloudAdapter, jwt_authorization_middleware
from microsoft_agents.hosting.core import (
    AgentAuthConfiguration,
    ClaimsIdentity,
    ConnectionManager,
    OutboundHostValidator,
    TurnContext,
)
from pydantic import ValidationError

from bot.bootstrap import App
from bot.teams import outbound
from bot.teams.agent import TeamsAgent
from bot.teams.auth import (
    auth_configuration,
    has_credentials,
    service_host_validator,
    single_flight_msal,
)
from bot.teams.connector import ConnectorClientFactory
from bot.teams.sender import UNAUTHORIZED
from bot.teams.trust import InboundTrust
from domain.settings import Settings
from domain.types import message

log = logging.getLogger(__name__)

MESSAGES_PATH = "/api/messages"
SORRY = "Sorry, something went wrong on our side (ref {ref}). Nothing was changed."


def make_adapter(
    config: AgentAuthConfiguration,
    *,
    host_validator: OutboundHostValidator,
    ssl_context: ssl.SSLContext | None = None,
) -> CloudAdapter:
    """A CloudAdapter that refuses service hosts not allowed, fetches one outbound token
    at a time, and logs turn errors (never shown to the user)."""
    connections = ConnectionManager(
        provider_factory=single_flight_msal,
        connections_configurations={"SERVICE_CONNECTION": config},
    )
    factory = ConnectorClientFactory(
        connections,
        host_validator=host_validator,
        ssl_context=ssl_context or ssl.create_default_context(),
    )
    adapter = CloudAdapter(channel_service_client_factory=factory, host_validator=host_validator)

    refused_once = False

    async def on_turn_error(context: TurnContext, error: Exception) -> None:
        nonlocal refused_once
        if isinstance(error, aiohttp.ClientResponseError) and error.status == 401:
            # The connector refuses the bot itself: telling the user would be refused too,
            # and every turn would say the same thing again.
            if not refused_once:
                refused_once = True
                log.error("teams: %s; replies fail until that is fixed", UNAUTHORIZED)
            return
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


def _warn_about(settings: Settings) -> None:
    if settings.teams_allow_anonymous:
        log.warning(
            "TEAMS_ALLOW_ANONYMOUS is on: /api/messages accepts requests without a token. "
            "Use this only for local testing."
        )
    if has_credentials(settings) and not settings.teams_tenants:
        log.error(
            "TEAMS_TENANT_ID is not set: every Teams activity will be refused (401). Set it "
            "to the bot's Entra tenant (and TEAMS_ALLOWED_TENANT_IDS for any other)."
        )
    elif not has_credentials(settings):
        log.warning(
            "Teams without credentials: replies go, without a token, to whatever serviceUrl "
            "an activity names."
        )


async def _activity_json(request: web.Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        return None  # the SDK answers 400


def build_teams_app(leadbot: App) -> web.Application:
    """The sub-application mounted at /api: POST /messages."""
    settings = leadbot.settings
    config = auth_configuration(settings)
    if config is None:
        raise ValueError("Microsoft Teams is off: set TEAMS_APP_ID and TEAMS_APP_PASSWORD")
    sub = web.Application(middlewares=[refuse_unreadable_tokens, jwt_authorization_middleware])
    _warn_about(settings)
    with warnings.catch_warnings():
        # The SDK's middleware reads its settings under this plain string key.
        warnings.simplefilter("ignore", web.NotAppKeyWarning)
        sub["agent_configuration"] = config
    adapter = make_adapter(config, host_validator=service_host_validator(settings))
    trust = InboundTrust.from_settings(settings)
    agent = TeamsAgent(leadbot.ctx)

    async def messages(request: web.Request) -> web.StreamResponse:
        claims = request.get("claims_identity")
        identity = claims if isinstance(claims, ClaimsIdentity) else None
        reason = trust.refusal(identity, await _activity_json(request))
        if reason is not None:
            log.warning("teams: refused an activity: %s", reason)
            return web.json_response({"error": "Unauthorized"}, status=401)
        try:
            response = await adapter.process(request, agent)
        except ValidationError:
            return web.json_response({"error": "not a valid activity"}, status=400)
        return response if response is not None else web.Response(status=202)

    sub.router.add_post("/messages", messages)
    log.info("Microsoft Teams on: POST %s", MESSAGES_PATH)
    return sub
