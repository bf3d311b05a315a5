"""Prometheus metrics: GET /metrics on the web server.

- Commands and button presses are counted by name and outcome where the adapters run
  them (`run_command` / `run_action` here wrap handlers.dispatch's), with a latency
  histogram. Outcomes: `ok`, `refused` (a clear answer to something the user can fix:
  bad arguments, not allowed, not found) and `error` (ours: an exception, the database
  down).
- Every HTTP request is counted by route and status, with a latency histogram.
- Outbox depth and job runs are read from the database at scrape time (one cheap
  GROUP BY each), so they describe the whole cluster, not only this process.

Only bot/ imports prometheus_client; handlers/ and jobs/ stay unaware of it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

from domain.types import Action, Command, Reply
from handlers.core import dispatch
from handlers.core.context import HandlerContext
from storage import metrics as store
from storage.db import Database

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

# Slack's acknowledgement budget is 3 s; the buckets resolve well below it.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "leadbot_requests",
    "Commands and button presses handled, by kind, name, platform and outcome.",
    ("kind", "name", "platform", "outcome"),
    registry=REGISTRY,
)
REQUEST_SECONDS = Histogram(
    "leadbot_request_duration_seconds",
    "Time to answer a command or button press (the handler, storage included).",
    ("kind", "platform"),
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
HTTP_REQUESTS = Counter(
    "leadbot_http_requests",
    "HTTP requests served, by route, method and status.",
    ("route", "method", "status"),
    registry=REGISTRY,
)
HTTP_SECONDS = Histogram(
    "leadbot_http_request_duration_seconds",
    "Time to answer an HTTP request (for Slack: until the acknowledgement).",
    ("route",),
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
OUTBOX = Gauge(
    "leadbot_outbox_messages",
    "Outbox messages by status (pending is the depth; dead gave up), cluster-wide.",
    ("status",),
    registry=REGISTRY,
)
JOB_RUNS = Gauge(
    "leadbot_job_runs",
    "Scheduled job runs recorded, by job and status (running, ok, failed), cluster-wide.",
    ("job", "status"),
    registry=REGISTRY,
)
DATABASE_UP = Gauge(
    "leadbot_database_up",
    "1 when the database answered the last scrape's queries, else 0.",
    registry=REGISTRY,
)

OK, REFUSED, ERROR = "ok", "refused", "error"
_OURS = "Sorry, something went wrong on our side"  # handlers.dispatch's internal-error text


def outcome_of(reply: Reply) -> str:
    """ok, refused (the user can fix it) or error (an exception of ours, the DB down)."""
    if reply.ok:
        return OK
    text = reply.fallback
    if text.startswith((_OURS, dispatch.TRY_AGAIN, dispatch.SAVED_NO_ANSWER)):
        return ERROR
    return REFUSED


def _observe(kind: str, name: str, platform: str, reply: Reply, started: float) -> None:
    REQUESTS.labels(kind, name, platform, outcome_of(reply)).inc()
    REQUEST_SECONDS.labels(kind, platform).observe(time.perf_counter() - started)


async def run_command(cmd: Command, ctx: HandlerContext) -> Reply:
    """handlers.dispatch.run_command, counted and timed; never raises."""
    started = time.perf_counter()
    spec = ctx.registry.command(cmd.verb)
    name = spec.verb if spec is not None else "unknown"  # bounded label values only
    try:
        reply = await dispatch.run_command(cmd, ctx)
    except BaseException:
        REQUESTS.labels("command", name, cmd.platform.value, ERROR).inc()
        raise
    _observe("command", name, cmd.platform.value, reply, started)
    return reply


async def run_action(action: Action, ctx: HandlerContext) -> Reply:
    """handlers.dispatch.run_action, counted and timed; never raises."""
    started = time.perf_counter()
    spec = ctx.registry.action(action.action_id)
    name = spec.prefix if spec is not None else "unknown"
    try:
        reply = await dispatch.run_action(action, ctx)
    except BaseException:
        REQUESTS.labels("action", name, action.platform.value, ERROR).inc()
        raise
    _observe("action", name, action.platform.value, reply, started)
    return reply


def route_of(request: web.Request) -> str:
    """The matched route's pattern (bounded), or "unmatched" for 404s."""
    info = request.match_info
    resource = info.route.resource if info is not None and info.route is not None else None
    if resource is None:
        return "unmatched"
    return resource.canonical


def observe_http(request: web.Request, status: int, started: float) -> None:
    """Count and time one HTTP request (called by the server's middleware)."""
    route = route_of(request)
    HTTP_REQUESTS.labels(route, request.method, str(status)).inc()
    HTTP_SECONDS.labels(route).observe(time.perf_counter() - started)


async def refresh_from_database(db: Database) -> bool:
    """Set the outbox and job-run gauges from the database; False when it is down."""
    try:
        outbox = await store.outbox_counts(db)
        runs = await store.job_run_counts(db)
    except Exception as exc:  # the scrape still answers, with process metrics
        log.warning("metrics: database counts unavailable: %s", type(exc).__name__)
        DATABASE_UP.set(0)
        return False
    for status, n in outbox.items():
        OUTBOX.labels(status).set(n)
    JOB_RUNS.clear()  # a job that disappeared from the table disappears here too
    for (job, status), n in runs.items():
        JOB_RUNS.labels(job, status).set(n)
    DATABASE_UP.set(1)
    return True


def metrics_handler(db: Database) -> Callable[[web.Request], Awaitable[web.Response]]:
    """GET /metrics: the Prometheus text format."""

    async def metrics(_request: web.Request) -> web.Response:
        await refresh_from_database(db)
        body = generate_latest(REGISTRY)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    return metrics
