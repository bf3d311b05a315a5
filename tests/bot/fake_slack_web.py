"""A loopback fake of Slack's Web API (chat.postMessage) for delivery tests.

It can answer with a script of failures (429 + Retry-After, 500s), and can hold requests
(to kill a client mid-request, then refuse what it held: it was never accepted).
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class Scripted:
    status: int
    body: dict[str, Any] | str
    headers: dict[str, str] = field(default_factory=dict)


def rate_limited(seconds: int = 1) -> Scripted:
    return Scripted(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(seconds)})


def server_error() -> Scripted:
    return Scripted(500, "Internal Server Error")


class FakeSlackWeb:
    def __init__(self) -> None:
        self.delivered: list[dict[str, Any]] = []
        self.requests = 0
        self.script: deque[Scripted] = deque()
        self.errors: dict[str, str] = {}  # channel -> Slack error
        self.hold_after: int | None = None  # hold requests once this many were delivered
        self.release = asyncio.Event()
        self.held = 0
        self.dropped = 0
        self.drop_held = False  # on release, refuse the held requests instead of accepting
        self.server: TestServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/api/"))

    def channels(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for m in self.delivered:
            out.setdefault(m["channel"], []).append(m["text"])
        return out

    async def _body(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            data: dict[str, Any] = await request.json()
            return data
        form = await request.post()
        return {
            k: (json.loads(str(v)) if k in ("blocks", "metadata") else v) for k, v in form.items()
        }

    async def post_message(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        body = await self._body(request)
        if request.headers.get("Authorization", "") != "Bearer xoxb-test":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if self.hold_after is not None and len(self.delivered) >= self.hold_after:
            self.held += 1
            try:
                await self.release.wait()
            except asyncio.CancelledError:
                self.dropped += 1  # the server saw the client go away
                raise
            if self.drop_held:
                self.dropped += 1  # the client died while held: Slack never accepted it
                return web.Response(status=503)
        if self.script:
            s = self.script.popleft()
            if isinstance(s.body, str):
                return web.Response(status=s.status, text=s.body, headers=s.headers)
            return web.json_response(s.body, status=s.status, headers=s.headers)
        channel = str(body.get("channel", ""))
        if channel in self.errors:
            return web.json_response({"ok": False, "error": self.errors[channel]})
        self.delivered.append(body)
        ts = f"1700000000.{len(self.delivered):06d}"
        return web.json_response({"ok": True, "channel": channel, "ts": ts})

    async def start(self) -> FakeSlackWeb:
        app = web.Application()
        app.router.add_post("/api/chat.postMessage", self.post_message)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        return self

    async def close(self) -> None:
        self.release.set()
        if self.server is not None:
            await self.server.close()
