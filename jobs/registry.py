"""Every scheduled job, registered in one place by stable id.

The bootstrap calls `build_jobs(settings)` once: a job whose schedule is a setting (the
KPI pull's KPI_PULL_CRON) gets it from there, never from the environment at import.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from domain.live import LiveSource
from domain.settings import Settings
from jobs import (
    action_followups,
    alerts,
    goal_update,
    kpi_pull,
    kudos_jobs,
    oneonone_jobs,
    pulse_jobs,
    retention,
)
from jobs.spec import JobSpec

log = logging.getLogger(__name__)


def _kpi_pull(settings: Settings) -> JobSpec:
    text = settings.kpi_pull_cron.strip() or kpi_pull.DEFAULT_CRON
    try:
        return kpi_pull.build_spec(text)
    except ValueError as exc:
        log.error("KPI_PULL_CRON %s; using %r", exc, kpi_pull.DEFAULT_CRON)
        return kpi_pull.build_spec(kpi_pull.DEFAULT_CRON)


def build_jobs(settings: Settings, live_sources: Sequence[LiveSource] = ()) -> tuple[JobSpec, ...]:
    """Every job, with the schedules the settings give; the live pollers the bootstrap
    built from the settings (bot/live/) are polled by the live job."""
    return (
        retention.SPEC,
        *pulse_jobs.JOBS,
        *kudos_jobs.JOBS,
        *oneonone_jobs.JOBS,
        action_followups.SPEC,
        goal_update.SPEC,
        _kpi_pull(settings),
        *alerts.build_specs(settings, live_sources),
    )
