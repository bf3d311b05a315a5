"""Every scheduled job, registered in one place by stable id.

The bootstrap calls `build_jobs(settings, sources)` once: a job whose schedule is a
setting (the KPI pulls' KPI_PULL_CRON, GENESYS_PULL_CRON, ...) gets it from there, never
from the environment at import, and the KPI sources are the ones the bootstrap built from
the settings (bot/sources/), one pull job each.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from domain.live import LiveSource
from domain.settings import Settings
from domain.sources import Source
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


def build_jobs(
    settings: Settings,
    sources: Mapping[str, Source] | None = None,
    live_sources: Sequence[LiveSource] = (),
) -> tuple[JobSpec, ...]:
    """Every job, with the schedules the settings give, a pull per KPI source, and the
    alert job polling the live sources the bootstrap built from the settings (bot/live/)."""
    return (
        retention.SPEC,
        *pulse_jobs.JOBS,
        *kudos_jobs.JOBS,
        *oneonone_jobs.JOBS,
        action_followups.SPEC,
        goal_update.SPEC,
        *kpi_pull.build_specs(settings, sources or {}),
        *alerts.build_specs(settings, live_sources),
    )
