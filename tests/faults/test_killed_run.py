"""A scheduler process SIGKILLed in the middle of a scheduled run (issue 10, Faults).

The claim outlives the process: a restarted scheduler (its catch-up) and a second
scheduler process find the fire time taken and do not run it again, so nothing the job
already enqueued is repeated. The half-done run is NOT finished automatically: it stays
"running" in JobRun (`leadbot jobs list` shows it). Running the job again by hand
(`leadbot jobs run`, a new fire time) is safe because the job's dedupe keys are
deterministic: it adds only what the killed run had not enqueued yet.

The dispatcher killed mid-delivery is tests/jobs/test_multiprocess.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import signal

from bot.bootstrap import bootstrap
from bot.runner import jobs_run
from domain.settings import Settings
from jobs.scheduler import (
    Outcome,
    Runtime,
    Scheduler,
    cron_trigger,
    previous_fire_time,
    run_job,
)
from storage import jobruns, outbox, people
from storage.db import Database
from tests.conftest import FakeClock, make_ctx
from tests.faults.proc_job import HALF, STEPS, sweep_spec
from tests.jobs.test_multiprocess import shared_db, spawn

__all__ = ["shared_db"]


async def sweep_keys(db: Database) -> list[str]:
    rows = await outbox.messages_after(db, after_id=0)
    return sorted(r.dedupe_key for r in rows if r.dedupe_key.startswith("sweep:"))


async def test_scheduler_killed_mid_run_is_not_repeated(
    shared_db: tuple[str, Database],
) -> None:
    url, db = shared_db
    team = await people.create_team(db, name="Billing", timezone="Europe/Berlin")
    assert team.id == 1
    fire = dt.datetime(2026, 11, 17, 9, 0, tzinfo=dt.UTC)
    first = await spawn("tests.faults.proc_job", url, fire.isoformat(), "node-a")
    assert first.stdout is not None
    line = await asyncio.wait_for(first.stdout.readline(), 60)
    assert line.strip() == b"half", (line, (await first.communicate())[1].decode())
    first.send_signal(signal.SIGKILL)
    await first.wait()
    assert first.returncode == -signal.SIGKILL

    day = fire.date().isoformat()
    written = [f"sweep:{day}:{n}" for n in range(HALF)]
    assert await sweep_keys(db) == written
    run = await jobruns.get_run(db, job_id="sweep", scope="", fire_time=fire)
    assert run is not None
    assert run.status == "running"
    assert run.claimed_by == "node-a"
    assert run.finished_at is None

    # The same process restarted: its catch-up finds the fire time claimed.
    clock = FakeClock(fire + dt.timedelta(minutes=3))
    rt = Runtime(ctx=make_ctx(db, clock), jobs={"sweep": sweep_spec(pause=False)}, node="node-a")
    restarted = Scheduler(rt)
    await restarted.sync_jobs()
    spec = rt.jobs["sweep"]
    assert spec.cron is not None
    # (Unclaimed, this fire time would be caught up: it is the newest, within the grace.)
    assert previous_fire_time(cron_trigger(spec.cron), clock()) == fire
    assert await restarted.catch_up() == []
    # Another scheduler firing for the same time: taken.
    other = Runtime(ctx=make_ctx(db, clock), jobs={"sweep": sweep_spec(pause=False)}, node="node-b")
    assert await run_job(other, "sweep", team_id=None, fire_time=fire) is Outcome.taken
    assert await sweep_keys(db) == written
    runs = await jobruns.list_runs(db, job_id="sweep")
    assert [(r.status, r.claimed_by) for r in runs] == [("running", "node-a")]

    # An admin finishes it by hand: a new claim (fire time = now), and the deterministic
    # dedupe keys add only the steps the killed run never reached.
    settings = Settings(_env_file=None, database_url=url)
    app = bootstrap(settings, db=db, clock=clock, jobs=tuple(rt.jobs.values()))
    code = await jobs_run(app, "sweep", team=None)
    assert code == 0
    assert await sweep_keys(db) == [f"sweep:{day}:{n}" for n in range(STEPS)]
    statuses = sorted(r.status for r in await jobruns.list_runs(db, job_id="sweep"))
    assert statuses == ["ok", "running"]
