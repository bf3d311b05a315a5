"""`leadbot jobs`, `leadbot outbox`, and the clock and run processes starting and stopping."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import socket
import sys
from pathlib import Path

import httpx
import pytest

from bot import runner
from bot.bootstrap import bootstrap
from domain.settings import Settings
from domain.types import message
from handlers.core.context import HandlerContext
from jobs.registry import build_jobs
from jobs.spec import Cron, JobRunInfo, JobSpec
from storage import jobruns, outbox, people
from storage.catalogue import ensure_reference_data
from storage.db import Database
from storage.models import OutboxStatus
from storage.outbox import OutboxNew
from tests.conftest import FakeClock
from tests.jobs.helpers import enqueue_texts, slack_person

ROOT = Path(__file__).resolve().parents[2]


def settings_for(url: str = "sqlite+aiosqlite://") -> Settings:
    return Settings(database_url=url, scheduler_timezone="UTC")


async def post_morning(ctx: HandlerContext, info: JobRunInfo) -> None:
    assert info.team_id is not None
    await outbox.enqueue(
        ctx.db,
        messages=[
            OutboxNew(
                dedupe_key=f"morning:{info.team_id}:{info.fire_time.isoformat()}",
                payload=message("Good morning").to_json(),
                team_id=info.team_id,
            )
        ],
    )


MORNING = JobSpec(
    "morning",
    "The team's morning post",
    post_morning,
    team_cron=lambda t: Cron(minute="0", hour="9", day_of_week="mon-fri", timezone=t.timezone),
)
SWEEP = JobSpec("sweep", "Reminders due now", post_morning, cron=Cron(minute="*/5"))
TEST_JOBS = (MORNING, SWEEP)


async def test_jobs_list_shows_next_run_per_team_in_local_time_and_utc(
    db: Database, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    await people.create_team(db, name="Berlin", timezone="Europe/Berlin")
    await people.create_team(db, name="Pune", timezone="Asia/Kolkata")
    await people.create_team(db, name="NYC", timezone="America/New_York")
    clock.set(dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC))  # Friday noon UTC
    code = await runner.jobs_list(bootstrap(settings_for(), db=db, clock=clock, jobs=TEST_JOBS))
    out = capsys.readouterr().out
    assert code == 0
    lines = {line.split()[0] + " " + line.split()[2]: line for line in out.splitlines()[1:] if line}
    # Berlin and Pune are past 09:00 on Friday: Monday. New York is not yet (07:00 EST).
    assert "Mon 2026-11-23 09:00 Europe/Berlin" in lines["morning Berlin"]
    assert "2026-11-23 08:00 UTC" in lines["morning Berlin"]
    assert "Mon 2026-11-23 09:00 Asia/Kolkata" in lines["morning Pune"]
    assert "2026-11-23 03:30 UTC" in lines["morning Pune"]
    assert "Fri 2026-11-20 09:00 America/New_York" in lines["morning NYC"]
    assert "2026-11-20 14:00 UTC" in lines["morning NYC"]
    assert "2026-11-20 12:05 UTC" in out  # the global sweep
    assert "morning: The team's morning post" in out
    # After a run, the list shows how it went.
    await runner.jobs_run(
        bootstrap(settings_for(), db=db, clock=clock, jobs=TEST_JOBS), "sweep", team=None
    )
    capsys.readouterr()
    await runner.jobs_list(bootstrap(settings_for(), db=db, clock=clock, jobs=TEST_JOBS))
    sweep_line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("sweep "))
    assert sweep_line.endswith("failed 2026-11-20 12:00")  # a global run has no team to post to


async def test_jobs_list_lists_every_registered_job(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await runner.jobs_list(bootstrap(settings_for(), db=db)) == 0
    out = capsys.readouterr().out
    for spec in build_jobs(settings_for()):
        assert spec.id in out


async def test_jobs_run_now_through_the_claim(
    db: Database, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    team = await people.create_team(db, name="Billing", timezone="Europe/London")
    code = await runner.jobs_run(
        bootstrap(settings_for(), db=db, clock=clock, jobs=TEST_JOBS), "morning", team="billing"
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "morning (team" in out
    assert ": ok" in out
    assert "1 message(s) queued" in out
    runs = await jobruns.list_runs(db, job_id="morning")
    assert [(r.scope, r.fire_time, r.status) for r in runs] == [(f"team:{team.id}", clock(), "ok")]
    # The same instant again is the same claim: nothing runs twice.
    await runner.jobs_run(
        bootstrap(settings_for(), db=db, clock=clock, jobs=TEST_JOBS), "morning", team="Billing"
    )
    assert ": taken" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("job", "team", "needle"),
    [
        ("nope", None, "Unknown job 'nope'. Known jobs: morning, sweep."),
        ("morning", "Nowhere", "Unknown team 'Nowhere'. Teams: Billing."),
        ("sweep", "Billing", "is not a per-team job"),
    ],
)
async def test_jobs_run_refuses_unknown_things_with_exit_2(
    db: Database,
    clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    job: str,
    team: str | None,
    needle: str,
) -> None:
    await people.create_team(db, name="Billing", timezone="Europe/London")
    code = await runner.jobs_run(
        bootstrap(settings_for(), db=db, clock=clock, jobs=TEST_JOBS), job, team=team
    )
    assert code == 2
    assert needle in capsys.readouterr().err
    assert await jobruns.list_runs(db) == []


async def test_outbox_list_and_retry(db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    a = await slack_person(db, "ann", "U1")
    await enqueue_texts(db, a, ["Your 1:1 with Bob is at 10:00", "Pulse: how was your week?"])
    assert await runner.outbox_list(db, dead=False) == 0
    out = capsys.readouterr().out
    assert "Your 1:1 with Bob is at 10:00" in out
    assert "U1" in out
    assert "2 pending, 0 sent, 0 dead" in out
    # Make one dead, as the dispatcher does after a permanent failure.
    now = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
    [c] = await outbox.claim_due_batch(
        db, now=now, limit=1, lease_seconds=60, platforms=["slack"], claimed_by="t"
    )
    await outbox.mark_dead(db, claim=c, error="channel_not_found")
    assert await runner.outbox_list(db, dead=True) == 0
    out = capsys.readouterr().out
    assert "channel_not_found" in out
    assert "leadbot outbox retry ID" in out
    assert c.message.id is not None
    assert await runner.outbox_retry(db, c.message.id) == 0
    assert "will be sent again" in capsys.readouterr().out
    m = await outbox.get_message(db, message_id=c.message.id)
    assert m is not None
    assert m.status == OutboxStatus.pending.value
    assert await runner.outbox_retry(db, c.message.id) == 2  # pending, not dead
    assert "only dead messages are retried" in capsys.readouterr().err
    assert await runner.outbox_retry(db, 999) == 2
    assert "no outbox message 999" in capsys.readouterr().err


async def test_clock_starts_and_stops_cleanly(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'clock.db'}"
    stop = asyncio.Event()
    ready = asyncio.Event()
    task = asyncio.create_task(
        runner.run_clock(bootstrap(settings_for(url)), stop=stop, ready=ready)
    )
    db = Database(url)
    try:
        async with asyncio.timeout(30):  # the migrations ran and the scheduler is up
            await asyncio.wait(
                {task, asyncio.create_task(ready.wait())}, return_when="FIRST_COMPLETED"
            )
        assert ready.is_set()
        stop.set()
        assert await asyncio.wait_for(task, 30) == 0
    finally:
        await db.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def start_cli(tmp_path: Path, *args: str) -> asyncio.subprocess.Process:
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        LOG_LEVEL="INFO",
        PYTHONPATH=str(ROOT),
        LEADBOT_SECRET="runner-test-secret-of-32-characters-or-more",  # serve refuses less
    )
    for key in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        env.pop(key, None)
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def read_until(proc: asyncio.subprocess.Process, needle: str) -> str:
    assert proc.stderr is not None
    seen = ""
    async with asyncio.timeout(60):
        while needle not in seen:
            line = await proc.stderr.readline()
            if not line:
                raise AssertionError(f"process ended before {needle!r}:\n{seen}")
            seen += line.decode()
    return seen


async def test_leadbot_scheduler_process_exits_0_on_sigterm(tmp_path: Path) -> None:
    proc = await start_cli(tmp_path, "scheduler")
    await read_until(proc, "dispatcher")
    proc.send_signal(signal.SIGTERM)
    _out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    assert b"leadbot clock stopped" in err


async def test_leadbot_run_serves_and_exits_0_on_sigint(tmp_path: Path) -> None:
    port = free_port()
    proc = await start_cli(tmp_path, "run", "--port", str(port))
    await read_until(proc, "leadbot serving")
    async with httpx.AsyncClient() as client:
        r = await client.get(f"http://127.0.0.1:{port}/healthz")
    assert r.status_code == 200
    proc.send_signal(signal.SIGINT)
    _out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    assert b"scheduler stopped" in err


async def test_jobs_cli_unknown_job_exits_2(tmp_path: Path) -> None:
    proc = await start_cli(tmp_path, "jobs", "run", "no-such-job")
    _out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2
    assert b"Unknown job 'no-such-job'" in err


async def test_reference_data_is_there_after_cli_migrations(tmp_path: Path) -> None:
    proc = await start_cli(tmp_path, "outbox", "list")
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    assert b"No pending messages" in out
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    try:
        await ensure_reference_data(db)  # idempotent on a migrated database
        assert await outbox.counts(db) == {"pending": 0, "sent": 0, "dead": 0}
    finally:
        await db.dispose()
