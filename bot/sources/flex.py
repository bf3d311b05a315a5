"""Twilio Flex: TaskRouter cumulative statistics per task queue, workers mapped by email.

Through the `twilio` SDK (`pip install 'leadbot[flex]'`) and its asyncio HTTP client
(aiohttp, already a dependency), whose requests go through `_PacedClient`: 429 answers
wait their Retry-After (else back off), 5xx are retried, and a base URL override
(TWILIO_API_URL) lets tests reach a local fake.

- `GET /v1/Workspaces/{ws}/TaskQueues/{tq}/CumulativeStatistics?StartDate&EndDate&
  SplitByWaitTime=T` once per queue and interval (TaskRouter has no interval grouping):
  service level = reservations accepted below T seconds (`split_by_wait_time[T].below`)
  over tasks entered; abandonment = tasks canceled over tasks entered; ASA =
  `avg_task_acceptance_time` x reservations accepted over reservations accepted.
  TaskRouter's figures do not arrive late, so a pull reads 30 minutes back.
- `GET /v1/Workspaces/{ws}/TaskQueues` and `/Workers`, paged: queues (mapped to teams
  by an admin) and workers, matched by the email in their attributes (`email`), else
  their `contact_uri` (`client:maria.lopez@example.com`). TaskRouter keeps no handle time
  per worker, so the per-agent figures of a Flex center come from another source (a
  CSV, or Flex Insights through the HTTP pull).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
from collections.abc import AsyncIterator, Collection
from typing import Any

from bot.sources.common import MissingExtra, Sleep, retry_after
from domain.sources import (
    CheckReport,
    ErrorKind,
    IntervalRow,
    SourceError,
    Subject,
    SubjectKind,
    Window,
)

TASKROUTER = "https://taskrouter.twilio.com"
RETRIES = 4
MAX_WAIT = 60.0


def _sdk() -> Any:
    try:
        from twilio.http.async_http_client import AsyncTwilioHttpClient
        from twilio.rest import Client
    except ImportError:
        raise MissingExtra("flex", "twilio") from None
    return Client, AsyncTwilioHttpClient


def _error(exc: Exception) -> SourceError:
    status = getattr(exc, "status", None)
    said = getattr(exc, "msg", str(exc))
    if status == 401:
        return SourceError(
            f"Twilio refused the credentials ({said}); check TWILIO_ACCOUNT_SID and "
            "TWILIO_AUTH_TOKEN (or TWILIO_API_KEY_SID and its secret).",
            ErrorKind.credentials,
        )
    if status == 403:
        return SourceError(
            f"Twilio refused a permission ({said}); an API key needs TaskRouter read access.",
            ErrorKind.permission,
        )
    if status == 404:
        return SourceError(
            f"Twilio has no such workspace here ({said}); check TWILIO_WORKSPACE_SID.",
            ErrorKind.config,
        )
    if status == 429:
        return SourceError(f"Twilio kept rate-limiting ({said})", ErrorKind.rate_limited)
    if isinstance(status, int):
        return SourceError(f"Twilio: HTTP {status}: {said}", ErrorKind.unavailable)
    return SourceError(f"Twilio could not be reached ({type(exc).__name__})", ErrorKind.unavailable)


def paced_client(base_url: str | None, sleep: Sleep) -> Any:
    """The SDK's asyncio HTTP client, retrying 429 and 5xx and optionally re-based."""
    _, async_client = _sdk()

    class _PacedClient(async_client):  # type: ignore[misc, valid-type]
        async def request(self, method: str, url: str, **kwargs: Any) -> Any:
            if base_url and url.startswith(TASKROUTER):
                url = base_url.rstrip("/") + url[len(TASKROUTER) :]
            auth = kwargs.pop("auth", None)
            if auth is not None:
                # As a header: aiohttp has deprecated the BasicAuth the SDK would pass.
                basic = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
                kwargs["headers"] = {
                    **(kwargs.get("headers") or {}),
                    "Authorization": f"Basic {basic}",
                }
            for attempt in range(RETRIES + 1):
                resp = await super().request(method, url, **kwargs)
                if resp.status_code != 429 and resp.status_code < 500:
                    return resp
                if attempt == RETRIES:
                    return resp
                headers = resp.headers or {}
                asked = retry_after(headers.get("Retry-After"))
                await sleep(min(asked if asked is not None else 2.0**attempt, MAX_WAIT))
            return resp

    return _PacedClient()


