"""`leadbot demo` serves the dashboard too: the console reads stdin (blocking), so the
web server runs on its own event loop in a daemon thread, over the same store, and
`/leadbot dashboard` in the console prints the one-time link it would DM."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from bot.bootstrap import App, bootstrap
from bot.server import build_web_app
from domain.settings import Settings

log = logging.getLogger(__name__)

HOST = "127.0.0.1"


def demo_settings(settings: Settings, port: int) -> Settings:
    """The demo's settings: the dashboard on at this machine's port unless configured."""
    if settings.dashboard_base_url:
        return settings
    return settings.model_copy(update={"dashboard_base_url": f"http://{HOST}:{port}"})


@dataclass(frozen=True)
class DemoDashboard:
    """The served dashboard: the App the console should use (its links point at the
    server), the line to print, and how to stop it (tests; the demo just exits)."""

    app: App
    note: str
    stop: Callable[[], None]


def start_dashboard(app: App, *, port: int | None = None) -> DemoDashboard:
    """Serve the web app (with the dashboard) on its own loop in a daemon thread."""
    chosen = app.settings.port if port is None else port
    settings = demo_settings(app.settings, chosen)
    ready = threading.Event()
    failed: list[str] = []
    loop_box: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    async def serve() -> None:
        # Its own App: a Database is bound to the event loop that uses it.
        own = bootstrap(settings)
        runner = web.AppRunner(build_web_app(own), access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, HOST, chosen).start()
        except OSError as exc:
            failed.append(exc.strerror or str(exc))
            ready.set()
            await runner.cleanup()
            await own.db.dispose()
            return
        done = asyncio.Event()
        loop_box.append((asyncio.get_running_loop(), done))
        ready.set()
        await done.wait()  # or until the process ends (a daemon thread)
        await runner.cleanup()
        await own.db.dispose()

    thread = threading.Thread(target=lambda: asyncio.run(serve()), name="dashboard", daemon=True)
    thread.start()
    ready.wait(timeout=10)

    def stop() -> None:
        if loop_box:
            loop, done = loop_box[0]
            loop.call_soon_threadsafe(done.set)
        thread.join(timeout=10)

    ctx = dataclasses.replace(app.ctx, settings=settings)
    new = dataclasses.replace(app, settings=settings, ctx=ctx)
    if failed or not ready.is_set():
        why = failed[0] if failed else "it did not start"
        note = f"The dashboard is not served: port {chosen} ({why}). Set PORT to another one."
        return DemoDashboard(app, note, stop)
    note = (
        f"Dashboard: {settings.dashboard_base_url}/dashboard/ - type `/leadbot dashboard` "
        "for your one-time sign-in link."
    )
    return DemoDashboard(new, note, stop)
