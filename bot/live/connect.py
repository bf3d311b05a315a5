"""Amazon Connect live poller: `GetCurrentMetricData` grouped by queue
(CONTACTS_IN_QUEUE, OLDEST_CONTACT_AGE, AGENTS_AVAILABLE, AGENTS_ONLINE, AGENTS_ON_CONTACT).

boto3 is optional (`pip install 'leadbot[connect]'`): the client is the KPI connector's
(`bot.sources.connect.make_client`, boto3's standard chain), built with the poller, never
at leadbot's import. boto3's client is synchronous, so each call runs in a
worker thread. GetCurrentMetricData allows about 5 requests a second per account; one
request covers 100 queues, so a poll every 15 s uses a tiny part of it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from domain.live import Observation

BATCH = 100
CHANNELS = ("VOICE", "CHAT", "TASK")
METRICS = (
    ("CONTACTS_IN_QUEUE", "COUNT"),
    ("OLDEST_CONTACT_AGE", "SECONDS"),
    ("AGENTS_AVAILABLE", "COUNT"),
    ("AGENTS_ONLINE", "COUNT"),
    ("AGENTS_ON_CONTACT", "COUNT"),
)


class ConnectClient(Protocol):
    def get_current_metric_data(self, **kwargs: Any) -> dict[str, Any]: ...


class ConnectLive:
    """A LiveSource for Amazon Connect."""

    name = "connect"

    def __init__(
        self,
        *,
        client: ConnectClient,
        instance_id: str,
        queues: Mapping[str, str],
        poll_seconds: float = 15.0,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.client = client
        self.instance_id = instance_id
        self.queues = dict(queues)
        self.poll_seconds = max(poll_seconds, 5.0)
        self.clock = clock

    def _fetch(self, ids: list[str]) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {
                "InstanceId": self.instance_id,
                "Filters": {"Queues": ids, "Channels": list(CHANNELS)},
                "Groupings": ["QUEUE"],
                "CurrentMetrics": [{"Name": n, "Unit": u} for n, u in METRICS],
            }
            if token:
                kwargs["NextToken"] = token
            resp = self.client.get_current_metric_data(**kwargs)
            results += resp.get("MetricResults") or []
            token = resp.get("NextToken")
            if not token:
                return results

    async def observe(self) -> list[Observation]:
        ids = sorted(self.queues)
        now = self.clock()
        out: list[Observation] = []
        for i in range(0, len(ids), BATCH):
            results = await asyncio.to_thread(self._fetch, ids[i : i + BATCH])
            out += parse_results(results, now=now, teams=self.queues)
        return out


def parse_results(
    results: list[dict[str, Any]], *, now: dt.datetime, teams: Mapping[str, str]
) -> list[Observation]:
    out = []
    for r in results:
        queue = ((r.get("Dimensions") or {}).get("Queue") or {}).get("Id")
        if not queue:
            continue
        values = {
            (c.get("Metric") or {}).get("Name"): c.get("Value") for c in r.get("Collections") or []
        }

        def num(name: str, values: dict[Any, Any] = values) -> float | None:
            v = values.get(name)
            return float(v) if isinstance(v, int | float) else None

        waiting, oldest = num("CONTACTS_IN_QUEUE"), num("OLDEST_CONTACT_AGE")
        available, online, on_contact = (
            num("AGENTS_AVAILABLE"),
            num("AGENTS_ONLINE"),
            num("AGENTS_ON_CONTACT"),
        )
        out.append(
            Observation(
                queue_id=str(queue),
                observed_at=now,
                team=teams.get(str(queue)) or None,
                source="connect",
                waiting=None if waiting is None else int(waiting),
                longest_wait_seconds=oldest
                if oldest is not None
                else (0.0 if waiting == 0 else None),
                agents_available=None if available is None else int(available),
                agents_on_queue=None if online is None else int(online),
                agents_interacting=None if on_contact is None else int(on_contact),
            )
        )
    return out
