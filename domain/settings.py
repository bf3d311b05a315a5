"""The one settings class (pydantic-settings): every setting and its default, once.

Declaring it reads nothing; the bootstrap (bot/bootstrap.py) instantiates it once per
process, which is when the environment and `.env` are read. Handlers and jobs get it
through their context. docs/admin/configuration.md is generated from this class.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from domain.localtime import zone

# The Teams service hosts (public cloud, GCC, GCC High, DoD) Teams names as serviceUrl.
TEAMS_SERVICE_HOSTS = (
    "smba.trafficmanager.net",
    "smba.infra.gcc.teams.microsoft.com",
    "smba.infra.gov.teams.microsoft.us",
    "smba.infra.dod.teams.microsoft.us",
)


def _words(v: object) -> object:
    """A comma- or space-separated setting as a tuple of words (lists pass through)."""
    if isinstance(v, str):
        return tuple(w for w in re.split(r"[\s,]+", v) if w)
    return v


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    # repr=False: a PostgreSQL URL carries its password.
    database_url: str = Field(default="sqlite+aiosqlite:///leadbot.db", repr=False)
    leadbot_secret: SecretStr = SecretStr("dev-secret-change-me")
    default_timezone: str = "UTC"
    port: int = 3000
    log_level: str = "INFO"
    log_format: str = "text"  # text | json
    max_body_bytes: int = 256 * 1024

    # Slack
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None  # Socket Mode when set
    slack_api_url: str = "https://slack.com/api/"

    # Microsoft Teams
    teams_app_id: str | None = None
    teams_app_password: SecretStr | None = None
    teams_tenant_id: str | None = None
    teams_allow_anonymous: bool = False
    teams_allowed_tenant_ids: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description=(
            "Further Entra tenant ids (comma-separated) whose Teams activities are accepted, "
            "besides TEAMS_TENANT_ID. With credentials set and no tenant at all, every "
            "activity is refused (401)."
        ),
    )
    teams_allowed_service_hosts: Annotated[tuple[str, ...], NoDecode] = Field(
        default=TEAMS_SERVICE_HOSTS,
        description=(
            "The Bot Connector hosts (comma-separated; a host allows its sub-domains) an "
            "activity's serviceUrl may name, and so the only hosts replies and proactive "
            "messages (with the bot's token) are sent to. Only https is ever allowed. The "
            "default is Teams' public, GCC, GCC High and DoD service hosts."
        ),
    )

    # KPIs
    kpi_source_url: str | None = None
    kpi_source_token: SecretStr | None = None
    kpi_pull_cron: str = "*/15 * * * *"

    # Product rules
    pulse_min_responses: int = Field(default=5, ge=3)
    kudos_daily_limit: int | None = Field(default=None, ge=1)
    action_escalate_after_days: int = Field(default=2, ge=1)
    action_evidence_days: int = Field(default=5, ge=1)
    streak_days: int = Field(default=5, ge=2)
    oneonone_reminder_minutes: int = Field(default=15, ge=0)

    # Retention
    retention_pulse_comments_days: int = Field(default=365, ge=1)
    retention_outbox_days: int = Field(default=30, ge=1)

    # Scheduler
    scheduler_timezone: str = "UTC"
    job_grace_seconds: int = Field(default=3600, ge=1)

    # Delivery (the outbox dispatcher; other platform limits are in jobs/dispatcher.py)
    slack_rate_per_second: float = Field(default=20.0, gt=0)  # workspace-wide budget
    slack_channel_rate_per_second: float = Field(default=1.0, gt=0)
    outbox_max_attempts: int = Field(default=11, ge=1)

    @field_validator("default_timezone", "scheduler_timezone")
    @classmethod
    def _valid_zone(cls, v: str) -> str:
        return zone(v).key

    @field_validator("teams_allowed_tenant_ids", "teams_allowed_service_hosts", mode="before")
    @classmethod
    def _split_words(cls, v: object) -> object:
        return _words(v)

    @field_validator("teams_allowed_tenant_ids")
    @classmethod
    def _lower_tenants(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(t.strip().lower() for t in v if t.strip())

    @field_validator("kudos_daily_limit", mode="before")
    @classmethod
    def _empty_is_none(cls, v: object) -> object:
        return None if v in ("", "none", "0") else v

    @property
    def secret(self) -> str:
        """LEADBOT_SECRET's value (keys pulse hashes and signed links)."""
        return self.leadbot_secret.get_secret_value()

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token and self.slack_signing_secret) or bool(
            self.slack_bot_token and self.slack_app_token
        )

    @property
    def teams_tenants(self) -> tuple[str, ...]:
        """Every tenant whose Teams activities are accepted (TEAMS_TENANT_ID first)."""
        found: list[str] = []
        for t in (self.teams_tenant_id, *self.teams_allowed_tenant_ids):
            key = (t or "").strip().lower()
            if key and key not in found:
                found.append(key)
        return tuple(found)

    @property
    def teams_enabled(self) -> bool:
        return bool(self.teams_app_id and self.teams_app_password) or self.teams_allow_anonymous
