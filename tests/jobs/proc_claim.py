"""A scheduler process for the two-process claim test: waits for a common start moment,
then runs one job for one fire time through the real claim path, and prints the outcome.
It prints "ready" once connected and waits for a line on stdin: the start signal.

python -m tests.jobs.proc_claim DB_URL FIRE_TIME_ISO NODE
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


async def main(url: str, fire_iso: str, node: str) -> None:
    db = Database(url)

    async def job(ctx: HandlerContext, info: JobRunInfo) -> None:
        team = 1
        # The dedupe key names the process on purpose: if both ran, both rows would exist.
        await outbox.enqueue(
            ctx.db,
            messages=[
                OutboxNew(
                    dedupe_key=f"claimtest:{info.fire_time.isoformat()}:{node}",
                    payload=message("good morning").to_json(),
                    team_id=team,
                )
            ],
        )

    spec = JobSpec("morning", "test", job, cron=Cron(minute="0", hour="9"))
    rt = Runtime(ctx=make_ctx(db), jobs={"morning": spec}, node=node)
    fire = dt.datetime.fromisoformat(fire_iso)
    await db.ping()  # connect before the start signal
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    outcome = await run_job(rt, "morning", team_id=None, fire_time=fire)
    print(outcome.value, flush=True)
    await db.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
