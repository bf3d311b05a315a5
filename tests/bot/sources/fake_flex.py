"""A loopback Twilio TaskRouter, from its published API reference: Basic auth with the
account SID and auth token, the workspace, its TaskQueues and Workers lists (Twilio's
paged `meta.next_page_url`/`meta.key` shape) and a task queue's CumulativeStatistics
(StartDate, EndDate, SplitByWaitTime), 429 with Retry-After. The SDK reaches it through
the base-URL override, so the paths and query strings are the real ones."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from aiohttp import web

from tests.bot.sources.loopback import Fake

ACCOUNT = "AC" + "a" * 32
TOKEN = "flex-token"
WORKSPACE = "WS" + "b" * 32
PUBLIC = "https://taskrouter.twilio.com"


class FakeFlex(Fake):
    def __init__(self, page_size: int = 2) -> None:
        super().__init__()
        self.page_size = page_size
        self.queues: list[dict[str, Any]] = []
        self.workers: list[dict[str, Any]] = []
        self.stats: dict[tuple[str, dt.datetime], dict[str, Any]] = {}

    def routes(self, app: web.Application) -> None:
        ws = "/v1/Workspaces/{ws}"
        app.router.add_get(ws, self.workspace)
        app.router.add_get(ws + "/TaskQueues", self.list_queues)
        app.router.add_get(ws + "/Workers", self.list_workers)
        app.router.add_get(ws + "/TaskQueues/{tq}/CumulativeStatistics", self.cumulative)

    def _authorized(self, request: web.Request) -> web.Response | None:
        good = base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {good}":
            return web.json_response(
                {"code": 20003, "message": "Authenticate", "status": 401}, status=401
            )
        if request.match_info["ws"] != WORKSPACE:
            return web.json_response(
                {"code": 20404, "message": "The requested resource was not found", "status": 404},
                status=404,
            )
        return None

    async def workspace(self, request: web.Request) -> web.Response:
        return self._authorized(request) or web.json_response(
            {"sid": WORKSPACE, "account_sid": ACCOUNT, "friendly_name": "Flex Task Assignment"}
        )

    def _page(self, request: web.Request, items: list[dict[str, Any]], key: str) -> web.Response:
        size = min(int(request.query.get("PageSize", 50)), self.page_size)
        page = int(request.query.get("Page", 0))
        chunk = items[page * size : (page + 1) * size]
        more = (page + 1) * size < len(items)
        here = f"{PUBLIC}{request.path}?PageSize={size}&Page={page}"
        nxt = f"{PUBLIC}{request.path}?PageSize={size}&Page={page + 1}" if more else None
        meta = {
            "page": page,
            "page_size": size,
            "first_page_url": here,
            "url": here,
            "previous_page_url": None,
            "next_page_url": nxt,
            "key": key,
        }
        return web.json_response({key: chunk, "meta": meta})

    async def list_queues(self, request: web.Request) -> web.Response:
        return self._authorized(request) or self._page(request, self.queues, "task_queues")

    async def list_workers(self, request: web.Request) -> web.Response:
        return self._authorized(request) or self._page(request, self.workers, "workers")

    async def cumulative(self, request: web.Request) -> web.Response:
        refused = self._authorized(request)
        if refused:
            return refused
        tq = request.match_info["tq"]
        start = dt.datetime.fromisoformat(request.query["StartDate"].replace("Z", "+00:00"))
        end = dt.datetime.fromisoformat(request.query["EndDate"].replace("Z", "+00:00"))
        split = request.query.get("SplitByWaitTime", "")
        s = self.stats.get((tq, start), {})
        body = {
            "account_sid": ACCOUNT,
            "workspace_sid": WORKSPACE,
            "task_queue_sid": tq,
            "start_time": request.query["StartDate"],
            "end_time": request.query["EndDate"],
            "tasks_entered": s.get("entered", 0),
            "tasks_canceled": s.get("canceled", 0),
            "tasks_completed": s.get("accepted", 0),
            "tasks_deleted": 0,
            "tasks_moved": 0,
            "reservations_created": s.get("accepted", 0),
            "reservations_accepted": s.get("accepted", 0),
            "reservations_rejected": 0,
            "reservations_timed_out": 0,
            "reservations_canceled": 0,
            "reservations_rescinded": 0,
            "avg_task_acceptance_time": s.get("avg_accept", 0),
            "wait_duration_until_accepted": {
                "avg": s.get("avg_accept", 0),
                "min": 0,
                "max": 0,
                "total": 0,
            },
            "split_by_wait_time": {
                split: {
                    "below": {"reservations_accepted": s.get("below", 0), "tasks_canceled": 0},
                    "above": {
                        "reservations_accepted": s.get("accepted", 0) - s.get("below", 0),
                        "tasks_canceled": s.get("canceled", 0),
                    },
                }
            }
            if split
            else None,
            "url": f"{PUBLIC}{request.path}",
        }
        del end
        return web.json_response(body)
