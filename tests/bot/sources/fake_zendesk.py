"""A loopback Zendesk, from its published API reference: API-token Basic auth
(`EMAIL/token:TOKEN`), `users/me`, the agents list and the satisfaction ratings list
with `score`, `start_time`/`end_time` (Unix seconds) and cursor paging (`page[size]`,
`meta.has_more`, `links.next`), 429 with Retry-After."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from aiohttp import web

from tests.bot.sources.loopback import Fake

EMAIL = "admin@acme.test"
TOKEN = "zd-token"


class FakeZendesk(Fake):
    def __init__(self) -> None:
        super().__init__()
        self.users: list[dict[str, Any]] = []
        self.ratings: list[dict[str, Any]] = []

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/api/v2/users/me.json", self.me)
        app.router.add_get("/api/v2/users.json", self.list_users)
        app.router.add_get("/api/v2/satisfaction_ratings.json", self.list_ratings)

    def _authorized(self, request: web.Request) -> web.Response | None:
        good = base64.b64encode(f"{EMAIL}/token:{TOKEN}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {good}":
            return web.json_response({"error": "Couldn't authenticate you"}, status=401)
        return None

    def _cursor(self, request: web.Request, items: list[dict[str, Any]], key: str) -> web.Response:
        size = int(request.query.get("page[size]", 100))
        after = int(request.query.get("page[after]", 0))
        page = items[after : after + size]
        more = after + size < len(items)
        query = {k: v for k, v in request.query.items() if k != "page[after]"}
        nxt = None
        if more:
            q = "&".join(f"{k}={v}" for k, v in query.items())
            nxt = f"{self.url}{request.path}?{q}&page[after]={after + size}"
        return web.json_response(
            {
                key: page,
                "meta": {"has_more": more, "after_cursor": str(after + size)},
                "links": {"next": nxt},
            }
        )

    async def me(self, request: web.Request) -> web.Response:
        return self._authorized(request) or web.json_response(
            {"user": {"id": 1, "email": EMAIL, "role": "admin"}}
        )

    async def list_users(self, request: web.Request) -> web.Response:
        refused = self._authorized(request)
        if refused:
            return refused
        roles = set(request.query.getall("role[]", []))
        found = [u for u in self.users if u.get("role") in roles]
        return self._cursor(request, found, "users")

    async def list_ratings(self, request: web.Request) -> web.Response:
        refused = self._authorized(request)
        if refused:
            return refused
        score = request.query.get("score")
        lo = int(request.query.get("start_time", 0))
        hi = int(request.query.get("end_time", 2**40))
        found = []
        for r in self.ratings:
            created = dt.datetime.fromisoformat(r["created_at"].replace("Z", "+00:00"))
            if not lo <= created.timestamp() <= hi:
                continue
            if score == "received" and r["score"] not in ("good", "bad"):
                continue
            found.append(r)
        return self._cursor(request, found, "satisfaction_ratings")
