"""`leadbot serve`, `scheduler`, `run`, `jobs` and `outbox`.

- `scheduler` (the Procfile's clock): the scheduler and the outbox dispatcher until
  SIGTERM/SIGINT, then a clean stop (exit 0). Several clocks on one PostgreSQL are safe.
- `run`: the web server, the scheduler and the dispatcher in one process (small installs).
- `serve`: the web server only (bot/server.py).
- `jobs list | run JOB [--team NAME]`, `outbox list [--dead] | retry ID`: admin tools.

Every command applies the migrations first. A job, team or message that does not exist
gets a clear message and exit code 2. `serve`, `scheduler` and `run` refuse to start
(exit code 2, the reason on stderr) while LEADBOT_SECRET is unset, the public development
default or shorter than 32 characters: it keys the pulse answers' anonymous hashes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence

from bot.bootstrap import App, make_dispatcher, make_runtime, make_scheduler
from bot.senders import close_senders
from bot.server import run_server
from domain.localtime import local_now
from domain.types import Reply
from handlers.core.context import Clock, system_clock
from handlers.leadbot import MIN_SECRET_LENGTH, secret_problem
from jobs.scheduler import Outcome, Planned, plan, run_job
from storage import jobruns, outbox, people
from storage.db import Database
from storage.migrate import upgrade
from storage.models import JobRun, OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

USAGE_ERROR = 2


def refuse_to_start(app: App, cmd: str) -> bool:
    """Print why the server can't start (on stderr) and say so; False when it may."""
    problem = secret_problem(app.settings)
    if problem is None:
        return False
    print(
        f"leadbot {cmd}: refusing to start: {problem}. Set LEADBOT_SECRET to a random value "
        f"of at least {MIN_SECRET_LENGTH} characters (python3 -c 'import secrets; "
        "print(secrets.token_urlsafe(48))') and keep it: it keys the anonymous pulse "
        "answers (see Secrets in the docs before changing one in use).",
        file=sys.stderr,
    )
    return True


def main(app: App, args: argparse.Namespace) -> int:
    """Run one of the runner's subcommands; returns the exit code."""
    cmd = args.cmd
    if cmd in ("serve", "scheduler", "run") and refuse_to_start(app, cmd):
        return USAGE_ERROR
    if cmd == "serve":
        asyncio.run(run_server(app, port=getattr(args, "port", None)))
        return 0
    if cmd == "scheduler":
        return asyncio.run(run_clock(app))
    if cmd == "run":
        return asyncio.run(run_all(app, port=getattr(args, "port", None)))
    if cmd == "jobs":
        if args.jobs_cmd == "list":
            return asyncio.run(_with_db(app, lambda: jobs_list(app)))
        return asyncio.run(_with_db(app, lambda: jobs_run(app, args.job, team=args.team)))
    if cmd == "outbox":
        if args.outbox_cmd == "list":
            return asyncio.run(_with_db(app, lambda: outbox_list(app.db, dead=args.dead)))
        return asyncio.run(_with_db(app, lambda: outbox_retry(app.db, args.id)))
    raise AssertionError(cmd)


async def _with_db(app: App, body: Callable[[], Awaitable[int]]) -> int:
    try:
        await upgrade(app.db)
        return await body()
    finally:
        await app.db.dispose()


def _install_signals(stop: asyncio.Event) -> list[signal.Signals]:
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    return installed


async def run_background(
    app: App, stop: asyncio.Event, *, ready: asyncio.Event | None = None
) -> None:
    """The scheduler and the dispatcher until `stop` is set; `ready` once both run."""
    logging.getLogger("apscheduler.scheduler").setLevel(logging.WARNING)
    scheduler = make_scheduler(app)
    dispatcher = make_dispatcher(app)
    await scheduler.start()
    if ready is not None:
        ready.set()
    if not dispatcher.platforms:
        log.warning("no platform is configured: outbox messages wait (the console shows them)")
    try:
        await dispatcher.run(stop)
    finally:
        await scheduler.shutdown()
        await close_senders(dispatcher.senders)


async def run_clock(
    app: App, *, stop: asyncio.Event | None = None, ready: asyncio.Event | None = None
) -> int:
    """`leadbot scheduler`: the Procfile's clock process (`ready` set once it runs)."""
    stop = stop or asyncio.Event()
    try:
        await upgrade(app.db)
        installed = _install_signals(stop)
        log.info("leadbot clock running (scheduler zone %s)", app.settings.scheduler_timezone)
        try:
            await run_background(app, stop, ready=ready)
        finally:
            loop = asyncio.get_running_loop()
            for sig in installed:
                loop.remove_signal_handler(sig)
    finally:
        await app.db.dispose()
    log.info("leadbot clock stopped")
    return 0


async def run_all(app: App, *, port: int | None = None, stop: asyncio.Event | None = None) -> int:
    """`leadbot run`: web server, scheduler and dispatcher in one process."""
    stop = stop or asyncio.Event()
    try:
        await upgrade(app.db)
        _install_signals(stop)
        background = asyncio.create_task(run_background(app, stop))
        try:
            await run_server(app, port=port, stop=stop, dispose=False)
        finally:
            stop.set()
            await background
    finally:
        await app.db.dispose()
    return 0


# --- jobs ------------------------------------------------------------------------------


def _fmt_local(when: dt.datetime, tz: str) -> str:
    local = local_now(when, tz)
    return f"{local:%a %Y-%m-%d %H:%M} {tz}"


