"""Test helpers for Teams: activities as Teams sends them, and a loopback fake of the
Bot Connector service (the REST API a bot posts its messages to)."""

from __future__ import annotations

import itertools
import json
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
BOT_ID = "28:6f1c2d3e-1111-2222-3333-444455556666"
BOT_NAME = "leadbot"
CHANNEL_ID = "19:abc123@thread.tacv2"
TEAM_ID = "19:team42@thread.tacv2"


def aad(n: int) -> str:
    """An Entra object id for test user n."""
    return f"00000000-0000-0000-0000-{n:012d}"


def user_id(n: int) -> str:
    return f"29:user-{n}"


def message(
    text: str,
    *,
    user: int = 1,
    name: str = "Test User",
    service_url: str = "https://smba.example.test/teams/",
    conversation: str | None = None,
    conversation_type: str = "personal",
    mentions: Sequence[tuple[int | None, str]] = (),
    activity_id: str | None = None,
    value: dict[str, Any] | None = None,
    team_name: str = "Billing",
    channel_name: str = "General",
    aad_ids: bool = True,
) -> dict[str, Any]:
    """A message activity; `mentions` are (user n or None for the bot, display name)."""
    conv_id = conversation or (
        f"a:personal-{user}"
        if conversation_type == "personal"
        else f"{CHANNEL_ID};messageid=1700000000{user}"
    )
    entities = []
    for who, shown in mentions:
        mentioned: dict[str, Any] = (
            {"id": BOT_ID, "name": shown} if who is None else {"id": user_id(who), "name": shown}
        )
        if who is not None and aad_ids:
            mentioned["aadObjectId"] = aad(who)
        entities.append({"type": "mention", "mentioned": mentioned, "text": f"<at>{shown}</at>"})
    activity: dict[str, Any] = {
        "type": "message",
        "id": activity_id or f"17000000{next(_ids)}",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": {"id": user_id(user), "name": name, "aadObjectId": aad(user)},
        "recipient": {"id": BOT_ID, "name": BOT_NAME},
        "conversation": {
            "id": conv_id,
            "conversationType": conversation_type,
            "tenantId": TENANT,
            "isGroup": conversation_type != "personal",
        },
        "text": text,
        "textFormat": "plain",
        "entities": entities,
        "channelData": {"tenant": {"id": TENANT}},
        "locale": "en-GB",
    }
    if conversation_type == "channel":
        activity["channelData"].update(
            {
                "team": {"id": TEAM_ID, "name": team_name},
                "channel": {"id": CHANNEL_ID, "name": channel_name},
            }
        )
    if value is not None:
        activity["value"] = value
        activity["text"] = ""
    return activity


def invoke(
    data: dict[str, Any], *, user: int = 1, verb: str | None = None, **kw: Any
) -> dict[str, Any]:
    """An `adaptiveCard/action` invoke (what Action.Execute sends)."""
    activity = message("", user=user, **kw)
    activity["type"] = "invoke"
    activity["name"] = "adaptiveCard/action"
    activity["value"] = {
        "action": {"type": "Action.Execute", "verb": verb or data.get("leadbot"), "data": data},
        "trigger": "manual",
    }
    activity.pop("text", None)
    return activity


_ids = itertools.count(1)


@dataclass
class FakeConnector:
    """A loopback Bot Connector: records what the bot posts; can answer 429 first.

    With `tls` (a server context) it serves https and its URL names `localhost` (what
    TEAMS_ALLOWED_SERVICE_HOSTS must then allow); otherwise plain http on 127.0.0.1.
    """

    posted: list[dict[str, Any]] = field(default_factory=list)  # (conversation id, activity)
    created: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    throttle_next: int = 0  # answer this many activity posts with 429
    retry_after: str = "2"
    members: dict[str, dict[str, Any]] = field(default_factory=dict)  # 29: id -> member
    member_page_size: int = 2  # the most members one pagedmembers page holds
    refuse_create: int | None = None  # status to answer POST /v3/conversations with
    unauthorized: bool = False  # answer every request 401 (the bot is not registered)
    tls: ssl.SSLContext | None = None
    server: TestServer | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/teams/v3/conversations", self._create)
        app.router.add_post("/teams/v3/conversations/{conv}/activities", self._post)
        app.router.add_post("/teams/v3/conversations/{conv}/activities/{reply_to}", self._post)
        app.router.add_put("/teams/v3/conversations/{conv}/activities/{aid}", self._update)
        app.router.add_get("/teams/v3/conversations/{conv}/members/{member}", self._member)
        app.router.add_get("/teams/v3/conversations/{conv}/members", self._members)
        app.router.add_get("/teams/v3/conversations/{conv}/pagedmembers", self._paged_members)
        return app

    async def start(self) -> str:
        app = self.app()
        if self.unauthorized:
            app.middlewares.append(self._refuse)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server(ssl=self.tls)
        if self.tls is not None:
            return f"https://localhost:{self.server.port}/teams/"
        return str(self.server.make_url("/teams/"))

    @web.middleware
    async def _refuse(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self._log(request)
        return web.json_response(
            {"error": {"code": "BotNotRegistered", "message": "Unauthorized"}}, status=401
        )

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    def _log(self, request: web.Request) -> None:
        self.requests.append((request.method, request.path, request.headers.get("Authorization")))

    async def _create(self, request: web.Request) -> web.Response:
        self._log(request)
        if self.refuse_create is not None:
            return web.json_response({"error": {"code": "Forbidden"}}, status=self.refuse_create)
        body = await request.json()
        self.created.append(body)
        conv = f"a:created-{len(self.created)}"
        return web.json_response({"id": conv}, status=201)

    async def _post(self, request: web.Request) -> web.Response:
        self._log(request)
        if self.throttle_next > 0:
            self.throttle_next -= 1
            return web.json_response(
                {"error": {"code": "Throttled"}},
                status=429,
                headers={"Retry-After": self.retry_after},
            )
        body = await request.json()
        body["_conversation"] = request.match_info["conv"]
        self.posted.append(body)
        return web.json_response({"id": f"msg-{len(self.posted)}"}, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        self._log(request)
        body = await request.json()
        body["_conversation"] = request.match_info["conv"]
        body["_updated"] = request.match_info["aid"]
        self.posted.append(body)
        return web.json_response({"id": request.match_info["aid"]})

    async def _member(self, request: web.Request) -> web.Response:
        self._log(request)
        member = self.members.get(request.match_info["member"])
        if member is None:
            return web.json_response({"error": {"code": "NotFound"}}, status=404)
        return web.json_response(member)

    async def _members(self, request: web.Request) -> web.Response:
        self._log(request)
        return web.json_response(list(self.members.values()))

    async def _paged_members(self, request: web.Request) -> web.Response:
        """Members a page at a time; the continuation token is opaque to the caller."""
        self._log(request)
        asked = int(request.query.get("pageSize", "50"))
        token = request.query.get("continuationToken", "")
        start = int(token.removeprefix("page-after-")) if token else 0
        everyone = list(self.members.values())
        size = max(1, min(asked, self.member_page_size))
        body: dict[str, Any] = {"members": everyone[start : start + size]}
        if start + size < len(everyone):
            body["continuationToken"] = f"page-after-{start + size}"
        return web.json_response(body)

    def cards(self) -> list[dict[str, Any]]:
        """The Adaptive Cards posted, in order."""
        out = []
        for body in self.posted:
            for att in body.get("attachments") or []:
                out.append(att["content"])
        return out


def card_text(card: dict[str, Any]) -> str:
    """All text of a card, for assertions."""
    return json.dumps(card, ensure_ascii=False)
