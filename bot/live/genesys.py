"""Genesys Cloud live poller: queue observations (waiting, interacting, on-queue agents,
longest waiting) from `POST /api/v2/analytics/queues/observations/query`.

OAuth client credentials (`POST https://login.REGION/oauth/token`); the token is cached
until a minute before it expires and fetched again on a 401. Observations are asked for
100 queues per request, a few times a minute at most (Genesys Cloud's observation data
updates every few seconds, and the API is limited per client).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from domain.live import Observation

log = logging.getLogger(__name__)

OBSERVATIONS_PATH = "/api/v2/analytics/queues/observations/query"
METRICS = ("oWaiting", "oInteracting", "oOnQueueUsers", "oLongestWaiting")
BATCH = 100


class GenesysLive:
    """A LiveSource for Genesys Cloud."""

    name = "genesys"

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        api_url: str,
        login_url: str,
        queues: Mapping[str, str],
        poll_seconds: float = 15.0,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.api_url, self.login_url = api_url.rstrip("/"), login_url.rstrip("/")
        self.queues = dict(queues)
        self.poll_seconds = max(poll_seconds, 10.0)  # "a few times a minute"
        self.clock = clock
        self.http = http or httpx.AsyncClient(timeout=10.0)
        self._token: str | None = None
        self._expires = 0.0

    async def _bearer(self, *, fresh: bool = False) -> str:
        if self._token and not fresh and time.monotonic() < self._expires:
            return self._token
        resp = await self.http.post(
            f"{self.login_url}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(self.client_id, self.client_secret),
        )
        resp.raise_for_status()
        body = resp.json()
        self._token = str(body["access_token"])
        self._expires = time.monotonic() + max(float(body.get("expires_in", 3600)) - 60, 30)
        return self._token

    async def _query(self, ids: list[str]) -> dict[str, Any]:
        body = {
            "filter": {
                "type": "or",
                "predicates": [
                    {"type": "dimension", "dimension": "queueId", "operator": "matches", "value": q}
                    for q in ids
                ],
            },
            "metrics": list(METRICS),
        }
        for attempt in (1, 2):
            token = await self._bearer(fresh=attempt == 2)
            resp = await self.http.post(
                f"{self.api_url}{OBSERVATIONS_PATH}",
                json=body,
                headers={"Authorization": f"Bearer {token}"},
            )
            if resp.status_code == 401 and attempt == 1:
                continue  # the token was revoked or expired early: one more try with a new one
            resp.raise_for_status()
            data: dict[str, Any] = resp.json()
            return data
        return {}

    async def observe(self) -> list[Observation]:
        ids = sorted(self.queues)
        now = self.clock()
        out: list[Observation] = []
        for i in range(0, len(ids), BATCH):
            data = await self._query(ids[i : i + BATCH])
            out += parse_observations(data, now=now, teams=self.queues)
        return out


def _longest_seconds(entry: Mapping[str, Any], now: dt.datetime) -> float | None:
    stats = entry.get("stats") or {}
    value = stats.get("calculatedMetricValue")
    if isinstance(value, int | float):
        return max(float(value) / 1000.0, 0.0)  # milliseconds
    for o in entry.get("observations") or []:
        when = o.get("observationDate")
        if isinstance(when, str):
            started = dt.datetime.fromisoformat(when.replace("Z", "+00:00"))
            return max((now - started).total_seconds(), 0.0)
    return 0.0 if stats.get("count") == 0 else None


def parse_observations(
    data: Mapping[str, Any], *, now: dt.datetime, teams: Mapping[str, str]
) -> list[Observation]:
    """Observations from a query's answer: per queue, summed over media types."""
    per: dict[str, dict[str, float]] = {}
    longest: dict[str, float] = {}
    for result in data.get("results") or []:
        queue = str((result.get("group") or {}).get("queueId") or "")
        if not queue:
            continue
        acc = per.setdefault(queue, {})
        for entry in result.get("data") or []:
            metric = entry.get("metric")
            count = float((entry.get("stats") or {}).get("count") or 0)
            if metric == "oLongestWaiting":
                secs = _longest_seconds(entry, now)
                if secs is not None:
                    longest[queue] = max(longest.get(queue, 0.0), secs)
            elif metric == "oOnQueueUsers":
                acc["on_queue"] = acc.get("on_queue", 0) + count
                if entry.get("qualifier") == "IDLE":
                    acc["available"] = acc.get("available", 0) + count
            elif metric in ("oWaiting", "oInteracting"):
                acc[metric] = acc.get(metric, 0) + count
    return [
        Observation(
            queue_id=q,
            observed_at=now,
            team=teams.get(q) or None,
            source="genesys",
            waiting=int(acc.get("oWaiting", 0)),
            agents_interacting=int(acc.get("oInteracting", 0)),
            agents_on_queue=int(acc.get("on_queue", 0)),
            agents_available=int(acc.get("available", 0)),
            longest_wait_seconds=longest.get(q, 0.0),
        )
        for q, acc in sorted(per.items())
    ]
