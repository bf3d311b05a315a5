"""The KPI sources: platform clients behind the port in domain/sources.py.

`build_sources(settings)` is called by the bootstrap and returns the configured ones by
name; `describe(settings)` says, for each known source, whether it is configured and
what is missing. Each platform client lives in its own module and imports its SDK only
when it is built (the `connect` and `flex` extras), so the base install stays small.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.sources.connect import ConnectSource
from bot.sources.flex import FlexSource
from bot.sources.genesys import GenesysSource
from bot.sources.http import HttpSource
from bot.sources.zendesk import ZendeskSource
from domain.settings import Settings
from domain.sources import SOURCE_NAMES, Source

TITLES = {
    "genesys": "Genesys Cloud",
    "connect": "Amazon Connect",
    "flex": "Twilio Flex",
    "zendesk": "Zendesk",
    "http": "HTTP pull (KPI_SOURCE_URL)",
}
EXTRAS = {"genesys": "genesys", "connect": "connect", "flex": "flex", "zendesk": "zendesk"}


@dataclass(frozen=True)
class Configured:
    """Whether a source is set up, and if not, which settings it lacks."""

    name: str
    title: str
    missing: tuple[str, ...]

    @property
    def on(self) -> bool:
        return not self.missing


def _secret(value: object) -> str:
    get = getattr(value, "get_secret_value", None)
    return str(get()) if get else ""


def _missing(settings: Settings, name: str) -> tuple[str, ...]:
    s = settings
    need: dict[str, dict[str, object]] = {
        "http": {"KPI_SOURCE_URL": s.kpi_source_url},
        "genesys": {
            "GENESYS_CLIENT_ID": s.genesys_client_id,
            "GENESYS_CLIENT_SECRET": s.genesys_client_secret,
            "GENESYS_REGION": s.genesys_region or (s.genesys_api_url and s.genesys_login_url),
        },
        "connect": {"CONNECT_INSTANCE_ID": s.connect_instance_id},
        "flex": {
            "TWILIO_ACCOUNT_SID": s.twilio_account_sid,
            "TWILIO_AUTH_TOKEN": s.twilio_auth_token,
            "TWILIO_WORKSPACE_SID": s.twilio_workspace_sid,
        },
        "zendesk": {
            "ZENDESK_SUBDOMAIN": s.zendesk_subdomain or s.zendesk_api_url,
            "ZENDESK_EMAIL": s.zendesk_email,
            "ZENDESK_API_TOKEN": s.zendesk_api_token,
        },
    }
    return tuple(k for k, v in need[name].items() if not v)


def describe(settings: Settings) -> list[Configured]:
    """Every known source, configured or not."""
    return [Configured(n, TITLES[n], _missing(settings, n)) for n in SOURCE_NAMES]


def region_url(kind: str, region: str | None, override: str | None) -> str:
    """A Genesys Cloud base URL: the override, else `https://KIND.REGION`."""
    if override:
        return override
    host = (region or "").strip().removeprefix("https://").strip("/")
    return f"https://{kind}.{host}"


def build_source(settings: Settings, name: str) -> Source:
    """One source from the settings (call only for a configured one)."""
    s = settings
    repull = dt.timedelta(hours=s.kpi_repull_hours)
    if name == "http":
        assert s.kpi_source_url
        return HttpSource(s.kpi_source_url, _secret(s.kpi_source_token) or None)
    if name == "genesys":
        return GenesysSource(
            client_id=s.genesys_client_id or "",
            client_secret=_secret(s.genesys_client_secret),
            api_url=region_url("api", s.genesys_region, s.genesys_api_url),
            login_url=region_url("login", s.genesys_region, s.genesys_login_url),
            interval_minutes=s.kpi_interval_minutes,
            repull=repull,
            fcr_from_transfers=s.genesys_fcr_from_transfers,
        )
    if name == "connect":
        return ConnectSource(
            instance=s.connect_instance_id or "",
            interval_minutes=s.kpi_interval_minutes,
            repull=repull,
            sl_threshold_seconds=s.connect_sl_threshold_seconds,
            adherence=s.connect_adherence,
            evaluations=s.connect_evaluations,
        )
    if name == "flex":
        return FlexSource(
            account_sid=s.twilio_account_sid or "",
            auth_token=_secret(s.twilio_auth_token),
            workspace_sid=s.twilio_workspace_sid or "",
            api_key_sid=s.twilio_api_key_sid,
            interval_minutes=s.kpi_interval_minutes,
            sl_threshold_seconds=s.flex_sl_threshold_seconds,
            base_url=s.twilio_api_url,
        )
    if name == "zendesk":
        url = s.zendesk_api_url or f"https://{s.zendesk_subdomain}.zendesk.com"
        return ZendeskSource(
            api_url=url,
            email=s.zendesk_email or "",
            token=_secret(s.zendesk_api_token),
            interval_minutes=s.kpi_interval_minutes,
            repull=dt.timedelta(hours=s.zendesk_repull_hours),
        )
    raise ValueError(f"unknown source {name!r} (known: {', '.join(SOURCE_NAMES)})")


def build_sources(settings: Settings) -> dict[str, Source]:
    """The configured sources by name. Nothing connects here: a client is built lazily,
    and an SDK (boto3, twilio) is imported on first use."""
    return {c.name: build_source(settings, c.name) for c in describe(settings) if c.on}
