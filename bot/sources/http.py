"""The HTTP pull: KPI values in leadbot's own JSON from an endpoint you provide.

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
  `numerator`/`denominator` (both or neither). No other keys (a new field means version 2).
- This module checks the envelope and the types; the pull job (jobs/kpi_pull.py) then
  imports the rows through the CSV import's checks, all or nothing.
- Timeouts, and retries with exponential backoff on 5xx, 429 and network errors; 4xx
  other than 429 are not retried (a wrong token does not get better by asking again).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from typing import Any

import httpx

from bot.sources.common import Sleep
from domain.sources import CheckReport, ErrorKind, PayloadError, SourceError

log = logging.getLogger(__name__)

PAYLOAD_VERSION = 1
MAX_ROWS = 500_000
REQUIRED = ("date", "metric", "value")
OPTIONAL = ("email", "team", "contacts", "numerator", "denominator")


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


class HttpSource:
    """KPI_SOURCE_URL as a source (a DailySource)."""

    name = "http"
    title = "HTTP pull (KPI_SOURCE_URL)"

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        client: httpx.AsyncClient | None = None,
        retries: int = 3,
        backoff: float = 1.0,
        request_timeout: float = 30.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.url = url
        self.secret = token
        self.safe_url = url.split("?", 1)[0]  # a query string may carry a key; keep it out of logs
        self.client = client
        self.retries = retries
        self.backoff = backoff
        self.request_timeout = request_timeout
        self.sleep = sleep

    async def fetch_days(self) -> tuple[list[dict[str, Any]], int]:
        """The payload's rows, type-checked, and the attempts it took (SourceError,
        PayloadError otherwise)."""
        own = self.client is None
        http = self.client or httpx.AsyncClient(follow_redirects=True)
        try:
            body, attempts = await fetch(
                http,
                self.url,
                self.secret,
                retries=self.retries,
                backoff=self.backoff,
                request_timeout=self.request_timeout,
                sleep=self.sleep,
            )
        finally:
            if own:
                await http.aclose()
        return parse_payload(body), attempts

    async def check(self) -> CheckReport:
        try:
            rows, _ = await self.fetch_days()
        except SourceError as exc:
            return CheckReport(ok=False, problem=exc.message)
        except PayloadError as exc:
            first = f" (first: {exc.problems[0]})" if exc.problems else ""
            return CheckReport(ok=False, problem=f"{exc.message}{first}")
        days = sorted({str(r.get("date")) for r in rows})
        metrics = sorted({str(r.get("metric")) for r in rows})
        facts = [f"{self.safe_url} answered a version-1 payload of {len(rows)} rows"]
        if rows:
            facts.append(f"days {days[0]} .. {days[-1]}; metrics {', '.join(metrics)}")
        return CheckReport(ok=True, facts=facts)

    async def aclose(self) -> None:
        return None


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
                kind = ErrorKind.credentials if resp.status_code == 401 else ErrorKind.payload
                if resp.status_code == 403:
                    kind = ErrorKind.permission
                raise SourceError(f"HTTP {resp.status_code}{hint}", kind, attempt)
        if attempt <= retries:
            log.warning("kpi pull attempt=%d failed: %s; retrying in %.1fs", attempt, last, wait)
            await sleep(wait)
    raise SourceError(f"{last}, {retries + 1} attempts", ErrorKind.unavailable, retries + 1)
