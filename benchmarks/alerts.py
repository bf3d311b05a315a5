"""Queue alerts benchmark: 200 queues observed every 5 s, the real `leadbot scheduler`
process (APScheduler, the claimed alert tick, the outbox dispatcher, the Slack sender)
against a loopback fake Slack that enforces chat.postMessage (1/s per channel) and
chat.update (50 in any 60 s) with 429s.

Reports, for the scheduler process:
- detection-to-post latency: from the moment a breach's onset has elapsed (the incident's
  `since` plus the rule's onset) to the post arriving at the fake Slack; p50/p99 (goal
  p99 <= 5 s);
- CPU as a share of one core over the run (goal < 20 %), peak RSS (goal < 200 MB);
- calls the fake refused for breaking a limit (goal 0);
next to a floor run at the same time: a bare Python process with slack_sdk that reads
the same observations every 5 s and posts a breach once its onset has elapsed.

    .venv/bin/python -m benchmarks.alerts [--queues 200] [--seconds 300]

SQLite (a file) by default; `--database-url postgresql://...` uses that (empty) database.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from domain.live import Observation  # noqa: E402
from domain.roles import Role  # noqa: E402
from storage import alerts, people  # noqa: E402
from storage.catalogue import ensure_reference_data  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from tests.bot.live.fake_platform import LimitedSlack  # noqa: E402

ONSET_MINUTES = 1
TEAMS = 20
EVERY = 5.0


def sl_at(i: int, t: float) -> int:
    """Queue i's service level `t` seconds into the run: a 90 s breach starting
    between 20 s and 140 s in, for every queue, then back to fine."""
    start = 20 + (i * 97) % 120
    return 60 if start <= t < start + 150 else 95


async def setup(db: Database, queues: int) -> None:
    await upgrade(db)
    await ensure_reference_data(db)
    now = dt.datetime.now(dt.UTC)
    for k in range(TEAMS):
        team = await people.create_team(db, name=f"Team {k:02d}", timezone="UTC")
        assert team.id is not None
        await people.update_team(db, team_id=team.id, slack_channel_id=f"C{k:04d}")
        lead = await people.upsert_person(
            db,
            email=f"lead{k}@example.com",
            display_name=f"Lead {k}",
            role=Role.lead,
            team_id=team.id,
            timezone="UTC",
            work_hours="Mon-Sun 00:00-23:59",
        )
        assert lead.id is not None
        await people.set_platform_id(db, person_id=lead.id, slack_user_id=f"U{k:04d}")
        await alerts.add_rules(
            db,
            rules=[
                alerts.NewRule(
                    team_id=team.id,
                    metric="sl",
                    op="<",
                    warning=80,
                    critical=70,
                    onset_minutes=ONSET_MINUTES,
                    clear_minutes=1,
                    escalate_minutes=None,
                    hours="always",
                )
            ],
            now=now,
        )
    del queues


async def feed(db: Database, queues: int, seconds: float, started: float) -> None:
    """Observations of every queue every 5 s (what the pollers or pushes store)."""
    while (t := time.time() - started) < seconds:
        now = dt.datetime.now(dt.UTC)
        obs = [
            Observation(
                queue_id=f"q{i:03d}",
                queue_name=f"Queue {i:03d}",
                team=f"Team {i % TEAMS:02d}",
                observed_at=now,
                offered=100,
                answered_in_sl=sl_at(i, t),
                waiting=3,
            )
            for i in range(queues)
        ]
        await alerts.save_observations(db, observations=obs, now=now)
        await asyncio.sleep(EVERY - (time.time() - started) % EVERY)


def proc_stats(pid: int) -> tuple[float, int]:
    """(CPU seconds, peak RSS bytes) of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    hwm = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            hwm = int(line.split()[1]) * 1024
    return cpu, hwm


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


# --- the floor: bare Python + slack_sdk -----------------------------------------------


async def floor_main(path: str, url: str, seconds: float) -> None:
    from slack_sdk.web.async_client import AsyncWebClient

    client = AsyncWebClient(token="xoxb-test", base_url=url)
    seen: dict[str, float] = {}
    posted: set[str] = set()
    started = time.time()
    print(json.dumps({"ready": True}), flush=True)
    while time.time() - started < seconds:
        try:
            con = sqlite3.connect(path, timeout=10)
            rows = con.execute(
                "SELECT queue_id, team_id, offered, answered_in_sl FROM livequeue"
            ).fetchall()
            con.close()
        except sqlite3.OperationalError:  # the feed holds the write lock: next round
            rows = []
        now = time.time()
        for queue, team, offered, answered in rows:
            if offered and answered * 100 / offered < 80:
                first = seen.setdefault(queue, now)
                if now - first >= ONSET_MINUTES * 60 and queue not in posted:
                    posted.add(queue)
                    try:
                        await client.chat_postMessage(
                            channel=f"C{(team or 1) - 1:04d}", text=f"{queue} {first}"
                        )
                    except Exception as exc:  # a 429 from the fake: the floor has no pacing
                        print(f"floor: {type(exc).__name__}", file=sys.stderr)
            else:
                seen.pop(queue, None)
        await asyncio.sleep(EVERY - (time.time() - started) % EVERY)
    await client.close()


