"""What an inbound activity must prove before anything of it is read or stored.

The SDK's JWT middleware has checked the token's signature, expiry, audience and (with
VALIDATE_ISSUER, bot/teams/auth.py) its issuer by then. On top of that, for every
activity, before the turn starts:

- a token must carry a `serviceurl` claim (Teams' Bot Framework tokens do), and the
  activity's `serviceUrl` must be that URL: a token minted for one conversation service
  can't send the bot's replies (and its token) elsewhere, nor re-point a stored
  conversation reference;
- the `serviceUrl` host must be an allowed service host (TEAMS_ALLOWED_SERVICE_HOSTS);
- the activity's tenant (conversation.tenantId, channelData.tenant.id) must be one of
  the configured tenants (TEAMS_TENANT_ID, TEAMS_ALLOWED_TENANT_IDS). With credentials
  and no tenant configured, nothing is accepted.

A refused activity is a 401 and nothing of it is processed: conversation references are
stored only by turns that got past all of this. Anonymous-only mode (local testing, no
credentials) has no token to bind to; only the tenant rule applies there, when a tenant
is configured.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from microsoft_agents.hosting.core import ClaimsIdentity, OutboundHostValidator
from yarl import URL

from bot.teams.auth import has_credentials, service_host_validator
from domain.settings import Settings

log = logging.getLogger(__name__)

SERVICE_URL_CLAIM = "serviceurl"


def _canonical(url: str) -> tuple[str, str, int | None, str, str] | None:
    try:
        u = URL(url)
    except (TypeError, ValueError):
        return None
    if not u.absolute or u.user is not None or u.password is not None or not u.host:
        return None
    return (u.scheme.lower(), u.host.casefold(), u.port, u.path.rstrip("/"), u.query_string)


def same_service_url(claimed: str, given: str) -> bool:
    """The activity's serviceUrl names the service the token was issued for (scheme, host,
    port and path; a trailing slash and the host's case don't matter)."""
    a, b = _canonical(claimed), _canonical(given)
    return a is not None and a == b


def activity_tenants(body: dict[str, Any]) -> set[str]:
    """Every tenant id the activity names (they must all be allowed)."""
    found: set[str] = set()
    conv = body.get("conversation")
    if isinstance(conv, dict):
        tid = conv.get("tenantId")
        if isinstance(tid, str) and tid:
            found.add(tid.strip().lower())
    data = body.get("channelData")
    tenant = data.get("tenant") if isinstance(data, dict) else None
    if isinstance(tenant, dict):
        tid = tenant.get("id")
        if isinstance(tid, str) and tid:
            found.add(tid.strip().lower())
    return found


@dataclass(frozen=True)
class InboundTrust:
    tenants: frozenset[str]
    credentials: bool  # tokens are checked (not anonymous-only mode)
    hosts: OutboundHostValidator

    @classmethod
    def from_settings(cls, settings: Settings) -> InboundTrust:
        return cls(
            tenants=frozenset(settings.teams_tenants),
            credentials=has_credentials(settings),
            hosts=service_host_validator(settings),
        )

    def refusal(self, claims: ClaimsIdentity | None, body: Any) -> str | None:
        """Why this activity is refused, or None when it may be processed."""
        if not isinstance(body, dict):
            return None  # not an activity: the SDK answers 400 without processing it
        service_url = body.get("serviceUrl")
        if claims is not None and claims.claims:
            claimed = claims.get_claim_value(SERVICE_URL_CLAIM)
            if not isinstance(claimed, str) or not claimed:
                return "the token has no serviceurl claim"
            if not isinstance(service_url, str) or not same_service_url(claimed, service_url):
                return "the activity's serviceUrl is not the token's serviceurl claim"
        if (
            self.hosts.enabled
            and isinstance(service_url, str)
            and service_url
            and not self.hosts.is_allowed(service_url)
        ):
            return "the activity's serviceUrl is not an allowed service host"
        if self.credentials or self.tenants:
            named = activity_tenants(body)
            if not named:
                return "the activity names no tenant"
            if not named <= self.tenants:
                return "the activity's tenant is not an allowed tenant"
        return None