class FlexSource:
    """Twilio Flex (TaskRouter) as a KpiSource (module doc)."""

    name = "flex"
    title = "Twilio Flex"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        workspace_sid: str,
        api_key_sid: str | None = None,
        interval_minutes: int = 15,
        sl_threshold_seconds: int = 20,
        base_url: str | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Any = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.interval_minutes = interval_minutes
        self.repull = dt.timedelta(minutes=30)
        self.max_window = dt.timedelta(hours=6)
        self.workspace_sid = workspace_sid
        self.sl = sl_threshold_seconds
        self._account = account_sid
        self._user = api_key_sid or account_sid
        self._password = auth_token
        self._base_url = base_url
        self._sleep = sleep
        self._clock = clock
        self._client: Any = None
        self._queues: list[str] = []

    def _ws(self) -> Any:
        if self._client is None:
            client_cls, _ = _sdk()
            self._client = client_cls(
                self._user,
                self._password,
                self._account,
                http_client=paced_client(self._base_url, self._sleep),
            )
        return self._client.taskrouter.v1.workspaces(self.workspace_sid)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.http_client.close()

    async def _safely(self, coro: Any) -> Any:
        try:
            return await coro
        except MissingExtra:
            raise
        except Exception as exc:  # TwilioRestException, aiohttp errors
            raise _error(exc) from None

    async def check(self) -> CheckReport:
        facts: list[str] = []
        try:
            ws = await self._safely(self._ws().fetch_async())
            facts.append(f"workspace {ws.friendly_name} ({self.workspace_sid})")
            queues = await self._safely(self._ws().task_queues.list_async(limit=1000))
            workers = await self._safely(self._ws().workers.list_async(limit=5000))
            facts.append(f"{len(workers)} workers and {len(queues)} task queues")
            if queues:
                now = self._clock()
                await self._safely(
                    self._stats(queues[0].sid, Window(now - dt.timedelta(minutes=15), now))
                )
                facts.append("TaskRouter cumulative statistics readable")
        except SourceError as exc:
            return CheckReport(ok=False, facts=facts, problem=exc.message)
        return CheckReport(ok=True, facts=facts)

    async def subjects(self, known: Collection[str]) -> list[Subject]:
        out: list[Subject] = []
        for w in await self._safely(self._ws().workers.list_async(limit=5000)):
            out.append(
                Subject(
                    SubjectKind.agent, w.sid, w.friendly_name or "", _worker_email(w.attributes)
                )
            )
        queues = await self._safely(self._ws().task_queues.list_async(limit=1000))
        self._queues = [q.sid for q in queues]
        out += [Subject(SubjectKind.queue, q.sid, q.friendly_name or "") for q in queues]
        return out

    def _stats(self, queue: str, window: Window) -> Any:
        return (
            self._ws()
            .task_queues(queue)
            .cumulative_statistics()
            .fetch_async(
                start_date=window.start, end_date=window.end, split_by_wait_time=str(self.sl)
            )
        )

    async def pull(self, window: Window) -> AsyncIterator[IntervalRow]:
        if not self._queues:
            queues = await self._safely(self._ws().task_queues.list_async(limit=1000))
            self._queues = [q.sid for q in queues]
        now = self._clock()
        step = dt.timedelta(minutes=self.interval_minutes)
        start = window.start
        while start < window.end and start < now:
            interval = Window(start, min(start + step, now))
            for queue in self._queues:
                stats = await self._safely(self._stats(queue, interval))
                for row in self._rows(queue, start, stats):
                    yield row
            start += step

    def _rows(self, queue: str, start: dt.datetime, s: Any) -> list[IntervalRow]:
        entered = float(s.tasks_entered or 0)
        accepted = float(s.reservations_accepted or 0)
        q, m = SubjectKind.queue, self.interval_minutes
        rows: list[IntervalRow] = []
        if entered:
            split = (s.split_by_wait_time or {}).get(str(self.sl)) or {}
            # A task transferred is accepted more than once: a share never exceeds the whole.
            below = min(float((split.get("below") or {}).get("reservations_accepted", 0)), entered)
            rows.append(IntervalRow(start, m, q, queue, "service_level", below, entered, entered))
            canceled = min(float(s.tasks_canceled or 0), entered)
            rows.append(IntervalRow(start, m, q, queue, "abandon_rate", canceled, entered, entered))
        if accepted and s.avg_task_acceptance_time is not None:
            wait = float(s.avg_task_acceptance_time) * accepted
            rows.append(IntervalRow(start, m, q, queue, "asa", wait, accepted, accepted))
        return rows


def _worker_email(attributes: str | None) -> str:
    """A worker's email: `email` in its attributes, else its contact_uri's address."""
    try:
        attrs = json.loads(attributes or "{}")
    except ValueError:
        return ""
    if not isinstance(attrs, dict):
        return ""
    email = attrs.get("email")
    if isinstance(email, str) and "@" in email:
        return email
    uri = attrs.get("contact_uri")
    if isinstance(uri, str) and "@" in uri:
        return uri.split(":", 1)[-1]
    return ""
