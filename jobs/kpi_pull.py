"""Pulling KPIs from the configured sources: one scheduled job per source.

The bootstrap builds the sources from the settings (bot/sources/) and hands them to
`build_specs` (through jobs/registry.build_jobs); each job's function closes over its
source, and APScheduler still calls `jobs.scheduler.fire(runtime, ...)` with the runtime
in its arguments. Two kinds of source (domain/sources.py):

- **Interval sources** (Genesys Cloud, Amazon Connect, Twilio Flex, Zendesk): each pull
  reads from the source's watermark, less a re-pull span (metrics arrive late), up to
  now, in windows of at most the source's longest request. Each window's rows are
  checked (a count that could never be right is dropped and logged), then applied in ONE
  transaction: the window's old intervals replaced, the local days it touches rolled up
  again, the watermark moved (storage/intervals.py). A pull that stops half-way has
  applied whole windows only, and the next one carries on from there: nothing is missed,
  nothing counted twice. Subjects (users and queues) are refreshed every hour.
- **The HTTP pull** (`http`, leadbot's own JSON, KPI_SOURCE_URL): the payload is checked
  completely and imported through the CSV import's checks, all or nothing.

Job ids: `kpis.pull` for the HTTP pull (KPI_PULL_CRON, as before), `kpis.pull.NAME` for
the others (NAME_PULL_CRON). `leadbot sources pull|backfill` run the same functions.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from apscheduler.triggers.cron import CronTrigger

from domain.kpi import Aggregation
from domain.settings import Settings
from domain.sources import (
    DailySource,
    IntervalRow,
    KpiSource,
    PayloadError,
    Source,
    SourceError,
    Window,
    ceil_to,
    floor_to,
    interval_problem,
    plan_windows,
    split_window,
)
from handlers.core.context import HandlerContext
from handlers.imports import import_kpis
from jobs.spec import Cron, JobFunc, JobRunInfo, JobSpec
from storage import catalogue, intervals, sources

log = logging.getLogger(__name__)

JOB_ID = "kpis.pull"  # the HTTP pull's id since before there were other sources
DEFAULT_CRON = "*/15 * * * *"
MAX_ERRORS_SHOWN = 20
SUBJECTS_EVERY = dt.timedelta(hours=1)
CSV_COLUMNS = ("date", "email", "team", "metric", "value", "contacts", "numerator", "denominator")


def job_id(name: str) -> str:
    """The scheduled job of a source: `kpis.pull` (HTTP) or `kpis.pull.NAME`."""
    return JOB_ID if name == "http" else f"{JOB_ID}.{name}"


@dataclass
class PullResult:
    """What one pull did: the rows written, or why nothing (more) was."""

    ok: bool
    source: str = "http"
    received: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    attempts: int = 0
    windows: int = 0  # interval sources: windows applied
    days_written: int = 0
    dropped: int = 0  # interval rows refused as impossible (logged)
    error: str | None = None
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if not self.ok:
            if self.source == "http":
                lines = [f"KPI pull failed, nothing was imported: {self.error}"]
            else:
                done = f", after {self.windows} window(s) applied whole" if self.windows else ""
                lines = [f"KPI pull ({self.source}) stopped{done}: {self.error}"]
            lines += [f"  {p}" for p in self.problems[:MAX_ERRORS_SHOWN]]
            if len(self.problems) > MAX_ERRORS_SHOWN:
                lines.append(f"  ... and {len(self.problems) - MAX_ERRORS_SHOWN} more")
            return "\n".join(lines)
        if self.source == "http":
            return (
                f"KPI pull: {self.received} rows, {self.created} new, {self.updated} updated, "
                f"{self.unchanged} unchanged."
            )
        dropped = f", {self.dropped} impossible rows dropped" if self.dropped else ""
        return (
            f"KPI pull ({self.source}): {self.received} interval rows in {self.windows} "
            f"window(s), {self.days_written} daily values written{dropped}."
        )


# --- the HTTP pull (daily rows in leadbot's JSON) -------------------------------------


def rows_to_csv(rows: list[dict[str, Any]]) -> str:
    """The rows as the CSV import reads them, so both sources share one validation."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in rows:
        w.writerow([_cell(r.get(c)) for c in CSV_COLUMNS])
    return out.getvalue()


def _cell(x: object) -> str:
    if x is None:
        return ""
    if isinstance(x, float):
        return repr(x)
    return str(x)


