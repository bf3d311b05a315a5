"""The web dashboard (docs/leads/dashboard.md), served by the same aiohttp process under
/dashboard/: sign-in through chat (`/leadbot dashboard`), server-rendered pages with
small htmx interactions, and charts (uPlot, vendored in static/vendor/) drawn from the
pages' own JSON.

`install_dashboard` is a route installer (bot/server.py calls it with the web app and
the App); with DASHBOARD_BASE_URL unset it installs nothing and /dashboard/ is a 404.
Modules: `auth` (cookies, CSRF, security headers), `render` (templates), `routes`.
"""

from __future__ import annotations

import logging

from aiohttp import web

from bot.bootstrap import App
from bot.web import render
from bot.web.auth import CTX_KEY, security_headers
from bot.web.routes import add_routes

log = logging.getLogger(__name__)

__all__ = ["install_dashboard"]


async def _slash(request: web.Request) -> web.StreamResponse:
    raise web.HTTPPermanentRedirect("/dashboard/")


def install_dashboard(app: web.Application, leadbot: App) -> None:
    """Mount the dashboard at /dashboard/ when DASHBOARD_BASE_URL is set."""
    if not leadbot.settings.dashboard_base_url:
        log.info("dashboard is off (DASHBOARD_BASE_URL is not set)")
        return
    sub = web.Application(middlewares=[security_headers])
    sub[CTX_KEY] = leadbot.ctx
    render.setup(sub)
    add_routes(sub)
    sub.router.add_static("/static/", render.STATIC, append_version=True)
    app.add_subapp("/dashboard/", sub)
    app.router.add_get("/dashboard", _slash)
