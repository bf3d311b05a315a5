"""Every scheduled job, registered in one place by stable id."""

from __future__ import annotations

from jobs import (
    action_followups,
    goal_update,
    kpi_pull,
    kudos_jobs,
    oneonone_jobs,
    pulse_jobs,
    retention,
)
from jobs.spec import JobSpec

JOBS: tuple[JobSpec, ...] = (
    retention.SPEC,
    *pulse_jobs.JOBS,
    *kudos_jobs.JOBS,
    *oneonone_jobs.JOBS,
    action_followups.SPEC,
    goal_update.SPEC,
    kpi_pull.SPEC,  # schedule from KPI_PULL_CRON (default every 15 minutes)
)