def format_plan(
    rows: Sequence[Planned], last: Mapping[tuple[str, str], JobRun] | None = None
) -> str:
    """The `leadbot jobs list` table."""
    if not rows:
        return "No scheduled jobs are registered."
    last = last or {}
    lines = []
    header = f"{'JOB':<24} {'SCOPE':<20} {'NEXT RUN (LOCAL)':<40} {'NEXT RUN (UTC)':<21} LAST RUN"
    lines.append(header)
    for r in rows:
        scope = f"team {r.team.name}" if r.team else ("per team" if r.per_team else "all")
        if r.per_team and r.team is None:
            local, utc = "no teams yet", "-"
        elif r.error:
            local, utc = f"not scheduled: {r.error}", "-"
        elif r.cron is None or r.next_utc is None:
            local, utc = "no schedule", "-"
        else:
            local = _fmt_local(r.next_utc, r.tz)
            utc = f"{r.next_utc:%Y-%m-%d %H:%M} UTC"
        prev = last.get((r.job_id, f"team:{r.team.id}" if r.team else ""))
        done = f"{prev.status} {prev.fire_time:%Y-%m-%d %H:%M}" if prev else "-"
        lines.append(f"{r.job_id:<24} {scope[:20]:<20} {local:<40} {utc:<21} {done}")
    lines.append("")
    seen: set[str] = set()
    for r in rows:
        if r.job_id not in seen:
            seen.add(r.job_id)
            lines.append(f"{r.job_id}: {r.description}")
    return "\n".join(lines)


async def jobs_list(app: App) -> int:
    """`leadbot jobs list`: every job with its next fire time per team and its last run."""
    rt = make_runtime(app)
    print(format_plan(await plan(rt), await jobruns.last_runs(app.db)))
    return 0


async def jobs_run(app: App, job_id: str, *, team: str | None) -> int:
    """Run a job now through the same claim path, with the fire time = now."""
    db = app.db
    rt = make_runtime(app)
    spec = rt.jobs.get(job_id)
    if spec is None:
        known = ", ".join(sorted(rt.jobs)) or "none registered"
        print(f"Unknown job {job_id!r}. Known jobs: {known}.", file=sys.stderr)
        return USAGE_ERROR
    team_ids: list[int | None]
    if team is not None:
        if spec.team_cron is None:
            print(f"Job {job_id!r} is not a per-team job; run it without --team.", file=sys.stderr)
            return USAGE_ERROR
        t = await people.get_team_by_name(db, name=team)
        if t is None:
            names = ", ".join(x.name for x in await people.list_teams(db)) or "none"
            print(f"Unknown team {team!r}. Teams: {names}.", file=sys.stderr)
            return USAGE_ERROR
        team_ids = [t.id]
    elif spec.cron is not None:
        team_ids = [None]
    else:
        team_ids = [t.id for t in await people.list_teams(db)]
        if not team_ids:
            print(f"Job {job_id!r} runs per team, and there are no teams yet.", file=sys.stderr)
            return USAGE_ERROR
    before = await outbox.last_id(db)
    fire_time = rt.now()
    worst = 0
    for tid in team_ids:
        outcome = await run_job(rt, job_id, team_id=tid, fire_time=fire_time)
        scope = f"team {tid}" if tid is not None else "all"
        print(f"{job_id} ({scope}) at {fire_time:%Y-%m-%d %H:%M:%S} UTC: {outcome.value}")
        if outcome is Outcome.failed:
            worst = 1
    added = await outbox.last_id(db) - before
    print(f"{added} message(s) queued in the outbox.")
    return worst


# --- outbox ----------------------------------------------------------------------------


def _preview(m: OutboxMessage, width: int = 50) -> str:
    try:
        text = Reply.from_json(m.payload).fallback
    except (ValueError, KeyError, TypeError):
        text = "(unreadable payload)"
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def format_messages(rows: Sequence[OutboxMessage], *, dead: bool, total: dict[str, int]) -> str:
    kind = "dead" if dead else "pending"
    summary = ", ".join(f"{n} {st}" for st, n in total.items())
    if not rows:
        return f"No {kind} messages. (outbox: {summary})"
    when_head = "LAST ERROR" if dead else "NEXT TRY (UTC)"
    lines = [f"{'ID':>6} {'PLATFORM':<8} {'TARGET':<16} {'TRIES':>5} {when_head:<34} TEXT"]
    for m in rows:
        when = (m.last_error or "-")[:34] if dead else f"{m.next_attempt_at:%Y-%m-%d %H:%M:%S}"
        if not dead and m.last_error:
            when = f"{when} ({m.last_error[:14]})"
        lines.append(
            f"{m.id:>6} {m.platform:<8} {m.target[:16]:<16} {m.attempts:>5} {when:<34} "
            f"{_preview(m)}"
        )
    lines.append(f"({len(rows)} shown; outbox: {summary})")
    if dead:
        lines.append("Send one again with `leadbot outbox retry ID`.")
    return "\n".join(lines)


async def outbox_list(db: Database, *, dead: bool, limit: int = 200) -> int:
    status = OutboxStatus.dead if dead else OutboxStatus.pending
    rows = await outbox.list_messages(db, status=status, limit=limit)
    print(format_messages(rows, dead=dead, total=await outbox.counts(db)))
    return 0


async def outbox_retry(db: Database, message_id: int, *, clock: Clock = system_clock) -> int:
    m = await outbox.get_message(db, message_id=message_id)
    if m is None:
        print(f"There is no outbox message {message_id}.", file=sys.stderr)
        return USAGE_ERROR
    if m.status != OutboxStatus.dead.value:
        print(
            f"Message {message_id} is {m.status}, not dead; only dead messages are retried.",
            file=sys.stderr,
        )
        return USAGE_ERROR
    await outbox.retry(db, message_id=message_id, now=clock())
    print(f"Message {message_id} to {m.platform} {m.target} will be sent again.")
    return 0
