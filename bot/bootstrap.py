"""The composition root: settings, the database, the clock, the registry, the jobs and
the senders are built here, once per process, and handed to whatever needs them.

Every entry point (the CLI, the web server, the scheduler, the console, the tests)
starts from `bootstrap()`; nothing else reads the environment or builds a context.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.doctor import platform_probe
from bot.live.sources import build_sources as build_live_sources
from bot.senders import build_senders
from bot.sources import build_sources
from domain.settings import Settings
from domain.sources import Source
from handlers.core.context import Clock, HandlerContext, Registry, system_clock
from handlers.registry import build_registry
from jobs.dispatcher import Dispatcher, DispatcherConfig, default_node_name, limits_with
from jobs.registry import build_jobs
from jobs.scheduler import Runtime, Scheduler
from jobs.spec import JobSpec
from storage.db import Database


@dataclass(frozen=True)
class App:
    """Everything one process is made of, wired once."""

    settings: Settings
    db: Database
    ctx: HandlerContext
    jobs: Mapping[str, JobSpec]
    sources: Mapping[str, Source]

    @property
    def registry(self) -> Registry:
        return self.ctx.registry

    @property
    def clock(self) -> Clock:
        return self.ctx.clock


def bootstrap(
    settings: Settings | None = None,
    *,
    db: Database | None = None,
    clock: Clock = system_clock,
    registry: Registry | None = None,
    jobs: Sequence[JobSpec] | None = None,
    sources: Mapping[str, Source] | None = None,
) -> App:
    """Build the process: each argument replaces the real thing (tests pass fakes)."""
    settings = settings if settings is not None else Settings()
    db = db if db is not None else Database(settings.database_url)
    db.unmapped_platform = unmapped_platform(settings)
    ctx = HandlerContext(
        db=db,
        settings=settings,
        registry=registry if registry is not None else build_registry(),
        clock=clock,
        platform_probe=platform_probe(settings),  # the setup checks that ask Slack
    )
    # The KPI sources configured in the settings (bot/sources/), one pull job each.
    kpi_sources = build_sources(settings) if sources is None else dict(sources)
    # The live pollers (bot/live/) only ever run in the scheduler's live job.
    specs = (
        build_jobs(settings, kpi_sources, build_live_sources(settings))
        if jobs is None
        else tuple(jobs)
    )
    return App(
        settings=settings, db=db, ctx=ctx, jobs={j.id: j for j in specs}, sources=kpi_sources
    )


def unmapped_platform(settings: Settings) -> str:
    """Where a message to a person with no Slack/Teams id yet is queued: Slack (found by
    email at send time) when it is configured, else Teams (mapped from the team roster),
    else the console (the demo, the console, tests)."""
    if settings.slack_bot_token:
        return "slack"
    if settings.teams_enabled:
        return "teams"
    return "console"


def make_runtime(app: App, *, node: str | None = None) -> Runtime:
    """The scheduler's runtime: the context and the jobs, with this process's name."""
    return Runtime(ctx=app.ctx, jobs=app.jobs, node=node or default_node_name())


def make_scheduler(app: App, *, node: str | None = None) -> Scheduler:
    return Scheduler(make_runtime(app, node=node))


def make_dispatcher(app: App) -> Dispatcher:
    """The outbox dispatcher with a sender per configured platform (bot/senders.py)."""
    s = app.settings
    config = DispatcherConfig(
        max_attempts=s.outbox_max_attempts,
        limits=limits_with(
            slack_rate=s.slack_rate_per_second,
            slack_channel_rate=s.slack_channel_rate_per_second,
        ),
    )
    return Dispatcher(app.db, build_senders(s, app.db), config=config, clock=app.clock)
