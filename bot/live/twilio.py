"""Twilio Flex live poller: TaskRouter TaskQueue real-time statistics.

`GET /v1/Workspaces/{ws}/TaskQueues/{wq}/RealTimeStatistics` per queue (HTTP basic
auth with the account SID and auth token): the longest waiting task's age, tasks by
status (pending and reserved are waiting, assigned ones are with an agent) and the
available and eligible workers. Plain HTTPS with httpx, so the twilio package is not
needed; queues are asked one after the other, well inside TaskRouter's request limits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from domain.live import Observation


class TwilioLive:
    """A LiveSource for Twilio Flex (TaskRouter)."""

    name = "twilio"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        workspace_sid: str,
        queues: Mapping[str, str],
        api_url: str = "https://taskrouter.twilio.com",
        poll_seconds: float = 15.0,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.auth = (account_sid, auth_token)
        self.workspace_sid = workspace_sid
        self.queues = dict(queues)
        self.api_url = api_url.rstrip("/")
        self.poll_seconds = max(poll_seconds, 5.0)
        self.clock = clock
        self.http = http or httpx.AsyncClient(timeout=10.0)

    async def observe(self) -> list[Observation]:
        now = self.clock()
        out = []
        for sid in sorted(self.queues):
            base = f"{self.api_url}/v1/Workspaces/{self.workspace_sid}"
            url = f"{base}/TaskQueues/{sid}/RealTimeStatistics"
            resp = await self.http.get(url, auth=self.auth)
            resp.raise_for_status()
            out.append(parse_statistics(resp.json(), queue=sid, team=self.queues.get(sid), now=now))
        return out


def _int(v: Any) -> int:
    try:
        return int(v or 0)
    except (TypeError, ValueError):
        return 0


def parse_statistics(
    data: Mapping[str, Any], *, queue: str, team: str | None, now: dt.datetime
) -> Observation:
    by_status = data.get("tasks_by_status") or {}
    return Observation(
        queue_id=str(data.get("task_queue_sid") or queue),
        observed_at=now,
        team=team or None,
        source="twilio",
        waiting=_int(by_status.get("pending")) + _int(by_status.get("reserved")),
        agents_interacting=_int(by_status.get("assigned")) + _int(by_status.get("wrapping")),
        longest_wait_seconds=float(_int(data.get("longest_task_waiting_age"))),
        agents_available=_int(data.get("total_available_workers")),
        agents_on_queue=_int(data.get("total_eligible_workers")),
    )
