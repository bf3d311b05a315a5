"""What every handler and job is given: the store, the clock and the product's settings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from storage.db import Database

Clock = Callable[[], dt.datetime]


def system_clock() -> dt.datetime:
    """The real time, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class CoreConfig:
    """The settings handlers and jobs need; bot.config builds it from the environment."""

    # Keys pulse hashes (LEADBOT_SECRET); repr=False keeps it out of logs and tracebacks.
    secret: str = field(default="dev-secret-change-me", repr=False)
    pulse_min_responses: int = 5
    kudos_daily_limit: int | None = None
    action_escalate_after_days: int = 2
    action_evidence_days: int = 5
    streak_days: int = 5
    oneonone_reminder_minutes: int = 15
    default_timezone: str = "UTC"
    retention_pulse_comments_days: int = 365
    retention_outbox_days: int = 30
    kpi_source_url: str | None = None  # jobs/kpi_pull.py pulls from it when set
    kpi_source_token: str | None = field(default=None, repr=False)  # a secret


@dataclass
class HandlerContext:
    db: Database
    clock: Clock = system_clock
    config: CoreConfig = field(default_factory=CoreConfig)

    def now(self) -> dt.datetime:
        now = self.clock()
        if now.tzinfo is None:
            raise ValueError("the clock must return an aware datetime")
        return now
