"""Zendesk: satisfaction ratings as CSAT per agent (good / rated), agents mapped by email.

No SDK: the API is plain JSON over HTTPS and httpx is already a dependency (zenpy, the
common client, is synchronous). Authentication is an API token (`EMAIL/token:TOKEN`,
HTTP Basic), the ratings list needs an admin.

- `GET /api/v2/satisfaction_ratings.json?score=received&start_time=&end_time=`
  (Unix seconds, by the rating's creation), cursor-paged (`page[size]=100`,
  `meta.has_more`, `links.next`): each `good` or `bad` rating counts for its
  `assignee_id` in the interval it was created in. Customers answer days after the
  ticket, so each pull reads ZENDESK_REPULL_HOURS back (72 by default).
- `GET /api/v2/users.json?role[]=agent&role[]=admin`, cursor-paged: the agents and their
  emails.
- 429 answers carry Retry-After, which is honoured; the default pace (3 requests a
  second) stays inside the smallest plan's 200 a minute.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from collections import defaultdict
from collections.abc import AsyncIterator, Collection, Mapping
from typing import Any

import httpx

from bot.sources.common import JsonClient, Policy, Sleep, parse_time
from domain.sources import (
    CheckReport,
    IntervalRow,
    SourceError,
    Subject,
    SubjectKind,
    Window,
    floor_to,
)

PAGE = 100


class ZendeskSource:
    """Zendesk as a KpiSource (module doc)."""

    name = "zendesk"
    title = "Zendesk"

    def __init__(
        self,
        *,
        api_url: str,
        email: str,
        token: str,
        interval_minutes: int = 15,
        repull: dt.timedelta = dt.timedelta(hours=72),
        client: httpx.AsyncClient | None = None,
        sleep: Sleep = asyncio.sleep,
        policy: Policy | None = None,
    ) -> None:
        self.interval_minutes = interval_minutes
        self.repull = repull
        self.max_window = dt.timedelta(days=7)
        basic = base64.b64encode(f"{email}/token:{token}".encode()).decode()
        self._headers = {"Authorization": f"Basic {basic}"}
        self.api = JsonClient(
            title=self.title,
            base_url=api_url,
            auth=self._auth,
            client=client,
            sleep=sleep,
            policy=policy or Policy(rate_per_second=3.0),
            hints={
                "region": "Check ZENDESK_SUBDOMAIN (acme for acme.zendesk.com) or ZENDESK_API_URL.",
                "credentials": "check ZENDESK_EMAIL and ZENDESK_API_TOKEN (and that token "
                "access is on in Admin Center > Apps and integrations > Zendesk API)",
                "permission": "the token's user must be a Zendesk admin, and customer "
                "satisfaction must be on",
            },
        )

    async def _auth(self, renew: bool) -> Mapping[str, str]:
        return self._headers  # an API token does not expire; a 401 is final

    async def aclose(self) -> None:
        await self.api.aclose()

    async def check(self) -> CheckReport:
        facts: list[str] = []
        try:
            me = (await self.api.call("GET", "/api/v2/users/me.json")).get("user") or {}
            facts.append(f"signed in as {me.get('email', '?')} (role {me.get('role', '?')})")
            body = await self.api.call(
                "GET",
                "/api/v2/satisfaction_ratings.json",
                params={"score": "received", "page[size]": 1},
            )
            found = "some" if body.get("satisfaction_ratings") else "no"
            facts.append(f"satisfaction ratings readable ({found} received ratings yet)")
            agents = await self.subjects(())
            facts.append(f"{len(agents)} agents and admins")
        except SourceError as exc:
            return CheckReport(ok=False, facts=facts, problem=exc.message)
        return CheckReport(ok=True, facts=facts)

    async def _cursor(
        self, path: str, params: Mapping[str, Any], key: str
    ) -> AsyncIterator[dict[str, Any]]:
        url: str | None = path
        query: Mapping[str, Any] | None = {**params, "page[size]": PAGE}
        while url:
            body = await self.api.call("GET", url, params=query)
            for item in body.get(key) or []:
                yield item
            meta = body.get("meta") or {}
            url = (body.get("links") or {}).get("next") if meta.get("has_more") else None
            query = None  # the next link carries the cursor and the filters

    async def subjects(self, known: Collection[str]) -> list[Subject]:
        params = {"role[]": ["agent", "admin"]}
        return [
            Subject(
                SubjectKind.agent, str(u["id"]), str(u.get("name", "")), str(u.get("email", ""))
            )
            async for u in self._cursor("/api/v2/users.json", params, "users")
        ]

    async def pull(self, window: Window) -> AsyncIterator[IntervalRow]:
        params = {
            "score": "received",
            "start_time": int(window.start.timestamp()),
            "end_time": int(window.end.timestamp()) - 1,  # inclusive; the window is not
        }
        counts: dict[tuple[str, dt.datetime], list[int]] = defaultdict(lambda: [0, 0])
        async for r in self._cursor(
            "/api/v2/satisfaction_ratings.json", params, "satisfaction_ratings"
        ):
            score = str(r.get("score", ""))
            if score not in ("good", "bad") or r.get("assignee_id") is None:
                continue
            created = parse_time(str(r["created_at"]))
            if not window.start <= created < window.end:
                continue
            acc = counts[(str(r["assignee_id"]), floor_to(created, self.interval_minutes))]
            acc[0] += score == "good"
            acc[1] += 1
        for (agent, start), (good, rated) in sorted(counts.items()):
            yield IntervalRow(
                start, self.interval_minutes, SubjectKind.agent, agent, "csat", good, rated, rated
            )
