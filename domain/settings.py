"""The one settings class (pydantic-settings): every setting and its default, once.

Declaring it reads nothing; the bootstrap (bot/bootstrap.py) instantiates it once per
process, which is when the environment and `.env` are read. Handlers and jobs get it
through their context. docs/admin/configuration.md is generated from this class.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.localtime import zone


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
    http_header_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description=(
            "A new connection whose request headers have not all arrived within this many "
            "seconds is closed, so slow or stalled clients can't hold the server's "
            "connections."
        ),
    )
    http_idle_timeout_seconds: float = Field(
        default=75.0,
        gt=0,
        description=(
            "A kept-alive connection idle this long between requests is closed. Keep it "
            "above your load balancer's idle timeout (AWS ALB: 60 s) so the balancer, not "
            "the server, closes idle connections."
        ),
    )
    http_max_connections: int = Field(
        default=1000,
        ge=1,
        description=(
            "Open connections the web server accepts at once (kept below the process's "
            "file-descriptor limit); beyond it new connections get 503 and are closed."
        ),
    )

    # Slack
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None  # Socket Mode when set
    slack_api_url: str = "https://slack.com/api/"
    slack_response_url_hosts: str = Field(
        default="hooks.slack.com,hooks.slack-gov.com",
        description=(
            "Comma-separated hosts a Slack response_url may point at; replies to any other "
            "host are refused (and sent as a DM instead). Only tests add a loopback host."
        ),
    )

    # Microsoft Teams
    teams_app_id: str | None = None
    teams_app_password: SecretStr | None = None
    teams_tenant_id: str | None = None
    teams_allow_anonymous: bool = False

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

    @field_validator("kudos_daily_limit", mode="before")
    @classmethod
    def _empty_is_none(cls, v: object) -> object:
        return None if v in ("", "none", "0") else v

    @property
    def secret(self) -> str:
        """LEADBOT_SECRET's value (keys pulse hashes and signed links)."""
        return self.leadbot_secret.get_secret_value()

    @property
    def slack_reply_hosts(self) -> tuple[str, ...]:
        """SLACK_RESPONSE_URL_HOSTS as a tuple."""
        return tuple(h.strip() for h in self.slack_response_url_hosts.split(",") if h.strip())

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token and self.slack_signing_secret) or bool(
            self.slack_bot_token and self.slack_app_token
        )

    @property
    def teams_enabled(self) -> bool:
        return bool(self.teams_app_id and self.teams_app_password) or self.teams_allow_anonymous
