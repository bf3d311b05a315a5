"""The dashboard's routes: sign-in and sign-out, the pages, and the JSON their charts
draw. Every page and every data request reads the person's current role through their
session and lets handlers.dashboard decide what they may see, as chat does; a page and
its data come from the same page model, so they can never disagree.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

import handlers.dashboard as dash
from bot.web.auth import (
    COOKIE_PATH,
    CTX_KEY,
    PRE_COOKIE,
    SESSION_COOKIE,
    current,
    require_csrf,
    set_pre_cookie,
    set_session_cookie,
)
from bot.web.render import page
from domain.errors import NotAllowed, NotFound
from domain.types import Actor
from handlers.core.context import HandlerContext
from handlers.core.signin import SessionInfo, link_person, redeem_link, sign_out
from handlers.oneonone import lapse_state

log = logging.getLogger(__name__)

Model = Any  # one of handlers.dashboard's page models (each has .chart())
Builder = Callable[[HandlerContext, Actor, web.Request], Awaitable[Model]]


def _int(request: web.Request, name: str, default: int) -> int:
    raw = request.query.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) < 6 else default


def _match(request: web.Request, name: str) -> int:
    return int(request.match_info[name])


async def _team(ctx: HandlerContext, actor: Actor, request: web.Request) -> Model:
    return await dash.team_page(
        ctx,
        actor,
        _match(request, "team_id"),
        _int(request, "days", dash.DEFAULT_DAYS),
        heatmap=not request.path.startswith("/dashboard/api/"),  # the charts need none
    )


async def _me(ctx: HandlerContext, actor: Actor, request: web.Request) -> Model:
    return await dash.agent_page(ctx, actor, None, _int(request, "days", dash.DEFAULT_DAYS))


async def _agent(ctx: HandlerContext, actor: Actor, request: web.Request) -> Model:
    return await dash.agent_page(
        ctx, actor, _match(request, "person_id"), _int(request, "days", dash.DEFAULT_DAYS)
    )


async def _manager(ctx: HandlerContext, actor: Actor, request: web.Request) -> Model:
    return await dash.manager_page(ctx, actor, _int(request, "days", dash.DEFAULT_DAYS))


async def _pulse(ctx: HandlerContext, actor: Actor, request: web.Request) -> Model:
    team = request.query.get("team", "")
    team_id = int(team) if team.isdigit() and len(team) < 10 else None
    return await dash.pulse_page(ctx, actor, team_id, _int(request, "weeks", dash.DEFAULT_WEEKS))


async def _kudos(ctx: HandlerContext, actor: Actor, request: web.Request) -> Model:
    period = request.query.get("period", "month")
    return await dash.kudos_page(ctx, actor, _match(request, "team_id"), period)


async def _actions(ctx: HandlerContext, actor: Actor, request: web.Request) -> Model:
    return await dash.actions_page(ctx, actor, _match(request, "team_id"), lapse_state)


# (path under /dashboard, builder, template, has a data endpoint under /dashboard/api)
PAGES: tuple[tuple[str, Builder, str, bool], ...] = (
    ("/team/{team_id:\\d{1,9}}", _team, "team.html", True),
    ("/me", _me, "agent.html", True),
    ("/agent/{person_id:\\d{1,9}}", _agent, "agent.html", True),
    ("/manager", _manager, "manager.html", True),
    ("/pulse", _pulse, "pulse.html", True),
    ("/team/{team_id:\\d{1,9}}/kudos", _kudos, "kudos.html", True),
    ("/team/{team_id:\\d{1,9}}/actions", _actions, "actions.html", False),
)


async def _refused(
    request: web.Request, status: int, title: str, text: str, *, api: bool
) -> web.Response:
    if api:
        return web.json_response({"error": text}, status=status)
    return await page(request, "message.html", {"title": title, "text": text}, status=status)


SIGNED_OUT = (
    "You're not signed in (or your sign-in has expired). Type `/leadbot dashboard` in "
    "Slack or Teams: leadbot sends you a link in a direct message."
)


async def _signed_in(request: web.Request) -> SessionInfo | None:
    return await current(request)


def _view(
    build: Builder, template: str, *, api: bool
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def view(request: web.Request) -> web.Response:
        info = await _signed_in(request)
        if info is None:
            return await _refused(request, 401, "Signed out", SIGNED_OUT, api=api)
        ctx = request.app[CTX_KEY]
        try:
            model = await build(ctx, info.actor, request)
        except NotAllowed as exc:
            return await _refused(request, 403, "Not one of your pages", exc.message, api=api)
        except NotFound as exc:
            return await _refused(request, 404, "Not found", exc.message, api=api)
        if api:
            return web.json_response(model.chart())
        return await page(request, template, {"m": model})

    return view


async def index(request: web.Request) -> web.StreamResponse:
    """/dashboard/: each person's first page (by role), or how to sign in."""
    info = await _signed_in(request)
    if info is None:
        return await _refused(request, 401, "Signed out", SIGNED_OUT, api=False)
    target = await dash.landing(request.app[CTX_KEY], info.actor)
    raise web.HTTPFound(target.href)


