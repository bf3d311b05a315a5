"""The live pollers the settings configure (docs/admin/live-sources.md)."""

from __future__ import annotations

import logging

from bot.live.connect import ConnectLive
from bot.live.genesys import GenesysLive
from bot.live.twilio import TwilioLive
from bot.sources import region_url
from bot.sources.common import MissingExtra
from bot.sources.connect import make_client
from bot.sources.flex import TASKROUTER
from domain.live import LiveSource
from domain.settings import Settings

log = logging.getLogger(__name__)


def genesys_urls(settings: Settings) -> tuple[str, str]:
    """(API, login) base URLs: GENESYS_API_URL / GENESYS_LOGIN_URL, else the region's."""
    s = settings
    return (
        region_url("api", s.genesys_region, s.genesys_api_url),
        region_url("login", s.genesys_region, s.genesys_login_url),
    )


def build_sources(settings: Settings) -> list[LiveSource]:
    """A poller for each platform whose settings are complete; LIVE_QUEUES says which
    queues and their teams."""
    queues = settings.live_queue_teams
    out: list[LiveSource] = []
    poll = float(settings.live_poll_seconds)
    genesys_where = settings.genesys_region or (
        settings.genesys_api_url and settings.genesys_login_url
    )
    if settings.genesys_client_id and not genesys_where:
        log.warning("live: GENESYS_REGION is not set: Genesys Cloud is not polled")
    if settings.genesys_client_id and settings.genesys_client_secret and genesys_where and queues:
        api, login = genesys_urls(settings)
        out.append(
            GenesysLive(
                client_id=settings.genesys_client_id,
                client_secret=settings.genesys_client_secret.get_secret_value(),
                api_url=api,
                login_url=login,
                queues=queues,
                poll_seconds=poll,
            )
        )
    if settings.connect_instance_id and queues:
        try:
            client = make_client()
        except MissingExtra as exc:
            log.error("live: %s; Amazon Connect is not polled", exc)
        else:
            out.append(
                ConnectLive(
                    client=client,
                    instance_id=settings.connect_instance_id,
                    queues=queues,
                    poll_seconds=poll,
                )
            )
    if (
        settings.twilio_account_sid
        and settings.twilio_auth_token
        and settings.twilio_workspace_sid
        and queues
    ):
        out.append(
            TwilioLive(
                # An API key authenticates as its own SID (TWILIO_API_KEY_SID), as the
                # KPI connector does.
                account_sid=settings.twilio_api_key_sid or settings.twilio_account_sid,
                auth_token=settings.twilio_auth_token.get_secret_value(),
                workspace_sid=settings.twilio_workspace_sid,
                queues=queues,
                api_url=settings.twilio_api_url or TASKROUTER,
                poll_seconds=poll,
            )
        )
    if (
        settings.genesys_client_id or settings.connect_instance_id or settings.twilio_account_sid
    ) and not queues:
        log.warning("live: a platform is configured but LIVE_QUEUES is empty: nothing is polled")
    return out