def _redact(text: str, secret: str | None) -> str:
    """A source that echoes our token back (in a value it sends) must not put it in logs."""
    return text.replace(secret, "(redacted)") if secret else text


async def pull_daily(ctx: HandlerContext, source: DailySource) -> PullResult:
    """Fetch a daily source once, check the whole payload, then import it (all or nothing)."""
    started = time.monotonic()
    secret = getattr(source, "secret", None)
    where = getattr(source, "safe_url", source.name)
    try:
        rows, attempts = await source.fetch_days()
    except SourceError as exc:
        log.error("kpi pull url=%s failed: %s; nothing imported", where, exc.message)
        return PullResult(
            ok=False, error=f"the source failed: {exc.message}", attempts=exc.attempts
        )
    except PayloadError as exc:
        message, bad = _redact(exc.message, secret), [_redact(p, secret) for p in exc.problems]
        log.error(
            "kpi pull url=%s refused payload: %s%s; nothing imported",
            where,
            message,
            f" (first: {bad[0]})" if bad else "",
        )
        return PullResult(ok=False, error=message, problems=bad, attempts=1)
    result = await import_kpis(ctx, rows_to_csv(rows))
    if not result.ok:
        # CSV line N is rows[N - 2] (line 1 is the header).
        problems = [_redact(f"rows[{e.line - 2}]: {e.message}", secret) for e in result.errors]
        log.error(
            "kpi pull url=%s refused payload: %d bad rows (first: %s); nothing imported",
            where,
            result.error_count,
            problems[0] if problems else "-",
        )
        return PullResult(
            ok=False,
            received=len(rows),
            attempts=attempts,
            error=f"{result.error_count} problem(s) in the rows",
            problems=problems,
        )
    log.info(
        "kpi pull url=%s rows=%d created=%d updated=%d unchanged=%d attempts=%d in %.2fs",
        where,
        len(rows),
        result.created,
        result.updated,
        result.unchanged,
        attempts,
        time.monotonic() - started,
    )
    return PullResult(
        ok=True,
        received=len(rows),
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
        attempts=attempts,
    )


pull_once = pull_daily  # the name `leadbot import kpis --from-url` has always used


# --- interval sources --------------------------------------------------------------------


async def _metric_rules(ctx: HandlerContext) -> dict[str, tuple[str, Aggregation]]:
    metrics = await catalogue.list_metrics(ctx.db)
    return {m.key: (m.unit, Aggregation(m.aggregation)) for m in metrics}


def _checked(
    rows: Sequence[IntervalRow], rules: Mapping[str, tuple[str, Aggregation]], name: str
) -> tuple[list[IntervalRow], int]:
    """The rows that can be right; the others are counted and the first one logged."""
    good: list[IntervalRow] = []
    dropped = 0
    for r in rows:
        rule = rules.get(r.metric)
        problem = "unknown metric" if rule is None else interval_problem(r, *rule)
        if problem is None:
            good.append(r)
            continue
        dropped += 1
        if dropped == 1:
            log.warning(
                "kpi pull source=%s dropped %s %s %s at %s: %s",
                name,
                r.kind,
                r.external_id,
                r.metric,
                r.start.isoformat(),
                problem,
            )
    return good, dropped


async def _refresh_subjects(ctx: HandlerContext, source: KpiSource, now: dt.datetime) -> None:
    state = await sources.get_state(ctx.db, source=source.name)
    if (
        state is not None
        and state.subjects_at is not None
        and now - state.subjects_at < SUBJECTS_EVERY
    ):
        return
    known = await sources.known_ids(ctx.db, source=source.name)
    found = await source.subjects(known)
    await sources.save_subjects(ctx.db, source=source.name, subjects=list(found))


