"""A loopback fake of the few Slack Web API methods leadbot uses, plus response_urls.

It records every call, can answer the next N calls of a method with HTTP 429
(Retry-After: `retry_after`), and lets a test wait for a call to arrive (no sleeping).
Users (id -> email) answer users.info, users.lookupByEmail (users_not_found for an
unknown email; `deleted` and `bots` flag users) and users.list (cursor paging, `limit`
per page). chat.postMessage answers `channel_errors[channel]` (not_in_channel, ...)
while one is set.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from aiohttp.test_utils import TestServer
from slack_sdk.signature import SignatureVerifier


@dataclass
class Call:
    method: str  # "users.info", "chat.postMessage", ... or "response_url"
    data: dict[str, Any]
    path: str = ""
    status: int = 200
    at: float = 0.0  # FakeSlack.clock() when it arrived


@dataclass
class FakeSlack:
    users: dict[str, str] = field(default_factory=dict)  # slack user id -> email
    calls: list[Call] = field(default_factory=list)
    rate_limit_next: dict[str, int] = field(default_factory=dict)
    retry_after: str = "0"
    deleted: set[str] = field(default_factory=set)  # deactivated user ids
    bots: set[str] = field(default_factory=set)  # bot user ids
    channel_errors: dict[str, str] = field(default_factory=dict)  # channel -> chat error
    channel_names: dict[str, str] = field(default_factory=dict)  # conversations.info
    expired: set[str] = field(default_factory=set)  # response_url names answering 404
    clock: Callable[[], float] = time.monotonic
    server: TestServer | None = None
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    # files.getUploadURLExternal -> POST /upload/{file_id} -> files.completeUploadExternal
    uploads: dict[str, bytes] = field(default_factory=dict)  # file id -> the bytes POSTed
    upload_lengths: dict[str, int] = field(default_factory=dict)  # file id -> length asked
    shared: list[dict[str, Any]] = field(default_factory=list)  # files shown in a channel
    refuse: dict[str, str] = field(default_factory=dict)  # method -> error it answers
    bot_dms: dict[str, str] = field(default_factory=dict)  # user id -> the bot's DM channel
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    # --- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/respond/{token}", self._respond)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/socket", self._socket)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    @property
    def base(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    @property
    def host(self) -> str:
        """`127.0.0.1:PORT`: what SLACK_RESPONSE_URL_HOSTS must allow for this fake."""
        return self.base.split("://", 1)[1]

    @property
    def api_url(self) -> str:
        return self.base + "/api/"

    def response_url(self, name: str = "r1") -> str:
        return f"{self.base}/respond/{name}"

    # --- queries ----------------------------------------------------------------------

    def of(self, method: str, *, ok_only: bool = True) -> list[Call]:
        return [c for c in self.calls if c.method == method and (c.status == 200 or not ok_only)]

    async def wait_for(self, pred: Callable[[], bool], within: float = 5.0) -> None:
        """Wait until `pred()` holds (re-checked whenever a call arrives)."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(pred)

    async def wait_calls(self, method: str, n: int = 1, within: float = 5.0) -> list[Call]:
        await self.wait_for(lambda: len(self.of(method)) >= n, within)
        return self.of(method)

    # --- handlers ---------------------------------------------------------------------

    async def _record(self, call: Call) -> None:
        call.at = self.clock()
        self.calls.append(call)
        async with self._changed:
            self._changed.notify_all()

    def _limited(self, method: str) -> bool:
        left = self.rate_limit_next.get(method, 0)
        if left > 0:
            self.rate_limit_next[method] = left - 1
            return True
        return False

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        raw = await request.text()
        data: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            data.update(json.loads(raw or "{}"))
        else:
            data.update(parse_qsl(raw))
        if self._limited(method):
            await self._record(Call(method, data, status=429))
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": self.retry_after},
            )
        if method in self.refuse:
            await self._record(Call(method, data))
            return web.json_response({"ok": False, "error": self.refuse[method]})
        await self._record(Call(method, data))
        if method.startswith("files.") or method == "conversations.open":
            return self._files(method, data)
        if method == "auth.test":
            return web.json_response(
                {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1", "team": "Acme"}
            )
        if method == "apps.connections.open":
            ws_url = self.base.replace("http://", "ws://") + "/socket"
            return web.json_response({"ok": True, "url": ws_url})
        answer = self._directory(method, data)
        if answer is not None:
            return answer
        if method == "chat.postMessage":
            channel = str(data.get("channel", ""))
            if channel in self.channel_errors:
                return web.json_response({"ok": False, "error": self.channel_errors[channel]})
            return web.json_response(
                {"ok": True, "channel": data.get("channel"), "ts": f"{time.time():.6f}"}
            )
        return web.json_response({"ok": True})

    def _directory(self, method: str, data: dict[str, Any]) -> web.Response | None:
        """users.info, users.lookupByEmail, users.list, conversations.info."""
        if method == "users.info":
            uid = str(data.get("user", ""))
            if uid not in self.users:
                return web.json_response({"ok": False, "error": "user_not_found"})
            return web.json_response(
                {"ok": True, "user": {"id": uid, "profile": {"email": self.users[uid]}}}
            )
        if method == "users.lookupByEmail":
            email = str(data.get("email", "")).lower()
            found = next((u for u, e in self.users.items() if e.lower() == email), None)
            if found is None:
                return web.json_response({"ok": False, "error": "users_not_found"})
            return web.json_response({"ok": True, "user": self._user(found)})
        if method == "conversations.info":
            channel = str(data.get("channel", ""))
            name = self.channel_names.get(channel)
            if name is None:
                return web.json_response({"ok": False, "error": "channel_not_found"})
            return web.json_response({"ok": True, "channel": {"id": channel, "name": name}})
        if method == "users.list":
            limit = int(data.get("limit", 0) or 0) or 1000
            start = int(data.get("cursor", "") or 0)
            ids = list(self.users)
            page = ids[start : start + limit]
            more = start + limit < len(ids)
            return web.json_response(
                {
                    "ok": True,
                    "members": [self._user(u) for u in page],
                    "response_metadata": {"next_cursor": str(start + limit) if more else ""},
                }
            )
        return None

    def _user(self, uid: str) -> dict[str, Any]:
        return {
            "id": uid,
            "deleted": uid in self.deleted,
            "is_bot": uid in self.bots,
            "profile": {"email": self.users[uid]},
        }

    def _files(self, method: str, data: dict[str, Any]) -> web.Response:
        """Slack's external upload, from its published API shapes: an upload URL (here,
        on this server) for a file id, then completion shares it into a channel."""
        if method == "conversations.open":
            user = str(data.get("users", ""))
            channel = self.bot_dms.setdefault(user, f"D{user}")
            return web.json_response({"ok": True, "channel": {"id": channel}})
        if method == "files.getUploadURLExternal":
            if not data.get("filename") or not str(data.get("length", "")).isdigit():
                return web.json_response({"ok": False, "error": "invalid_arguments"})
            file_id = f"F{len(self.upload_lengths) + 1:08d}"
            self.upload_lengths[file_id] = int(data["length"])
            url = f"{self.base}/upload/{file_id}"
            return web.json_response({"ok": True, "upload_url": url, "file_id": file_id})
        if method == "files.completeUploadExternal":
            files = json.loads(data.get("files", "[]"))
            for f in files:
                fid = f.get("id", "")
                got = self.uploads.get(fid)
                if got is None or len(got) != self.upload_lengths.get(fid):
                    return web.json_response({"ok": False, "error": "file_not_found"})
            entries = [{**f, "channel": data.get("channel_id")} for f in files]
            if data.get("channel_id"):
                for f in entries:
                    self.shared.append({**f, "initial_comment": data.get("initial_comment")})
            return web.json_response({"ok": True, "files": entries})
        return web.json_response({"ok": False, "error": "unknown_method"})

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        body = await request.read()
        if file_id not in self.upload_lengths:
            return web.Response(status=404, text="no such upload")
        self.uploads[file_id] = body
        await self._record(Call("upload", {"file_id": file_id, "bytes": len(body)}, request.path))
        return web.Response(text=f"OK - {len(body)}")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode: say hello, then record every acknowledgement the app sends."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "connection_info": {"app_id": "A1"},
                "debug_info": {"host": "fake", "approximate_connection_time": 18060},
            }
        )
        await self._record(Call("socket.connected", {}))
        async for msg in ws:
            if msg.type == web.WSMsgType.TEXT:
                await self._record(Call("socket.ack", json.loads(msg.data)))
        return ws

    async def socket_send(self, envelope: dict[str, Any]) -> None:
        """Deliver an envelope to the connected app (as Slack would)."""
        await self.wait_calls("socket.connected")
        await self.sockets[-1].send_json(envelope)

    async def _respond(self, request: web.Request) -> web.Response:
        data = await request.json()
        if self._limited("response_url"):
            await self._record(Call("response_url", data, request.path, status=429))
            return web.Response(status=429, text="rate limited", headers={"Retry-After": "0"})
        if request.match_info["token"] in self.expired:
            # Slack's answer to a response_url past its 30 minutes (or its 5 uses).
            await self._record(Call("response_url", data, request.path, status=404))
            return web.Response(status=404, text="expired_url")
        await self._record(Call("response_url", data, request.path))
        return web.Response(text="ok")


def signed_headers(
    secret: str, body: str, *, timestamp: int | None = None, content_type: str = ""
) -> dict[str, str]:
    """Headers Slack would send with `body`, signed with the app's signing secret."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    sig = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    assert sig is not None
    headers = {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}
    if content_type:
        headers["Content-Type"] = content_type
    return headers
