"""A loopback aiohttp server for the platform fakes, and what every fake shares: a script
of failures to answer instead of the next matching requests, and a request log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Failure:
    """Answer the next request whose path contains `path` with this, `times` times."""

    path: str
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1
    after: int = 0  # let this many matching requests through first


class Fake:
    """Base of the fakes: the failure script and the log of requests (method, path)."""

    def __init__(self) -> None:
        self.failures: list[Failure] = []
        self.log: list[tuple[str, str]] = []
        self.url = ""

    def fail(
        self,
        path: str,
        status: int,
        body: Any = None,
        times: int = 1,
        after: int = 0,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.failures.append(Failure(path, status, body, dict(headers or {}), times, after))

    @web.middleware
    async def middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.log.append((request.method, request.path))
        for f in self.failures:
            if f.path in request.path and f.times > 0:
                if f.after > 0:
                    f.after -= 1
                    continue
                f.times -= 1
                return web.json_response(f.body or {}, status=f.status, headers=f.headers)
        result: web.StreamResponse = await handler(request)
        return result

    def calls(self, part: str) -> int:
        return sum(1 for _, p in self.log if part in p)

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError


@asynccontextmanager
async def serve(fake: Fake) -> AsyncIterator[str]:
    """Run `fake` on 127.0.0.1 (a free port); yields its base URL."""
    app = web.Application(middlewares=[fake.middleware])
    fake.routes(app)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    fake.url = f"http://127.0.0.1:{port}"
    try:
        yield fake.url
    finally:
        await runner.cleanup()


class Sleeps:
    """A sleep that records what it was asked and returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
