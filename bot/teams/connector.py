"""The Bot Connector clients a turn replies through.

The SDK's RestChannelServiceClientFactory, with two differences for Teams turns:

- the service URL is checked against the allowed service hosts before a token is even
  fetched, so the bot's Bot Framework token never goes to another host (the inbound
  check refuses such an activity first; this is the last line);
- the HTTP session verifies TLS with the context built when the server starts (the
  system's trust store, as SSL_CERT_FILE / SSL_CERT_DIR say) and has a timeout.

Agentic and Copilot Studio ("connector user") turns are left to the SDK's factory.
"""

from __future__ import annotations

import logging
import ssl
from typing import Any

import aiohttp
from microsoft_agents.activity import RoleTypes
from microsoft_agents.hosting.core import (
    ClaimsIdentity,
    OutboundHostValidator,
    RestChannelServiceClientFactory,
    TurnContext,
)
from microsoft_agents.hosting.core.authorization import AnonymousTokenProvider, Connections
from microsoft_agents.hosting.core.connector import ConnectorClientBase
from microsoft_agents.hosting.core.connector.teams import TeamsConnectorClient

log = logging.getLogger(__name__)


def client_session(
    base_url: str, *, ssl_context: ssl.SSLContext, timeout: aiohttp.ClientTimeout
) -> aiohttp.ClientSession:
    """A session for one Bot Connector endpoint (base URL ends with a slash)."""
    base = base_url if base_url.endswith("/") else base_url + "/"
    return aiohttp.ClientSession(
        base_url=base, timeout=timeout, connector=aiohttp.TCPConnector(ssl=ssl_context)
    )


class ConnectorClientFactory(RestChannelServiceClientFactory):
    """Connector clients only for allowed service hosts, over our TLS context."""

    def __init__(
        self,
        connections: Connections,
        *,
        host_validator: OutboundHostValidator,
        ssl_context: ssl.SSLContext,
        timeout_seconds: float = 15.0,
    ) -> None:
        super().__init__(connections)
        self._hosts = host_validator
        self._ssl = ssl_context
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    async def create_connector_client(
        self,
        context: TurnContext | None,
        claims_identity: ClaimsIdentity,
        service_url: str,
        audience: str,
        scopes: list[str] | None = None,
        use_anonymous: bool = False,
    ) -> ConnectorClientBase:
        if not service_url or not self._hosts.is_allowed(service_url):
            log.warning("teams: refused to open a connector client for a service URL not allowed")
            # The adapter answers a PermissionError with 401.
            raise PermissionError("service URL not allowed")
        activity: Any = context.activity if context is not None else None
        if activity is not None and (
            activity.is_agentic_request()
            or (activity.recipient and activity.recipient.role == RoleTypes.connector_user)
        ):
            client: ConnectorClientBase = await super().create_connector_client(
                context, claims_identity, service_url, audience, scopes, use_anonymous
            )
            return client
        provider: Any = (
            AnonymousTokenProvider()
            if use_anonymous
            else self._connection_manager.get_token_provider(claims_identity, service_url)
        )
        token = await provider.get_access_token(
            audience, scopes or claims_identity.get_token_scope()
        )
        session = client_session(service_url, ssl_context=self._ssl, timeout=self._timeout)
        return TeamsConnectorClient(endpoint=service_url, token=token, session=session)
