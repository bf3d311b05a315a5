"""The aiohttp web server: Slack at /slack/events, Teams at /api/messages, the web
dashboard at /dashboard/, /healthz and /metrics; every request gets a request id
(X-Request-Id) carried into its log lines.

`build_web_app` makes the Application (tests run it on a loopback port); `run_server`
applies the migrations, serves until SIGTERM/SIGINT, then stops accepting, lets in-flight
requests and the work they started finish, and returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import re
import signal
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

from aiohttp import web

from bot import httpguard, metrics
from bot.bootstrap import App
from bot.live.push import install_live_push
from bot.logs import REQUEST_ID
from bot.slack import edge
from bot.teams.routes import install_teams
from bot.web import install_dashboard
from domain.settings import Settings
from storage import events
from storage.db import Database
from storage.migrate import upgrade

log = logging.getLogger(__name__)

DB_KEY = web.AppKey("leadbot.db", Database)
SETTINGS_KEY = web.AppKey("leadbot.settings", Settings)

# Other adapters add their routes here: each installer is called with (web app, App) by
# build_web_app. Microsoft Teams adds POST /api/messages this way, the web dashboard
# /dashboard/ (when DASHBOARD_BASE_URL is set), the live push endpoint POST /kpi/live
# (bot/live/push.py).
RouteInstaller = Callable[[web.Application, App], None]
ROUTE_INSTALLERS: list[RouteInstaller] = [install_teams, install_dashboard, install_live_push]

SHUTDOWN_GRACE_SECONDS = 25.0


async def healthz(request: web.Request) -> web.Response:
    """200 while the database answers, 503 otherwise (load balancers take us out)."""
    db = request.app[DB_KEY]
    if await db.ping():
        return web.json_response({"status": "ok"})
    return web.json_response({"status": "database unavailable"}, status=503)


def _install_slack(app: web.Application, leadbot: App) -> None:
    settings = leadbot.settings
    if not settings.slack_bot_token:
        log.info("Slack is off (SLACK_BOT_TOKEN is not set)")
        return
    # Imported only when Slack is on: slack-bolt takes about half a second to load.
    from bot.slack.app import SLACK_BOT_KEY, TaskTracker, build_bolt_app

    tracker = TaskTracker()
    bolt, slack_bot = build_bolt_app(leadbot, tracker=tracker)
    app[SLACK_BOT_KEY] = slack_bot

    async def work_finished(_app: web.Application) -> AsyncIterator[None]:
        yield
        left = await tracker.drain(SHUTDOWN_GRACE_SECONDS)
        if left:
            log.warning("%d slack task(s) still running at shutdown", left)

    if settings.slack_app_token is not None:
        from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

        handler = AsyncSocketModeHandler(bolt, settings.slack_app_token.get_secret_value())

        async def socket_mode(_app: web.Application) -> AsyncIterator[None]:
            await handler.connect_async()  # type: ignore[no-untyped-call]
            log.info("Slack connected over Socket Mode")
            yield
            await handler.close_async()  # type: ignore[no-untyped-call]

        app.cleanup_ctx.append(socket_mode)
        app.cleanup_ctx.append(work_finished)
        return

    if not settings.slack_signing_secret:
        log.error("SLACK_SIGNING_SECRET is not set: /slack/events is not served")
        return

    app.router.add_post("/slack/events", _slack_events(leadbot, bolt))
    app.cleanup_ctx.append(work_finished)


class _Bolt(Protocol):
    """What /slack/events needs of the bolt app (typed here: bolt loads only with Slack)."""

    async def async_dispatch(self, req: Any) -> Any: ...


def _slack_events(leadbot: App, bolt: _Bolt) -> Handler:
    """POST /slack/events: signature first, then shape, then replays, then bolt."""
    # Imported only when Slack is on: slack-bolt takes about half a second to load.
    from slack_bolt.adapter.aiohttp import to_aiohttp_response
    from slack_bolt.context.async_context import AsyncBoltContext
    from slack_bolt.request.async_internals import build_async_context
    from slack_bolt.request.async_request import AsyncBoltRequest

    secret = leadbot.settings.slack_signing_secret
    assert secret is not None
    signing_secret = secret.get_secret_value()
    db, clock = leadbot.db, leadbot.clock

    async def slack_events(request: web.Request) -> web.StreamResponse:
        # Reading the body enforces client_max_size (413) before anything is parsed; the
        # signature is checked on those raw bytes before anything is parsed either.
        raw = await request.read()
        if not edge.signature_ok(signing_secret, request.headers, raw, time.time()):
            log.warning("slack: refused a request with a missing, bad or stale signature")
            return web.json_response({"error": "invalid signature"}, status=401)
        try:
            text = raw.decode("utf-8")
            body = edge.parse_body(text, request.content_type)
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            log.warning("slack: refused a signed body that does not parse (%s)", type(exc).__name__)
            return web.json_response({"error": "malformed body"}, status=400)
        problem = edge.payload_problem(body)
        if problem:
            log.warning("slack: refused a signed payload: %s", problem)
            return web.json_response({"error": "malformed payload"}, status=400)
        signature = request.headers.get("X-Slack-Signature", "")
        if not await events.first_request(db, key=f"slack:{signature}", now=clock()):
            # The same signed request again (a replay inside Slack's window): it acted once.
            log.warning("slack: a replayed request was answered without acting again")
            return web.Response(status=200, text="")
        bolt_request = AsyncBoltRequest(
            body=text, query=request.query_string, headers=dict(request.headers)
        )
        if bolt_request.body != body:  # bolt misread it (see edge.parse_body): use ours
            bolt_request.body = body
            bolt_request.context = build_async_context(AsyncBoltContext({}), body)
        bolt_response = await bolt.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    return slack_events


_REQUEST_ID_OK = re.compile(r"[A-Za-z0-9._:-]{1,64}")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def request_id_of(request: web.Request) -> str:
    """The caller's X-Request-Id when it is a sane token, else a new one."""
    given = request.headers.get("X-Request-Id", "")
    return given if _REQUEST_ID_OK.fullmatch(given) else uuid.uuid4().hex[:16]


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A request id for the log lines of this request (and the work it starts), metrics,
    and bodies over the limit refused from their Content-Length before anything is read."""
    started = time.perf_counter()
    rid = request_id_of(request)
    token = REQUEST_ID.set(rid)
    status = 500
    try:
        try:
            limit = request.app[SETTINGS_KEY].max_body_bytes
            size = request.content_length
            if size is not None and size > limit:
                log.warning("refused a %d-byte body to %s (limit %d)", size, request.path, limit)
                raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=size)
            response = await handler(request)
        except web.HTTPException as exc:
            status = exc.status
            exc.headers["X-Request-Id"] = rid
            raise
        status = response.status
        if not response.prepared:
            response.headers["X-Request-Id"] = rid
        return response
    finally:
        metrics.observe_http(request, status, started)
        REQUEST_ID.reset(token)


def build_web_app(leadbot: App) -> web.Application:
    """The Application: /healthz, /metrics, Slack (HTTP mode) and every ROUTE_INSTALLERS
    entry."""
    settings = leadbot.settings
    app = web.Application(client_max_size=settings.max_body_bytes, middlewares=[request_context])
    app[DB_KEY] = leadbot.db
    app[SETTINGS_KEY] = settings
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics.metrics_handler(leadbot.db))
    _install_slack(app, leadbot)
    for install in ROUTE_INSTALLERS:
        install(app, leadbot)
    return app


async def run_server(
    leadbot: App,
    *,
    port: int | None = None,
    host: str = "0.0.0.0",  # noqa: S104  (a server behind a load balancer listens on all)
    stop: asyncio.Event | None = None,
    ready: asyncio.Event | None = None,
    dispose: bool = True,
) -> None:
    """Serve until SIGTERM/SIGINT (or `stop` is set), then shut down gracefully.

    `ready` (optional) is set once the port accepts connections. The database is closed
    at the end unless `dispose` is False (`leadbot run` shares it with the scheduler).
    """
    started = time.perf_counter()
    settings, db = leadbot.settings, leadbot.db
    try:
        await upgrade(db)
        app = build_web_app(leadbot)
        runner = web.AppRunner(
            app,
            handle_signals=False,
            shutdown_timeout=SHUTDOWN_GRACE_SECONDS,
            access_log=None,
            keepalive_timeout=settings.http_idle_timeout_seconds,
        )
        await runner.setup()
        installed: list[signal.Signals] = []
        undo_quiet = httpguard.quiet_resource_errors(asyncio.get_running_loop())
        try:
            chosen = settings.port if port is None else port
            site = httpguard.GuardedSite(
                runner,
                host,
                chosen,
                max_connections=settings.http_max_connections,
                header_timeout=settings.http_header_timeout_seconds,
            )
            await site.start()
            if stop is None:
                # Our own process: SIGTERM/SIGINT stop it. A caller passing `stop` owns them.
                stop = asyncio.Event()
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGTERM, signal.SIGINT):
                    with contextlib.suppress(NotImplementedError, RuntimeError):
                        loop.add_signal_handler(sig, stop.set)
                        installed.append(sig)
            mode = _slack_mode(settings)
            log.info(
                "leadbot serving on http://%s:%d (slack: %s) ready in %.0f ms",
                host,
                chosen,
                mode,
                (time.perf_counter() - started) * 1000,
            )
            # Everything built at start-up lives as long as the process: move it out of
            # the collector's way, so full collections don't stall acknowledgements.
            gc.collect()
            gc.freeze()
            if ready is not None:
                ready.set()
            await stop.wait()
            log.info("shutting down: finishing in-flight requests")
        finally:
            undo_quiet()
            for sig in installed:
                asyncio.get_running_loop().remove_signal_handler(sig)
            await runner.cleanup()
    finally:
        if dispose:
            await db.dispose()
    log.info("leadbot server stopped")


def _slack_mode(settings: Settings) -> str:
    if not settings.slack_bot_token:
        return "off"
    if settings.slack_app_token is not None:
        return "socket mode"
    return "http /slack/events" if settings.slack_signing_secret else "misconfigured"
