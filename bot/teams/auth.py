"""The Agents SDK's auth configuration from leadbot's settings (server and sender share it)."""

from __future__ import annotations

from typing import Any

from microsoft_agents.hosting.core import AgentAuthConfiguration

from domain.settings import Settings


def auth_configuration(settings: Settings) -> AgentAuthConfiguration | None:
    """The SDK's auth settings, or None when Teams is off."""
    if not settings.teams_enabled:
        return None
    secret = settings.teams_app_password.get_secret_value() if settings.teams_app_password else None
    kwargs: dict[str, Any] = {"anonymous_allowed": settings.teams_allow_anonymous}
    if settings.teams_app_id:
        kwargs["client_id"] = settings.teams_app_id
    if secret:
        kwargs["client_secret"] = secret
    if settings.teams_tenant_id:
        kwargs["tenant_id"] = settings.teams_tenant_id
    return AgentAuthConfiguration(**kwargs)