# --- the run --------------------------------------------------------------------------


async def spawn(args: list[str], env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def run(queues: int, seconds: float, database_url: str | None) -> dict[str, Any]:
    """One run; the scheduler (and floor) processes are always stopped at the end."""
    tmp = tempfile.mkdtemp(prefix="leadbot-alerts-bench-")
    path = str(Path(tmp) / "bench.db")
    url = database_url or f"sqlite+aiosqlite:///{path}"
    db = Database(url)
    await setup(db, queues)
    slack = await LimitedSlack(clock=time.time).start()
    floor_slack = await LimitedSlack(clock=time.time).start()
    env = {
        "DATABASE_URL": url,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": slack.url,
        "LOG_LEVEL": "WARNING",
        "ALERT_TICK_SECONDS": "5",
        "ALERT_UPDATE_SECONDS": "60",
    }
    sched = await spawn(["-m", "bot.cli", "scheduler"], env)
    floor = None
    if database_url is None:
        floor = await spawn(
            ["-m", "benchmarks.alerts", "--floor", path, floor_slack.url, str(seconds + 30)], {}
        )
        assert floor.stdout is not None
        await floor.stdout.readline()
    try:
        await asyncio.sleep(3)  # the scheduler starts (migrations, APScheduler)
        cpu0, _ = proc_stats(sched.pid)
        started = time.time()
        await feed(db, queues, seconds, started)
        elapsed = time.time() - started
        cpu1, rss = proc_stats(sched.pid)
        alive = floor is not None and floor.returncode is None  # still running
        floor_stats = proc_stats(floor.pid) if floor is not None and alive else (0.0, 0)
    except BaseException:
        for proc in (sched, floor):
            if proc is not None and proc.returncode is None:
                proc.kill()
        raise
    sched.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(sched.communicate(), 60)
    if floor:
        with contextlib.suppress(ProcessLookupError):
            floor.send_signal(signal.SIGTERM)
        _, floor_err = await asyncio.wait_for(floor.communicate(), 60)
        if floor.returncode not in (0, -signal.SIGTERM):
            print(floor_err.decode(errors="replace")[-2000:], file=sys.stderr)
    incidents = await alerts.incidents_between(
        db,
        team_ids=None,
        start=dt.datetime.fromtimestamp(started - 60, dt.UTC),
        end=dt.datetime.now(dt.UTC),
    )
    arrived = {p["text"].split(",")[0].split(": ", 1)[-1]: t for t, p in _post_times(slack)}
    latencies = []
    for inc in incidents:
        due = inc.since.timestamp() + ONSET_MINUTES * 60
        when = arrived.get(inc.queue_name or "")
        if when is not None:
            latencies.append(when - due)
    floor_lat = [
        t - (float(p["text"].split()[1]) + ONSET_MINUTES * 60) for t, p in _post_times(floor_slack)
    ]
    await slack.close()
    await floor_slack.close()
    await db.dispose()
    return {
        "queues": queues,
        "seconds": round(elapsed),
        "incidents": len(incidents),
        "posts": len(slack.posts),
        "updates": len(slack.updates),
        "latency_p50_s": round(pct(latencies, 0.5), 2),
        "latency_p99_s": round(pct(latencies, 0.99), 2),
        "latency_max_s": round(max(latencies, default=float("nan")), 2),
        "cpu_share_of_one_core": round((cpu1 - cpu0) / elapsed, 3),
        "peak_rss_mb": round(rss / 2**20, 1),
        "limit_violations": slack.violations,
        "post_violations": slack.post_violations,
        "update_violations": slack.update_violations,
        "floor": {
            "posts": len(floor_slack.posts),
            "latency_p99_s": round(pct(floor_lat, 0.99), 2),
            "cpu_share_of_one_core": round(floor_stats[0] / elapsed, 3),
            "peak_rss_mb": round(floor_stats[1] / 2**20, 1),
        },
        "scheduler_stderr_tail": err.decode(errors="replace")[-500:],
        "median_incident_minutes": round(
            statistics.median(
                [
                    ((i.resolved_at or dt.datetime.now(dt.UTC)) - i.since).total_seconds() / 60
                    for i in incidents
                ]
            ),
            1,
        )
        if incidents
        else None,
    }


def _post_times(fake: LimitedSlack) -> list[tuple[float, dict[str, Any]]]:
    return [(p["_arrived"], p) for p in fake.posts]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--queues", type=int, default=200)
    p.add_argument("--seconds", type=float, default=300)
    p.add_argument("--database-url")
    p.add_argument("--floor", nargs=3, metavar=("DB", "URL", "SECONDS"))
    a = p.parse_args()
    if a.floor:
        asyncio.run(floor_main(a.floor[0], a.floor[1], float(a.floor[2])))
        return
    result = asyncio.run(run(a.queues, a.seconds, a.database_url))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