def _windows(
    source: KpiSource,
    watermark: dt.datetime | None,
    now: dt.datetime,
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> list[Window]:
    m = source.interval_minutes
    if since is not None:  # a backfill: exactly the span asked for
        start = floor_to(since, m)
        end = ceil_to(min(until or now, now), m)
        if end <= start:
            return []
        return split_window(Window(start, end), source.max_window)
    return plan_windows(
        watermark=watermark, now=now, minutes=m, repull=source.repull, max_window=source.max_window
    )


async def pull_intervals(
    ctx: HandlerContext,
    source: KpiSource,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> PullResult:
    """One pull of an interval source (module doc); `since`/`until` make it a backfill."""
    started = time.monotonic()
    now = ctx.now()
    result = PullResult(ok=True, source=source.name)
    try:
        await _refresh_subjects(ctx, source, now)
        state = await sources.get_state(ctx.db, source=source.name)
        windows = _windows(source, state.watermark if state else None, now, since, until)
        rules = await _metric_rules(ctx)
        for w in windows:
            rows = [r async for r in source.pull(w)]
            good, dropped = _checked(rows, rules, source.name)
            applied = await intervals.apply_window(ctx.db, source=source.name, window=w, rows=good)
            result.windows += 1
            result.received += len(good)
            result.dropped += dropped
            result.days_written += applied.days_written
    except SourceError as exc:
        result.ok = False
        result.error = exc.message
        result.attempts = exc.attempts
        log.error(
            "kpi pull source=%s failed after %d window(s): %s",
            source.name,
            result.windows,
            exc.message,
        )
        await sources.record_run(ctx.db, source=source.name, ok=False, error=exc.message)
        return result
    keep = dt.timedelta(days=ctx.settings.kpi_interval_days)
    await intervals.prune(ctx.db, before=now - keep)
    await sources.record_run(ctx.db, source=source.name, ok=True, rows=result.received)
    log.info(
        "kpi pull source=%s windows=%d rows=%d dropped=%d days=%d in %.2fs",
        source.name,
        result.windows,
        result.received,
        result.dropped,
        result.days_written,
        time.monotonic() - started,
    )
    return result


async def pull(ctx: HandlerContext, source: Source) -> PullResult:
    """One pull of any source."""
    if isinstance(source, KpiSource):
        return await pull_intervals(ctx, source)
    return await pull_daily(ctx, source)


# --- schedules ---------------------------------------------------------------------------


def _job(source: Source | None) -> JobFunc:
    async def run(ctx: HandlerContext, info: JobRunInfo) -> None:
        if source is None:
            log.debug("kpi pull: KPI_SOURCE_URL is not set; skipped")
            return
        result = await pull(ctx, source)
        if not result.ok:
            # The scheduler records a failed run; the log line above says why.
            raise RuntimeError(result.error or "kpi pull failed")

    return run


def parse_cron(text: str, setting: str = "KPI_PULL_CRON") -> Cron:
    """A 5-field cron (`*/15 * * * *`: minute hour day month weekday) in UTC.

    The month field must be `*` (Cron has none); ValueError names what is wrong.
    """
    parts = text.split()
    if len(parts) != 5:
        raise ValueError(f"{text!r} is not a 5-field cron (minute hour day month weekday)")
    minute, hour, day, month, dow = parts
    if month != "*":
        raise ValueError(f"{text!r}: {setting} cannot restrict months")
    try:
        CronTrigger(minute=minute, hour=hour, day=day, day_of_week=dow, timezone="UTC")
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a valid cron: {exc}") from None
    return Cron(minute=minute, hour=hour, day=day, day_of_week=dow, timezone="UTC")


def build_spec(cron: str = DEFAULT_CRON, source: Source | None = None) -> JobSpec:
    """The scheduled pull of one source (the HTTP pull when `source` is None or `http`)."""
    name = source.name if source is not None else "http"
    what = "KPI_SOURCE_URL" if name == "http" else getattr(source, "title", name)
    return JobSpec(
        id=job_id(name),
        description=f"Pull KPIs from {what} ({cron}, UTC)",
        run=_job(source),
        cron=parse_cron(cron, f"{name.upper()}_PULL_CRON" if name != "http" else "KPI_PULL_CRON"),
    )


def _cron_setting(settings: Settings, name: str) -> tuple[str, str]:
    if name == "http":
        return "KPI_PULL_CRON", settings.kpi_pull_cron
    setting = f"{name}_pull_cron"
    return setting.upper(), str(getattr(settings, setting, DEFAULT_CRON))


def build_specs(settings: Settings, configured: Mapping[str, Source]) -> list[JobSpec]:
    """The pull jobs: `kpis.pull` always (it does nothing until KPI_SOURCE_URL is set),
    and one per other configured source, each on its own cron."""
    specs: list[JobSpec] = []
    names = ["http", *(n for n in configured if n != "http")]
    for name in names:
        setting, text = _cron_setting(settings, name)
        text = text.strip() or DEFAULT_CRON
        source = configured.get(name)
        try:
            specs.append(build_spec(text, source))
        except ValueError as exc:
            log.error("%s %s; using %r", setting, exc, DEFAULT_CRON)
            specs.append(build_spec(DEFAULT_CRON, source))
    return specs
