"""A scheduler process for the two-process alert test. It prints "ready", then for each
line "TICK_ISO" on stdin runs the alert job for that fire time through the real claim
(jobs.scheduler.run_job) AND, at the same moment, an unclaimed evaluation (as a tick that
overlaps the next one would), then prints "done".

python -m tests.jobs.proc_alerts DB_URL NODE
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys

from handlers import alerts
from jobs import alerts as alert_jobs
from jobs.scheduler import Runtime, run_job
from storage.db import Database
from tests.conftest import FakeClock, make_ctx


async def main(url: str, node: str) -> None:
    db = Database(url)
    clock = FakeClock(dt.datetime(2026, 11, 17, 10, 0, tzinfo=dt.UTC))
    ctx = make_ctx(db, clock, alert_update_seconds=20)
    [spec] = alert_jobs.build_specs(ctx.settings, ())
    rt = Runtime(ctx=ctx, jobs={spec.id: spec}, node=node)
    await db.ping()
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    while True:
        line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
        if not line:
            break
        clock.set(dt.datetime.fromisoformat(line))
        await asyncio.gather(
            run_job(rt, spec.id, team_id=None, fire_time=clock()),
            alerts.evaluate_all(ctx, now=clock()),
        )
        print("done", flush=True)
    await db.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
