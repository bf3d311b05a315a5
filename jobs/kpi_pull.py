"""Pulling KPI values over HTTP from the contact-center platform (KPI_SOURCE_URL).

`GET KPI_SOURCE_URL` (with `Authorization: Bearer KPI_SOURCE_TOKEN` when set) answers:

    {"version": 1,
     "rows": [
       {"date": "2026-11-16", "email": "maria.lopez@example.com", "metric": "aht",
        "value": 287.5, "contacts": 41},
       {"date": "2026-11-16", "email": "maria.lopez@example.com", "metric": "csat",
        "value": 90.0, "contacts": 10, "numerator": 9, "denominator": 10},
       {"date": "2026-11-16", "team": "Billing", "metric": "service_level",
        "value": 82.5, "contacts": 940}
     ]}

- `date` YYYY-MM-DD (the local day of the figures); `email` (a person on the roster) or
  `team` (a team's own value, e.g. the queue's service level); `metric` a catalogue key;
  `value` a number in the metric's range; optional `contacts` (the weight, >= 0) and
  `numerator`/`denominator` (both or neither: satisfied/surveyed for CSAT, promoters
  minus detractors/responses for NPS, ...). No other keys (a new field means version 2).
- The payload is checked completely before anything is written: one bad row (unknown
  email or metric, wrong type, out of range, a duplicate) refuses the whole payload.
  The checks are the CSV import's (handlers.imports), so both sources agree.
- Values already stored for the same person (or team), metric and day are updated, not
  duplicated, so pulling the same payload again changes nothing.
- Timeouts, and retries with exponential backoff on 5xx, 429 and network errors; 4xx
  other than 429 are not retried (a wrong token does not get better by asking again).

The scheduled pull runs on `KPI_PULL_CRON` (default every 15 minutes, a 5-field cron in
UTC); `leadbot import kpis --from-url` runs one pull by hand.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from apscheduler.triggers.cron import CronTrigger

from handlers.core.context import HandlerContext
from handlers.imports import import_kpis
from jobs.spec import Cron, JobRunInfo, JobSpec

log = logging.getLogger(__name__)

JOB_ID = "kpis.pull"
PAYLOAD_VERSION = 1
DEFAULT_CRON = "*/15 * * * *"
MAX_ROWS = 500_000
MAX_ERRORS_SHOWN = 20
REQUIRED = ("date", "metric", "value")
OPTIONAL = ("email", "team", "contacts", "numerator", "denominator")
CSV_COLUMNS = ("date", "email", "team", "metric", "value", "contacts", "numerator", "denominator")

Sleep = Callable[[float], Awaitable[None]]


@dataclass
class PullResult:
    """What one pull did: the rows written, or why nothing was."""

    ok: bool
    received: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    attempts: int = 0
    error: str | None = None
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if not self.ok:
            lines = [f"KPI pull failed, nothing was imported: {self.error}"]
            lines += [f"  {p}" for p in self.problems[:MAX_ERRORS_SHOWN]]
            if len(self.problems) > MAX_ERRORS_SHOWN:
                lines.append(f"  ... and {len(self.problems) - MAX_ERRORS_SHOWN} more")
            return "\n".join(lines)
        return (
            f"KPI pull: {self.received} rows, {self.created} new, {self.updated} updated, "
            f"{self.unchanged} unchanged."
        )


class PayloadError(Exception):
    """The source answered, but not with a valid version-1 payload."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or []


class SourceError(Exception):
    """The source could not be reached or kept failing."""

    def __init__(self, message: str, attempts: int) -> None:
        super().__init__(message)
        self.attempts = attempts


def _is_number(x: object) -> bool:
    # bool is an int in Python; `true` is not a number of contacts.
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def parse_payload(body: bytes) -> list[dict[str, Any]]:
    """The rows of a version-1 payload, type-checked; PayloadError lists every problem."""
    rows = _rows(body)
    problems = [f"rows[{i}]: {p}" for i, row in enumerate(rows) for p in _row_problems(row)]
    if problems:
        raise PayloadError(f"{len(problems)} problem(s) in the rows", problems)
    return rows


