"""A loopback fake of Slack's chat.postMessage and chat.update that ENFORCES the limits:
postMessage 1 per second per channel, chat.update 50 in any 60 seconds (Tier 3). A call
over a limit is answered 429 and counted as a violation. Time comes from `clock`, so a
test (or the benchmark) can run it on simulated time."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class LimitedSlack:
    clock: Callable[[], float] = time.monotonic
    update_window: float = 60.0  # a test may scale time down (with the limits it sets)
    posts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    violations: int = 0
    post_violations: int = 0
    update_violations: int = 0
    server: TestServer | None = None
    _post_times: dict[str, deque[float]] = field(default_factory=dict)
    _update_times: deque[float] = field(default_factory=deque)

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/api/"))

    async def start(self) -> LimitedSlack:
        app = web.Application()
        app.router.add_post("/api/chat.postMessage", self._post)
        app.router.add_post("/api/chat.update", self._update)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        return self

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    @staticmethod
    async def _body(request: web.Request) -> dict[str, Any]:
        data: dict[str, Any] = await request.json()
        return data

    def _over(self, times: deque[float], limit: int, window: float) -> bool:
        now = self.clock()
        while times and times[0] <= now - window:
            times.popleft()
        if len(times) >= limit:
            self.violations += 1
            return True
        times.append(now)
        return False

    def _limited(self) -> web.Response:
        return web.json_response(
            {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "1"}
        )

    async def _post(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        channel = str(body.get("channel"))
        if self._over(self._post_times.setdefault(channel, deque()), 1, 1.0):
            self.post_violations += 1
            return self._limited()
        body["_arrived"] = self.clock()  # when it was accepted (the benchmark's latency)
        self.posts.append(body)
        return web.json_response(
            {"ok": True, "channel": channel, "ts": f"1700000000.{len(self.posts):06d}"}
        )

    async def _update(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if self._over(self._update_times, 50, self.update_window):
            self.update_violations += 1
            return self._limited()
        if not str(body.get("ts", "")).startswith("1700000000."):
            return web.json_response({"ok": False, "error": "message_not_found"})
        self.updates.append((self.clock(), body))
        return web.json_response({"ok": True, "channel": body.get("channel"), "ts": body.get("ts")})