async def signin_form(request: web.Request) -> web.StreamResponse:
    """GET /dashboard/signin?t=TOKEN: check the link and offer the button that uses it
    (fetching the URL, as link scanners do, never uses it up)."""
    ctx = request.app[CTX_KEY]
    token = request.query.get("t", "")
    person = await link_person(ctx, token)
    if person is None:
        return await page(request, "signin_refused.html", {}, status=400)
    pre = secrets.token_urlsafe(18)
    response = await page(
        request, "signin.html", {"token": token, "pre": pre, "name": person.display_name}
    )
    set_pre_cookie(request, response, pre)
    return response


async def signin(request: web.Request) -> web.StreamResponse:
    """POST /dashboard/signin: use the link once and open a session."""
    ctx = request.app[CTX_KEY]
    form = await request.post()
    token = form.get("t", "")
    pre = form.get("pre", "")
    cookie = request.cookies.get(PRE_COOKIE, "")
    if not (isinstance(token, str) and isinstance(pre, str) and cookie) or not hmac.compare_digest(
        pre, cookie
    ):
        log.warning("dashboard: refused a sign-in without its sign-in page")
        return await page(request, "signin_refused.html", {}, status=403)
    new = await redeem_link(ctx, token)
    if new is None:
        log.info("dashboard: refused a used, expired or forged sign-in link")
        return await page(request, "signin_refused.html", {}, status=400)
    log.info("dashboard: person %d signed in", new.person_id)
    response = web.HTTPSeeOther("/dashboard/")
    set_session_cookie(request, response, new.cookie, ctx.settings.dashboard_session_hours * 3600)
    response.del_cookie(PRE_COOKIE, path=COOKIE_PATH)
    raise response


async def signout(request: web.Request) -> web.StreamResponse:
    """POST /dashboard/signout (CSRF-checked): end this browser's session."""
    info = await _signed_in(request)
    if info is None:
        raise web.HTTPSeeOther("/dashboard/signedout")
    await require_csrf(request, info)
    await sign_out(request.app[CTX_KEY], request.cookies.get(SESSION_COOKIE, ""))
    response = web.HTTPSeeOther("/dashboard/signedout")
    response.del_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    raise response


async def signedout(request: web.Request) -> web.StreamResponse:
    return await page(
        request,
        "message.html",
        {
            "title": "Signed out",
            "text": "You're signed out. `/leadbot dashboard` in chat sends a new link.",
        },
    )


def add_routes(app: web.Application) -> None:
    """Every dashboard route, on the dashboard's sub-application (mounted at /dashboard)."""
    app.router.add_get("/", index)
    app.router.add_get("/signin", signin_form)
    app.router.add_post("/signin", signin)
    app.router.add_post("/signout", signout)
    app.router.add_get("/signedout", signedout)
    for path, build, template, has_api in PAGES:
        app.router.add_get(path, _view(build, template, api=False))
        if has_api:
            app.router.add_get("/api" + path, _view(build, template, api=True))
