"""Genesys Cloud: analytics aggregates per agent and per queue, surveys, users and queues.

A typed httpx client rather than the official SDK (purecloudplatformclientv2): that
SDK's wheel is 14.5 MB and unpacks to 6,758 files (67 MB) for the whole Platform API,
and it is synchronous (urllib3; its `async_req` runs calls on a thread pool), so every
call would need a thread in our asyncio process. We use five endpoints; httpx is already
a dependency, and this module is all the code they need.

- OAuth client credentials: `POST https://login.REGION/oauth/token` (Basic client
  id:secret, `grant_type=client_credentials`); the token is reused until a minute before
  it expires, and renewed once when a call answers 401.
- `POST /api/v2/analytics/conversations/aggregates/query`, `granularity` PT15M/PT30M:
  grouped by `userId`: `tHandle` (AHT: its sum in milliseconds over its count; Genesys
  counts a handle time in the interval the handling ends, hence the re-pull) and, with
  GENESYS_FCR_FROM_TRANSFERS, `nTransferred` (FCR = handled not transferred / handled);
  grouped by `queueId`: `oServiceLevel` (its own numerator and denominator, against the
  queue's service-level target), `tAnswered` (ASA), `tAbandon` and `nOffered`
  (abandonment).
- `POST /api/v2/analytics/surveys/aggregates/query` by `userId`: `oSurveyTotalScore`
  (CSAT: the mean survey score, as a percentage) and the NPS counts
  (`nSurveyNpsPromoters`, `nSurveyNpsDetractors`, `nSurveyNpsResponses`).
- `GET /api/v2/users` and `GET /api/v2/routing/queues`, paged (`pageNumber`, `pageCount`):
  agents are matched by email; queues are mapped to teams by an admin.

Milliseconds become seconds; a metric absent from an interval is no data, not a zero.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import time
from collections.abc import AsyncIterator, Collection, Iterator, Mapping
from typing import Any

import httpx

from bot.sources.common import JsonClient, Policy, Sleep, iso, parse_time
from domain.sources import (
    CheckReport,
    ErrorKind,
    IntervalRow,
    SourceError,
    Subject,
    SubjectKind,
    Window,
)

AGENT_METRICS = ("tHandle", "nTransferred")
QUEUE_METRICS = ("oServiceLevel", "tAnswered", "tAbandon", "nOffered")
SURVEY_METRICS = (
    "oSurveyTotalScore",
    "nSurveyNpsPromoters",
    "nSurveyNpsDetractors",
    "nSurveyNpsResponses",
)
PAGE_SIZE = 100
Stats = Mapping[str, float]


class GenesysSource:
    """Genesys Cloud as a KpiSource (module doc)."""

    name = "genesys"
    title = "Genesys Cloud"

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        api_url: str,
        login_url: str,
        interval_minutes: int = 15,
        repull: dt.timedelta = dt.timedelta(hours=6),
        fcr_from_transfers: bool = False,
        client: httpx.AsyncClient | None = None,
        sleep: Sleep = asyncio.sleep,
        policy: Policy | None = None,
    ) -> None:
        self.interval_minutes = interval_minutes
        self.repull = repull
        self.max_window = dt.timedelta(days=1)
        self.fcr = fcr_from_transfers
        self._id = client_id
        self._secret = client_secret
        self._token: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()
        http = client or httpx.AsyncClient()
        self._own = client is None
        hints = {
            "region": "Check GENESYS_REGION (mypurecloud.com, mypurecloud.ie, ...) or the "
            "GENESYS_API_URL/GENESYS_LOGIN_URL overrides.",
            "credentials": "check GENESYS_CLIENT_ID and GENESYS_CLIENT_SECRET (a client "
            "credentials grant in Admin > OAuth)",
            "permission": "give the OAuth client's role the permission named "
            "(analytics:conversationAggregate:view, analytics:surveyAggregate:view, "
            "directory:user:view, routing:queue:view)",
        }
        self.login = JsonClient(
            title="Genesys Cloud login",
            base_url=login_url,
            client=http,
            sleep=sleep,
            policy=policy,
            hints=hints,
        )
        self.api = JsonClient(
            title=self.title,
            base_url=api_url,
            auth=self._auth,
            client=http,
            sleep=sleep,
            policy=policy,
            hints=hints,
        )

    async def aclose(self) -> None:
        if self._own:
            await self.api.http.aclose()

    # --- auth ------------------------------------------------------------------------

    async def _auth(self, renew: bool) -> Mapping[str, str]:
        async with self._lock:
            if renew or self._token is None or time.monotonic() >= self._expires:
                await self._new_token()
        return {"Authorization": f"Bearer {self._token}"}

    async def _new_token(self) -> None:
        basic = base64.b64encode(f"{self._id}:{self._secret}".encode()).decode()
        try:
            body = await self.login.call(
                "POST",
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                headers={"Authorization": f"Basic {basic}"},
                authenticated=False,
            )
        except SourceError as exc:
            if exc.kind in (ErrorKind.payload, ErrorKind.credentials):
                # The login service answers 400/401 invalid_client for a wrong id or secret.
                raise SourceError(
                    "Genesys Cloud refused the client credentials; check GENESYS_CLIENT_ID "
                    "and GENESYS_CLIENT_SECRET (and that the client's grant type is Client "
                    f"Credentials). It said: {exc.message}",
                    ErrorKind.credentials,
                    exc.attempts,
                ) from None
            raise
        token = body.get("access_token") if isinstance(body, dict) else None
        if not token:
            raise SourceError("Genesys Cloud login answered without a token", ErrorKind.payload)
        self._token = str(token)
        self._expires = time.monotonic() + float(body.get("expires_in", 3600)) - 60

    # --- check and subjects ----------------------------------------------------------

    async def check(self) -> CheckReport:
        facts: list[str] = []
        try:
            await self._auth(True)
            facts.append(f"logged in at {self.login.base_url} as OAuth client {self._id}")
            users = await self.api.call("GET", "/api/v2/users", params={"pageSize": 1})
            queues = await self.api.call("GET", "/api/v2/routing/queues", params={"pageSize": 1})
            facts.append(f"{users.get('total', 0)} users and {queues.get('total', 0)} queues")
            now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
            probe = Window(now - dt.timedelta(minutes=15), now)
            await self._aggregates("conversations", probe, ["queueId"], QUEUE_METRICS)
            await self._aggregates("surveys", probe, ["userId"], SURVEY_METRICS)
            facts.append(
                "analytics readable: conversation aggregates (tHandle, oServiceLevel, "
                "tAnswered, tAbandon, nOffered) and survey aggregates (CSAT, NPS)"
            )
        except SourceError as exc:
            return CheckReport(ok=False, facts=facts, problem=exc.message)
        return CheckReport(ok=True, facts=facts)

    async def subjects(self, known: Collection[str]) -> list[Subject]:
        out: list[Subject] = []
        async for u in self._pages("/api/v2/users"):
            out.append(
                Subject(
                    SubjectKind.agent, str(u["id"]), str(u.get("name", "")), str(u.get("email", ""))
                )
            )
        async for q in self._pages("/api/v2/routing/queues"):
            out.append(Subject(SubjectKind.queue, str(q["id"]), str(q.get("name", ""))))
        return out

    async def _pages(self, path: str) -> AsyncIterator[dict[str, Any]]:
        page = 1
        while True:
            body = await self.api.call(
                "GET", path, params={"pageSize": PAGE_SIZE, "pageNumber": page}
            )
            for entity in body.get("entities") or []:
                yield entity
            if page >= int(body.get("pageCount") or 0):
                return
            page += 1

    # --- intervals ------------------------------------------------------------------

    async def _aggregates(
        self, kind: str, window: Window, group_by: list[str], metrics: Collection[str]
    ) -> list[dict[str, Any]]:
        body = {
            "interval": f"{iso(window.start)}/{iso(window.end)}",
            "granularity": f"PT{self.interval_minutes}M",
            "groupBy": group_by,
            "metrics": list(metrics),
        }
        answer = await self.api.call(
            "POST", f"/api/v2/analytics/{kind}/aggregates/query", json=body
        )
        results = answer.get("results") if isinstance(answer, dict) else None
        return list(results or [])

    async def pull(self, window: Window) -> AsyncIterator[IntervalRow]:
        agent_metrics = AGENT_METRICS if self.fcr else AGENT_METRICS[:1]
        for result in await self._aggregates("conversations", window, ["userId"], agent_metrics):
            for start, stats in _buckets(result):
                for row in self._agent_rows(str(result["group"]["userId"]), start, stats):
                    yield row
        for result in await self._aggregates("conversations", window, ["queueId"], QUEUE_METRICS):
            for start, stats in _buckets(result):
                for row in self._queue_rows(str(result["group"]["queueId"]), start, stats):
                    yield row
        for result in await self._aggregates("surveys", window, ["userId"], SURVEY_METRICS):
            for start, stats in _buckets(result):
                for row in self._survey_rows(str(result["group"]["userId"]), start, stats):
                    yield row

    def _row(
        self,
        kind: SubjectKind,
        ext: str,
        start: dt.datetime,
        metric: str,
        n: float,
        d: float,
        c: float,
    ) -> IntervalRow:
        return IntervalRow(start, self.interval_minutes, kind, ext, metric, n, d, c)

    def _agent_rows(
        self, user: str, start: dt.datetime, m: dict[str, Stats]
    ) -> Iterator[IntervalRow]:
        handle = m.get("tHandle")
        if handle and handle.get("count"):
            count = float(handle["count"])
            yield self._row(
                SubjectKind.agent, user, start, "aht", handle.get("sum", 0) / 1000, count, count
            )
            if self.fcr:
                transferred = float((m.get("nTransferred") or {}).get("count", 0))
                yield self._row(
                    SubjectKind.agent, user, start, "fcr", max(count - transferred, 0), count, count
                )

    def _queue_rows(
        self, queue: str, start: dt.datetime, m: dict[str, Stats]
    ) -> Iterator[IntervalRow]:
        q = SubjectKind.queue
        sl = m.get("oServiceLevel")
        if sl and sl.get("denominator"):
            yield self._row(
                q,
                queue,
                start,
                "service_level",
                float(sl.get("numerator", 0)),
                float(sl["denominator"]),
                float(sl["denominator"]),
            )
        answered = m.get("tAnswered")
        if answered and answered.get("count"):
            c = float(answered["count"])
            yield self._row(q, queue, start, "asa", answered.get("sum", 0) / 1000, c, c)
        offered = float((m.get("nOffered") or {}).get("count", 0))
        if offered:
            abandoned = float((m.get("tAbandon") or {}).get("count", 0))
            yield self._row(q, queue, start, "abandon_rate", abandoned, offered, offered)

    def _survey_rows(
        self, user: str, start: dt.datetime, m: dict[str, Stats]
    ) -> Iterator[IntervalRow]:
        a = SubjectKind.agent
        score = m.get("oSurveyTotalScore")
        if score and score.get("count"):
            c = float(score["count"])
            yield self._row(a, user, start, "csat", score.get("sum", 0) / 100, c, c)
        responses = float((m.get("nSurveyNpsResponses") or {}).get("count", 0))
        if responses:
            promoters = float((m.get("nSurveyNpsPromoters") or {}).get("count", 0))
            detractors = float((m.get("nSurveyNpsDetractors") or {}).get("count", 0))
            yield self._row(a, user, start, "nps", promoters - detractors, responses, responses)


def _buckets(result: Mapping[str, Any]) -> Iterator[tuple[dt.datetime, dict[str, Stats]]]:
    """Each interval of one group: its start and its metrics' stats by name."""
    for data in result.get("data") or []:
        start = parse_time(str(data["interval"]).split("/", 1)[0])
        stats = {str(x["metric"]): x.get("stats") or {} for x in data.get("metrics") or []}
        yield start, stats
