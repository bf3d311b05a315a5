"""Every scheduled job, registered in one place by stable id."""

from __future__ import annotations

from jobs import retention
from jobs.spec import JobSpec

JOBS: tuple[JobSpec, ...] = (retention.SPEC,)
