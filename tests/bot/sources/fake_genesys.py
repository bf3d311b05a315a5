"""A loopback Genesys Cloud, from its published API reference (developer.genesys.cloud and
the shapes of the Platform SDK's models): OAuth client credentials, the users and queues
listings (pageNumber/pageSize/pageCount), and the conversation and survey aggregate
queries (interval, granularity, groupBy, metrics; results -> group, data[] -> interval,
metrics[] -> metric, stats). Times are milliseconds, as Genesys reports them.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections import defaultdict
from typing import Any

from aiohttp import web

from tests.bot.sources.loopback import Fake

CLIENT_ID = "client-1"
CLIENT_SECRET = "secret-1"


def _t(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


class FakeGenesys(Fake):
    def __init__(self) -> None:
        super().__init__()
        self.users: list[dict[str, Any]] = []
        self.queues: list[dict[str, Any]] = []
        # (kind "conversations"|"surveys", dimension, id) -> interval start -> metric -> stats
        self.data: dict[tuple[str, str, str], dict[dt.datetime, dict[str, dict[str, float]]]] = (
            defaultdict(dict)
        )
        self.tokens: list[str] = []
        self.revoked: set[str] = set()
        self.queries: list[dict[str, Any]] = []

    def stat(
        self, kind: str, dim: str, who: str, start: dt.datetime, metric: str, **stats: float
    ) -> None:
        self.data[(kind, dim, who)].setdefault(start, {})[metric] = dict(stats)

    def expire_tokens(self) -> None:
        """Every token issued so far answers 401 from now on (an expired token)."""
        self.revoked.update(self.tokens)

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/oauth/token", self.token)
        app.router.add_get("/api/v2/users", self.list_users)
        app.router.add_get("/api/v2/routing/queues", self.list_queues)
        app.router.add_post("/api/v2/analytics/{kind}/aggregates/query", self.aggregates)

    async def token(self, request: web.Request) -> web.Response:
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        form = await request.post()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return web.json_response(
                {"error": "invalid_client", "description": "client not found"}, status=400
            )
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        token = f"token-{len(self.tokens) + 1}"
        self.tokens.append(token)
        return web.json_response(
            {"access_token": token, "token_type": "bearer", "expires_in": 86399}
        )

    def _authorized(self, request: web.Request) -> web.Response | None:
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ")
        if token not in self.tokens or token in self.revoked:
            return web.json_response(
                {"message": "Invalid login credentials.", "code": "bad.credentials", "status": 401},
                status=401,
            )
        return None

    def _page(self, request: web.Request, items: list[dict[str, Any]]) -> web.Response:
        size = int(request.query.get("pageSize", 25))
        number = int(request.query.get("pageNumber", 1))
        page = items[(number - 1) * size : number * size]
        count = max(1, -(-len(items) // size))
        return web.json_response(
            {
                "entities": page,
                "pageSize": size,
                "pageNumber": number,
                "total": len(items),
                "pageCount": count,
            }
        )

    async def list_users(self, request: web.Request) -> web.Response:
        return self._authorized(request) or self._page(request, self.users)

    async def list_queues(self, request: web.Request) -> web.Response:
        return self._authorized(request) or self._page(request, self.queues)

    async def aggregates(self, request: web.Request) -> web.Response:
        refused = self._authorized(request)
        if refused:
            return refused
        kind = request.match_info["kind"]
        body = await request.json()
        self.queries.append({"kind": kind, **body})
        start_text, end_text = body["interval"].split("/")
        start, end = _t(start_text), _t(end_text)
        minutes = int(body["granularity"].removeprefix("PT").removesuffix("M"))
        (dim,) = body["groupBy"]
        wanted = set(body["metrics"])
        results = []
        for (k, d, who), by_start in sorted(self.data.items()):
            if k != kind or d != dim:
                continue
            data = []
            for t, metrics in sorted(by_start.items()):
                if not start <= t < end:
                    continue
                shown = [
                    {"metric": m, "stats": s} for m, s in sorted(metrics.items()) if m in wanted
                ]
                if shown:
                    stop = t + dt.timedelta(minutes=minutes)
                    data.append({"interval": f"{_iso(t)}/{_iso(stop)}", "metrics": shown})
            if data:
                results.append({"group": {dim: who, "mediaType": "voice"}, "data": data})
        return web.json_response({"results": results} if results else {})


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
