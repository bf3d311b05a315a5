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

    database_url: str = Field(
        default="sqlite+aiosqlite:///leadbot.db",
        repr=False,  # a PostgreSQL URL carries its password
        description=(
            "The database. The default is a SQLite file, `leadbot.db`, in the working "
            "directory. `postgresql://user:pass@host/db` (or `postgres://`) uses PostgreSQL "
            "through asyncpg, which a production install with several processes should use. "
            "Never printed or logged, since the URL carries the password."
        ),
    )
    leadbot_secret: SecretStr = Field(
        default=SecretStr("dev-secret-change-me"),
        description=(
            "The server secret that keys the anonymous pulse respondent hashes (HMAC-SHA256). "
            "`leadbot serve`, `run` and `scheduler` refuse to start while it is unset, the "
            "public development default or shorter than 32 characters; `leadbot demo` and "
            "`console` then make a random one, kept beside the SQLite file "
            "(`leadbot.db.secret`). Keep it stable while a pulse round is open: changing it "
            "then freezes the answers already given to that round (closed rounds "
            "keep no hash); see Secrets for how to rotate it."
        ),
    )
    default_timezone: str = Field(
        default="UTC",
        description=(
            "IANA time zone (`Europe/London`) of teams and people created without one, by the "
            "roster import or `/leadbot team create`. An unknown zone stops the process at start."
        ),
    )
    port: int = Field(
        default=3000,
        description="HTTP port of `leadbot serve` and `leadbot run`; `--port N` overrides it.",
    )
    log_level: str = Field(default="INFO", description="`DEBUG`, `INFO`, `WARNING` or `ERROR`.")
    log_format: str = Field(  # text | json
        default="text",
        description=(
            "`text`: one line per record. `json`: one JSON object per line, for a log shipper."
        ),
    )
    max_body_bytes: int = Field(
        default=256 * 1024,
        description=(
            "Largest request body the web server accepts. A larger one is refused with 413 "
            "from its `Content-Length` before anything reads it, and a body without one stops "
            "being read at the limit (`/slack/events` and `/api/messages` alike)."
        ),
    )
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
            "Open connections the web server accepts at once (never more than the process's "
            "file-descriptor limit leaves); beyond it a new connection gets 503 and is closed."
        ),
    )

    # Slack
    slack_bot_token: SecretStr | None = Field(
        default=None,
        description=(
            "The Slack bot token (`xoxb-...`). Slack is on when it is set together with "
            "`SLACK_SIGNING_SECRET` (HTTP mode) or `SLACK_APP_TOKEN` (Socket Mode)."
        ),
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None,
        description=(
            "Verifies that HTTP requests come from Slack (HTTP mode; not needed in Socket Mode)."
        ),
    )
    slack_app_token: SecretStr | None = Field(  # Socket Mode when set
        default=None,
        description=(
            "An app-level token (`xapp-...`, scope `connections:write`). When it is set, "
            "leadbot connects to Slack over Socket Mode instead of serving `/slack/events`."
        ),
    )
    slack_api_url: str = Field(
        default="https://slack.com/api/",
        description=(
            "Base URL of the Slack Web API. Tests and benchmarks point it at a local fake; "
            "leave it as it is."
        ),
    )
    slack_response_url_hosts: str = Field(
        default="hooks.slack.com,hooks.slack-gov.com",
        description=(
            "Comma-separated hosts a Slack `response_url` may point at (HTTPS). A reply to any "
            "other host is refused and sent to the person as a DM instead. Only tests add a "
            "loopback host; leave it as it is."
        ),
    )

    # Microsoft Teams
    teams_app_id: str | None = Field(
        default=None,
        description=(
            "The Microsoft App ID of the Azure Bot. Teams is on when it is set together with "
            "`TEAMS_APP_PASSWORD`; without them (and without `TEAMS_ALLOW_ANONYMOUS`) "
            "`/api/messages` answers 401 and the dispatcher has no Teams sender."
        ),
    )
    teams_app_password: SecretStr | None = Field(
        default=None,
        description="A client secret of that app (its Value, shown once in the Azure portal).",
    )
    teams_tenant_id: str | None = Field(
        default=None,
        description=(
            "The app's tenant ID (the App Tenant ID in the Azure portal). Required when Teams "
            "credentials are set: only activities from this tenant (and "
            "TEAMS_ALLOWED_TENANT_IDS) are accepted, every other gets 401."
        ),
    )
    teams_allow_anonymous: bool = Field(
        default=False,
        description=(
            "Accept Teams requests without a Bot Framework token: for the local Agents "
            "Playground or the Bot Framework Emulator only. leadbot logs a warning at start "
            "while it is on; never use it on a server reachable from the internet."
        ),
    )
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
    kpi_source_url: str | None = Field(
        default=None,
        description=(
            "HTTP endpoint that KPI values are pulled from, as JSON, by the scheduled pull "
            "(`kpis.pull`) and by `leadbot import kpis --from-url`. Nothing is pulled while it "
            "is unset. Logged without its query string."
        ),
    )
    kpi_source_token: SecretStr | None = Field(
        default=None,
        description="Bearer token sent to `KPI_SOURCE_URL` in the `Authorization` header.",
    )
    kpi_pull_cron: str = Field(
        default="*/15 * * * *",
        description=(
            "When the scheduler pulls KPIs: a 5-field cron expression, in UTC. An invalid one "
            "is logged at start and the default is used."
        ),
    )

    # KPI sources
    kpi_interval_minutes: int = Field(
        default=15,
        description=(
            "Length of the intervals the connectors pull, in minutes: `15` or `30`. Days are "
            "rolled up from them, so `/stats today` is at most one pull behind the platform."
        ),
    )
    kpi_repull_hours: float = Field(
        default=6.0,
        ge=0,
        description=(
            "How far back each connector pull reads again, in hours. Platforms emit some "
            "metrics late (Genesys Cloud counts a handle time when handling ends); a "
            "re-pulled interval replaces the earlier one, never adds to it."
        ),
    )
    kpi_interval_days: int = Field(
        default=35,
        ge=2,
        description=(
            "Days the pulled intervals are kept; the daily values rolled up from them stay. "
            "A queue mapped to a team later gets its figures for this many days back."
        ),
    )
    genesys_client_id: str | None = Field(
        default=None,
        description=(
            "OAuth client ID of a Genesys Cloud client-credentials grant. The `genesys` "
            "source is on when it is set with `GENESYS_CLIENT_SECRET` and `GENESYS_REGION`."
        ),
    )
    genesys_client_secret: SecretStr | None = Field(
        default=None, description="The secret of that OAuth client."
    )
    genesys_region: str | None = Field(
        default=None,
        description=(
            "The Genesys Cloud region's domain, as in your browser's address: "
            "`mypurecloud.com`, `mypurecloud.ie`, `mypurecloud.de`, `usw2.pure.cloud`, ..."
        ),
    )
    genesys_api_url: str | None = Field(
        default=None,
        description="Overrides the API base URL derived from the region (`https://api.REGION`).",
    )
    genesys_login_url: str | None = Field(
        default=None,
        description="Overrides the login URL derived from the region (`https://login.REGION`).",
    )
    genesys_pull_cron: str = Field(
        default="*/15 * * * *",
        description="When the `genesys` source is pulled: a 5-field cron, in UTC.",
    )
    genesys_fcr_from_transfers: bool = Field(
        default=False,
        description=(
            "Count first contact resolution as handled contacts not transferred "
            "(`tHandle` count less `nTransferred`) per agent. Off: FCR is not pulled."
        ),
    )
    connect_instance_id: str | None = Field(
        default=None,
        description=(
            "The Amazon Connect instance ID (or its ARN). The `connect` source is on when it "
            "is set; credentials, region and endpoint come from boto3's standard chain "
            "(`AWS_DEFAULT_REGION`, `AWS_PROFILE`, an instance role, "
            "`AWS_ENDPOINT_URL_CONNECT`, ...)."
        ),
    )
    connect_pull_cron: str = Field(
        default="*/15 * * * *",
        description="When the `connect` source is pulled: a 5-field cron, in UTC.",
    )
    connect_sl_threshold_seconds: int = Field(
        default=20,
        ge=1,
        le=604800,
        description="Amazon Connect service level threshold: answered within this many seconds.",
    )
    connect_adherence: bool = Field(
        default=False,
        description=(
            "Pull schedule adherence from Amazon Connect (only in regions with forecasting, "
            "capacity planning and scheduling, and with it set up)."
        ),
    )
    connect_evaluations: bool = Field(
        default=True,
        description=(
            "Pull QA scores from Amazon Connect contact evaluations (one "
            "ListContactEvaluations call per contact in each pulled window)."
        ),
    )
    twilio_account_sid: str | None = Field(
        default=None,
        description=(
            "Twilio Account SID (`AC...`). The `flex` source is on when it is set with "
            "`TWILIO_AUTH_TOKEN` and `TWILIO_WORKSPACE_SID`."
        ),
    )
    twilio_auth_token: SecretStr | None = Field(
        default=None, description="The account's auth token (or an API key's secret)."
    )
    twilio_api_key_sid: str | None = Field(
        default=None,
        description="An API key SID (`SK...`) to authenticate with instead of the account SID.",
    )
    twilio_workspace_sid: str | None = Field(
        default=None, description="The Flex TaskRouter workspace (`WS...`)."
    )
    twilio_api_url: str | None = Field(
        default=None,
        description="Overrides the TaskRouter base URL (`https://taskrouter.twilio.com`): tests.",
    )
    flex_pull_cron: str = Field(
        default="*/15 * * * *",
        description="When the `flex` source is pulled: a 5-field cron, in UTC.",
    )
    flex_sl_threshold_seconds: int = Field(
        default=20,
        ge=1,
        description="Service level threshold for Twilio Flex (TaskRouter's SplitByWaitTime).",
    )
    zendesk_subdomain: str | None = Field(
        default=None,
        description=(
            "Your Zendesk subdomain (`acme` for acme.zendesk.com). The `zendesk` source is on "
            "when it is set with `ZENDESK_EMAIL` and `ZENDESK_API_TOKEN`."
        ),
    )
    zendesk_email: str | None = Field(
        default=None, description="The email of the Zendesk admin the API token belongs to."
    )
    zendesk_api_token: SecretStr | None = Field(
        default=None, description="A Zendesk API token (Admin Center, Apps and integrations)."
    )
    zendesk_api_url: str | None = Field(
        default=None,
        description="Overrides the API base URL (`https://SUBDOMAIN.zendesk.com`); tests only.",
    )
    zendesk_pull_cron: str = Field(
        default="*/30 * * * *",
        description="When the `zendesk` source is pulled: a 5-field cron, in UTC.",
    )
    zendesk_repull_hours: float = Field(
        default=72.0,
        ge=0,
        description=(
            "How far back each Zendesk pull reads again: customers answer satisfaction "
            "surveys hours or days after the ticket is solved."
        ),
    )

    # Live queues and alerts
    live_push_secret: SecretStr | None = Field(
        default=None,
        description=(
            "Shared secret of the signed push endpoint `POST /kpi/live` (HMAC-SHA256 of "
            "`{timestamp}.{body}`, see [Live sources](live-sources.md)). Unset: the endpoint "
            "answers 404. Use a long random value."
        ),
    )
    live_queues: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description=(
            "The queues the live pollers watch and the team each belongs to: "
            "`QUEUE_ID=Team name` pairs, comma-separated (`c0ffee-12=Billing, 7f3a=Sales`). "
            "Genesys Cloud and Amazon Connect queue ids, Twilio TaskQueue SIDs. Pushed "
            "observations name their team themselves."
        ),
    )
    live_poll_seconds: int = Field(
        default=15,
        ge=5,
        le=300,
        description=(
            "How often the live pollers ask each platform (never faster than the platform's "
            "own floor: Genesys Cloud observations a few times a minute)."
        ),
    )
    alert_tick_seconds: int = Field(
        default=5,
        ge=1,
        le=30,
        description=(
            "How often the scheduler evaluates the alert rules (a divisor of 60). Detection "
            "happens within this long after a rule's onset has elapsed."
        ),
    )
    alert_update_seconds: int = Field(
        default=60,
        ge=20,
        description=(
            "An open alert's message is edited for a new value at most this often (a change "
            "of severity, an escalation or the recovery edit it at once)."
        ),
    )
    wallboard_seconds: int = Field(
        default=60,
        ge=30,
        le=3600,
        description=(
            "Default interval of `/wallboard on` (30 s at least: Slack's chat.update limit)."
        ),
    )

    # Product rules
    pulse_min_responses: int = Field(
        default=5,
        ge=3,
        description=(
            "Fewest answers before any figure of a pulse round is shown (never below 3). "
            "Raise it for more cover on small teams. A round keeps the value it was opened "
            "under: lowering it never shows an earlier round."
        ),
    )
    kudos_daily_limit: int | None = Field(
        default=None,
        ge=1,
        description=(
            "Most kudos a person may give per day, each receiver counting as one; the "
            "allowance resets at midnight in the giver's time zone. Empty, `none` or `0`: "
            "no limit."
        ),
    )
    action_escalate_after_days: int = Field(
        default=2,
        ge=1,
        description=(
            "Working days an action item may be overdue before its assigner (for items people "
            "set themselves: their lead or manager) is told."
        ),
    )
    action_evidence_days: int = Field(
        default=5,
        ge=1,
        description=(
            "Working days in a row on target before a metric-linked action item is offered "
            'to its assigner for closing ("Close as achieved").'
        ),
    )
    streak_days: int = Field(
        default=5,
        ge=2,
        description=(
            "Working days on target in a row that make a streak: it earns a ★ in the daily "
            "goal update and a kudos suggestion to the lead."
        ),
    )
    stats_min_contacts: int = Field(
        default=30,
        ge=1,
        le=100_000,
        description=(
            "Fewest contacts (for a ratio such as CSAT or FCR: its denominator; for NPS: "
            "responses) behind a figure before it "
            "is compared: with the period before (the Δ column), with its goal (✓/✗), in a "
            "streak, or as one of the daily update's biggest movers. A figure with fewer is "
            'still shown, marked "only 12 contacts", and judged by nothing.'
        ),
    )
    oneonone_reminder_minutes: int = Field(
        default=15,
        ge=0,
        description=(
            "How long before a 1:1 the short reminder (with the prep card button for the "
            "lead) goes out; 0 turns it off."
        ),
    )

    # Dashboard
    dashboard_base_url: str | None = Field(
        default=None,
        description=(
            "The address people open the web dashboard at, as they reach this server "
            "(`https://leadbot.example.com`; the dashboard is served under `/dashboard/`). "
            "Unset: the dashboard is off and `/leadbot dashboard` says so. Use `https://` in "
            "production: the session cookie is then marked Secure."
        ),
    )
    dashboard_link_minutes: int = Field(
        default=10,
        ge=1,
        le=60,
        description=(
            "How long the one-time sign-in link that `/leadbot dashboard` sends stays valid."
        ),
    )
    dashboard_session_hours: int = Field(
        default=12,
        ge=1,
        le=24 * 7,
        description=(
            "How long a dashboard sign-in lasts before `/leadbot dashboard` is needed again."
        ),
    )

    charts_enabled: bool = Field(
        default=True,
        description=(
            "Charts in chat: `/stats METRIC chart` draws the trend (a PNG uploaded in Slack, "
            "a native chart in Teams; the table is always there). On, the Slack manifest "
            "asks for `files:write` (the upload) and `im:write` (the DM the chart goes to); "
            "off, the command answers with the table only and the manifest asks for neither."
        ),
    )

    # Retention
    retention_pulse_comments_days: int = Field(
        default=365,
        ge=1,
        description=(
            "Pulse comments of rounds closed longer ago than this are deleted (the scores "
            "stay for the trend)."
        ),
    )
    retention_outbox_days: int = Field(
        default=30,
        ge=1,
        description=(
            "Sent and dead outbox messages, processed-event keys and job-run records older "
            "than this are deleted."
        ),
    )

    # Scheduler
    scheduler_timezone: str = Field(
        default="UTC",
        description=(
            "The scheduler's own time zone. Every job carries its own zone (global jobs run "
            "on UTC, team jobs in each team's zone), so this moves no job."
        ),
    )
    job_grace_seconds: int = Field(
        default=3600,
        ge=1,
        description=(
            "How late a missed scheduled run (downtime, a busy loop) may still be made up, "
            "once; older misses are skipped, never replayed as a burst."
        ),
    )

    # Delivery (the outbox dispatcher; other platform limits are in jobs/dispatcher.py)
    slack_rate_per_second: float = Field(  # workspace-wide budget
        default=20.0,
        gt=0,
        description="Messages per second the dispatcher sends to one Slack workspace.",
    )
    slack_channel_rate_per_second: float = Field(
        default=1.0,
        gt=0,
        description="Messages per second the dispatcher sends to one Slack channel or DM.",
    )
    outbox_max_attempts: int = Field(
        default=11,
        ge=1,
        description=(
            "Failed tries (5xx, timeouts, network errors) before a message is marked dead; "
            "429s do not count. With 11, about 23 to 47 minutes of continuous failure."
        ),
    )

    @field_validator("kpi_interval_minutes")
    @classmethod
    def _interval(cls, v: int) -> int:
        if v not in (15, 30):
            raise ValueError("KPI_INTERVAL_MINUTES must be 15 or 30")
        return v

    @field_validator("default_timezone", "scheduler_timezone")
    @classmethod
    def _valid_zone(cls, v: str) -> str:
        return zone(v).key

    @field_validator("alert_tick_seconds")
    @classmethod
    def _divides_minute(cls, v: int) -> int:
        if 60 % v:
            raise ValueError("must divide 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20 or 30)")
        return v

    @field_validator("live_queues", mode="before")
    @classmethod
    def _split_pairs(cls, v: object) -> object:
        # Team names have spaces: only commas (and new lines) separate the pairs.
        if isinstance(v, str):
            return tuple(p.strip() for p in re.split(r"[,\n]+", v) if p.strip())
        return v

    @field_validator("teams_allowed_tenant_ids", "teams_allowed_service_hosts", mode="before")
    @classmethod
    def _split_words(cls, v: object) -> object:
        return _words(v)

    @field_validator("teams_allowed_tenant_ids")
    @classmethod
    def _lower_tenants(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(t.strip().lower() for t in v if t.strip())

    @field_validator("dashboard_base_url", mode="before")
    @classmethod
    def _base_url(cls, v: object) -> object:
        if v is None or (isinstance(v, str) and not v.strip()):
            return None
        if not isinstance(v, str) or not v.startswith(("http://", "https://")):
            raise ValueError("DASHBOARD_BASE_URL must start with http:// or https://")
        return v.strip().rstrip("/")

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
    def live_queue_teams(self) -> dict[str, str]:
        """LIVE_QUEUES as {queue id: team name} (a bare id maps to no team)."""
        out: dict[str, str] = {}
        for pair in self.live_queues:
            queue, _, team = pair.partition("=")
            if queue.strip():
                out[queue.strip()] = team.strip()
        return out

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
