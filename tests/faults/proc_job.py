"""A scheduler process that is killed in the middle of a job run (test_killed_run.py).

It claims (job "sweep", fire time) through the real claim path and runs the job, which
enqueues STEPS messages one transaction at a time; after the first HALF it prints
"half" and waits for a line on stdin that never comes: the test SIGKILLs it there.

python -m tests.faults.proc_job DB_URL FIRE_TIME_ISO NODE
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys

from domain.types import message
from handlers.core.context import HandlerContext
from jobs.scheduler import Runtime, run_job
from jobs.spec import Cron, JobRunInfo, JobSpec
from storage import outbox
from storage.db import Database
from storage.outbox import OutboxNew
from tests.conftest import make_ctx

STEPS = 4
HALF = 2


def sweep_spec(pause: bool) -> JobSpec:
    """The job: one message per step to team 1, each with a deterministic dedupe key."""

    async def sweep(ctx: HandlerContext, info: JobRunInfo) -> None:
        day = info.fire_time.date().isoformat()
        for step in range(STEPS):
            if pause and step == HALF:
                print("half", flush=True)
                await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
            await outbox.enqueue(
                ctx.db,
                messages=[
                    OutboxNew(
                        dedupe_key=f"sweep:{day}:{step}",
                        payload=message(f"step {step}").to_json(),
                        team_id=1,
                    )
                ],
            )

    return JobSpec("sweep", "a test sweep", sweep, cron=Cron(minute="0", hour="9"))


async def main(url: str, fire_iso: str, node: str) -> None:
    db = Database(url)
    rt = Runtime(ctx=make_ctx(db), jobs={"sweep": sweep_spec(pause=True)}, node=node)
    outcome = await run_job(
        rt, "sweep", team_id=None, fire_time=dt.datetime.fromisoformat(fire_iso)
    )
    print(outcome.value, flush=True)
    await db.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
