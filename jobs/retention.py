"""The daily retention job: pulse comments and delivered messages are kept only so long."""

from __future__ import annotations

import logging

from handlers.core.context import HandlerContext
from jobs.spec import Cron, JobRunInfo, JobSpec
from storage.privacy import apply_retention

log = logging.getLogger(__name__)


async def run(ctx: HandlerContext, info: JobRunInfo) -> None:
    """Apply RETENTION_PULSE_COMMENTS_DAYS and RETENTION_OUTBOX_DAYS."""
    counts = await apply_retention(
        ctx.db,
        now=ctx.now(),
        pulse_comment_days=ctx.settings.retention_pulse_comments_days,
        outbox_days=ctx.settings.retention_outbox_days,
    )
    log.info("retention applied: %s", ", ".join(f"{k}={v}" for k, v in counts.items()))


SPEC = JobSpec(
    id="retention",
    description="Delete pulse comments and delivered messages past their retention",
    run=run,
    cron=Cron(minute="30", hour="3"),
)
