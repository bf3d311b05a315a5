"""The Agents SDK's auth configuration from leadbot's settings (server and sender share it):
who may call us (token issuers, tenants), where we may send (service hosts), and one
outbound token fetch at a time.

- Inbound tokens: the SDK checks signature, expiry and audience; we also turn on its
  issuer allow-list (VALIDATE_ISSUER) with the Bot Framework issuer and the Entra issuers
  of the configured tenants only (the SDK adds Microsoft's own first-party tenants).
- Service hosts: the SDK's OutboundHostValidator with TEAMS_ALLOWED_SERVICE_HOSTS only
  (https, no IP literals); an activity naming another host is refused, and nothing with
  the bot's token is ever sent to one.
- Outbound tokens: MSAL caches them, but a cold cache and N concurrent turns meant N
  token requests; `SingleFlight` lets one through and the others then read the cache.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from microsoft_agents.authentication.msal import MsalAuth
from microsoft_agents.hosting.core import AgentAuthConfiguration, OutboundHostValidator

from domain.settings import Settings

BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
ENTRA_ISSUERS = ("https://sts.windows.net/{0}/", "https://login.microsoftonline.com/{0}/v2.0")


def token_issuers(tenants: tuple[str, ...]) -> list[str]:
    """The issuers accepted: Bot Framework (Teams' own tokens) and each tenant's Entra ones."""
    return [BOT_FRAMEWORK_ISSUER, *(i.format(t) for t in tenants for i in ENTRA_ISSUERS)]


def auth_configuration(settings: Settings) -> AgentAuthConfiguration | None:
    """The SDK's auth settings, or None when Teams is off."""
    if not settings.teams_enabled:
        return None
    secret = settings.teams_app_password.get_secret_value() if settings.teams_app_password else None
    kwargs: dict[str, Any] = {
        "anonymous_allowed": settings.teams_allow_anonymous,
        "validate_issuer": True,
        "issuers": token_issuers(settings.teams_tenants),
    }
    if settings.teams_app_id:
        kwargs["client_id"] = settings.teams_app_id
    if secret:
        kwargs["client_secret"] = secret
    if settings.teams_tenant_id:
        kwargs["tenant_id"] = settings.teams_tenant_id
    return AgentAuthConfiguration(**kwargs)


def has_credentials(settings: Settings) -> bool:
    """Tokens are checked (and replies carry the bot's token): not anonymous-only mode."""
    return bool(settings.teams_app_id and settings.teams_app_password)


def service_host_validator(settings: Settings) -> OutboundHostValidator:
    """The service hosts an activity may name and replies may go to.

    Off only in anonymous-only mode (TEAMS_ALLOW_ANONYMOUS without credentials, local
    testing): no token is checked there and none is sent, and the SDK's validator cannot
    allow a plain-http loopback emulator.
    """
    return OutboundHostValidator(
        list(settings.teams_allowed_service_hosts),
        enabled=has_credentials(settings),
        include_default_microsoft_hosts=False,
    )


class SingleFlight:
    """An SDK access-token provider that fetches one token at a time.

    Every call goes through one lock: at a cold start the first caller asks Entra and the
    rest, once it is done, get the token from the inner provider's cache (MSAL's).
    Anything else the SDK asks of a provider is the inner one's.
    """

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._lock: asyncio.Lock | None = None

    @property
    def configuration(self) -> AgentAuthConfiguration:
        config: AgentAuthConfiguration = self._inner.configuration
        return config

    def _gate(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    async def get_access_token(
        self, resource_url: str, scopes: list[str], force_refresh: bool = False
    ) -> str:
        async with self._gate():
            token: str = await self._inner.get_access_token(resource_url, scopes, force_refresh)
            return token

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def single_flight_msal(config: AgentAuthConfiguration) -> SingleFlight:
    """MSAL for TEAMS_APP_ID/TEAMS_APP_PASSWORD, one token request at a time."""
    return SingleFlight(MsalAuth(config))


BOT_FRAMEWORK_RESOURCE = "https://api.botframework.com"
TokenProvider = Callable[[], Awaitable[str]]


def bot_framework_token(provider: SingleFlight) -> TokenProvider:
    """A Bot Framework token from `provider` (the outbox sender's view of it)."""

    async def token() -> str:
        return await provider.get_access_token(
            BOT_FRAMEWORK_RESOURCE, [BOT_FRAMEWORK_RESOURCE + "/.default"]
        )

    return token