def _rows(body: bytes) -> list[Any]:
    """The payload's `rows`, once the envelope (JSON, version, a list, its size) is right."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError(f"the answer is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise PayloadError('the answer is not a JSON object with "version" and "rows"')
    version = data.get("version")
    if version != PAYLOAD_VERSION:
        raise PayloadError(f"unsupported payload version {version!r} (this leadbot reads 1)")
    rows = data.get("rows")
    if not isinstance(rows, list):
        raise PayloadError('"rows" is missing or not a list')
    if len(rows) > MAX_ROWS:
        raise PayloadError(f"{len(rows)} rows is more than the {MAX_ROWS} a pull may carry")
    return rows


def _row_problems(row: object) -> list[str]:
    """What is wrong with one row, in the order the checks report it."""
    if not isinstance(row, dict):
        return ["not an object"]
    return _field_problems(row) + _target_problems(row) + _number_problems(row)


def _field_problems(row: dict[Any, Any]) -> list[str]:
    problems: list[str] = []
    missing = [k for k in REQUIRED if k not in row]
    if missing:
        problems.append(f"missing {', '.join(missing)}")
    unknown = sorted(k for k in row if k not in REQUIRED + OPTIONAL)
    if unknown:
        problems.append(f"unknown field {', '.join(map(str, unknown))}")
    for k in ("date", "metric", "email", "team"):
        if k in row and row[k] is not None and not isinstance(row[k], str):
            problems.append(f"{k} must be a string")
    return problems


def _target_problems(row: dict[Any, Any]) -> list[str]:
    # A value is a person's (email) or a team's own (team): exactly one of them.
    if not row.get("email") and not row.get("team"):
        return ["give an email (a person) or a team (a team's value)"]
    if row.get("email") and row.get("team"):
        return ["give an email or a team, not both"]
    return []


def _number_problems(row: dict[Any, Any]) -> list[str]:
    problems: list[str] = []
    if "value" in row and not _is_number(row["value"]):
        problems.append(f"value must be a number, not {row['value']!r}")
    for k in ("contacts", "numerator", "denominator"):
        if row.get(k) is not None and not _is_number(row[k]):
            problems.append(f"{k} must be a number, not {row[k]!r}")
    return problems


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


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    token: str | None,
    *,
    retries: int,
    backoff: float,
    request_timeout: float,
    sleep: Sleep,
) -> tuple[bytes, int]:
    """The body of a successful GET and the attempts it took; SourceError otherwise."""
    headers = {"Accept": "application/json", "User-Agent": "leadbot-kpi-pull"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    last = "no attempt"
    for attempt in range(1, retries + 2):
        wait = backoff * (2 ** (attempt - 1))
        try:
            resp = await client.get(url, headers=headers, timeout=request_timeout)
        except httpx.TimeoutException:
            last = f"timed out after {request_timeout:g}s"
        except httpx.HTTPError as exc:
            last = f"could not connect ({type(exc).__name__})"
        else:
            if resp.status_code < 300:
                return resp.content, attempt
            if resp.status_code == 429 or resp.status_code >= 500:
                last = f"HTTP {resp.status_code}"
                retry_after = resp.headers.get("Retry-After", "")
                if retry_after.isdigit():
                    wait = min(float(retry_after), 60.0)
            else:
                hint = " (check KPI_SOURCE_TOKEN)" if resp.status_code in (401, 403) else ""
                raise SourceError(f"HTTP {resp.status_code}{hint}", attempt)
        if attempt <= retries:
            log.warning("kpi pull attempt=%d failed: %s; retrying in %.1fs", attempt, last, wait)
            await sleep(wait)
    raise SourceError(f"{last}, {retries + 1} attempts", retries + 1)


def _redact(text: str, token: str | None) -> str:
    """A source that echoes our token back (in a value it sends) must not put it in logs."""
    return text.replace(token, "(redacted)") if token else text


async def pull_once(
    ctx: HandlerContext,
    *,
    url: str,
    token: str | None,
    client: httpx.AsyncClient | None = None,
    retries: int = 3,
    backoff: float = 1.0,
    request_timeout: float = 30.0,
    sleep: Sleep = asyncio.sleep,
) -> PullResult:
    """Fetch the source once, check the whole payload, then upsert it (all or nothing)."""
    started = time.monotonic()
    own = client is None
    http = client or httpx.AsyncClient(follow_redirects=True)
    safe_url = url.split("?", 1)[0]  # a query string may carry a key; keep it out of logs
    try:
        try:
            body, attempts = await fetch(
                http,
                url,
                token,
                retries=retries,
                backoff=backoff,
                request_timeout=request_timeout,
                sleep=sleep,
            )
        except SourceError as exc:
            log.error("kpi pull url=%s failed: %s; nothing imported", safe_url, exc)
            return PullResult(ok=False, error=f"the source failed: {exc}", attempts=exc.attempts)
    finally:
        if own:
            await http.aclose()
    try:
        rows = parse_payload(body)
    except PayloadError as exc:
        message, bad = _redact(exc.message, token), [_redact(p, token) for p in exc.problems]
        log.error(
            "kpi pull url=%s refused payload: %s%s; nothing imported",
            safe_url,
            message,
            f" (first: {bad[0]})" if bad else "",
        )
        return PullResult(ok=False, error=message, problems=bad, attempts=attempts)
    result = await import_kpis(ctx, rows_to_csv(rows))
    if not result.ok:
        # CSV line N is rows[N - 2] (line 1 is the header).
        problems = [_redact(f"rows[{e.line - 2}]: {e.message}", token) for e in result.errors]
        log.error(
            "kpi pull url=%s refused payload: %d bad rows (first: %s); nothing imported",
            safe_url,
            len(problems),
            problems[0] if problems else "-",
        )
        return PullResult(
            ok=False,
            received=len(rows),
            attempts=attempts,
            error=f"{len(problems)} problem(s) in the rows",
            problems=problems,
        )
    log.info(
        "kpi pull url=%s rows=%d created=%d updated=%d unchanged=%d attempts=%d in %.2fs",
        safe_url,
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


async def run(ctx: HandlerContext, info: JobRunInfo) -> None:
    """The scheduled pull: does nothing (quietly) until KPI_SOURCE_URL is set."""
    url = ctx.settings.kpi_source_url
    if not url:
        log.debug("kpi pull: KPI_SOURCE_URL is not set; skipped")
        return
    token = ctx.settings.kpi_source_token
    result = await pull_once(ctx, url=url, token=token.get_secret_value() if token else None)
    if not result.ok:
        # The scheduler records a failed run; the log line above says why.
        raise RuntimeError(result.error or "kpi pull failed")


def parse_cron(text: str) -> Cron:
    """A 5-field cron (`*/15 * * * *`: minute hour day month weekday) in UTC.

    The month field must be `*` (Cron has none); ValueError names what is wrong.
    """
    parts = text.split()
    if len(parts) != 5:
        raise ValueError(f"{text!r} is not a 5-field cron (minute hour day month weekday)")
    minute, hour, day, month, dow = parts
    if month != "*":
        raise ValueError(f"{text!r}: KPI_PULL_CRON cannot restrict months")
    try:
        CronTrigger(minute=minute, hour=hour, day=day, day_of_week=dow, timezone="UTC")
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a valid cron: {exc}") from None
    return Cron(minute=minute, hour=hour, day=day, day_of_week=dow, timezone="UTC")


def build_spec(cron: str = DEFAULT_CRON) -> JobSpec:
    """The scheduled pull's JobSpec for a cron string (the registry uses KPI_PULL_CRON)."""
    return JobSpec(
        id=JOB_ID,
        description=f"Pull KPI values from KPI_SOURCE_URL ({cron}, UTC)",
        run=run,
        cron=parse_cron(cron),
    )
