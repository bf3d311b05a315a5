"""Dashboard sign-in, sessions, CSRF and the security headers (docs/security.md,
"Dashboard").

- `/dashboard/signin?t=...` (GET) only checks the link and shows a "Sign in as NAME"
  button: link scanners and chat unfurlers that fetch a URL must not use the one-time
  link up. The button POSTs the token with a double-submit value (a short-lived cookie
  and the same value in the form), so another site cannot sign a browser in as someone
  else either.
- The session cookie is HttpOnly, SameSite=Lax, Path=/dashboard, Secure when the
  dashboard is served over HTTPS (DASHBOARD_BASE_URL, or the request itself).
- Every request that changes something (POST) needs the session's CSRF token (a form
  field or the X-CSRF-Token header htmx sends) and, when the browser sends one, an
  Origin of this dashboard.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web

from handlers.core.context import HandlerContext
from handlers.core.signin import SessionInfo, session_actor

log = logging.getLogger(__name__)

SESSION_COOKIE = "leadbot_session"
PRE_COOKIE = "leadbot_signin"
COOKIE_PATH = "/dashboard"
PRE_SECONDS = 600

CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CTX_KEY = web.AppKey("leadbot.dashboard.ctx", HandlerContext)


@dataclass(frozen=True)
class _Seen:
    """Who this request is (None: signed out), looked up once per request."""

    info: SessionInfo | None


SESSION_KEY = web.RequestKey("leadbot.dashboard.session", _Seen)


def is_secure(request: web.Request, ctx: HandlerContext) -> bool:
    """HTTPS as the browser sees it: the configured address, or this request."""
    base = ctx.settings.dashboard_base_url or ""
    return base.startswith("https://") or request.secure


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The headers every dashboard response carries, errors included."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _harden(request, exc)
        raise
    _harden(request, response)
    return response


def _harden(request: web.Request, response: web.StreamResponse) -> None:
    if response.prepared:
        return
    h = response.headers
    h["Content-Security-Policy"] = CSP
    h["X-Frame-Options"] = "DENY"
    h["X-Content-Type-Options"] = "nosniff"
    h["Referrer-Policy"] = "no-referrer"
    h["Cross-Origin-Opener-Policy"] = "same-origin"
    h["Cross-Origin-Resource-Policy"] = "same-origin"
    h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), interest-cohort=()"
    if not request.path.startswith("/dashboard/static/"):
        h["Cache-Control"] = "no-store"  # figures about people: never kept by a cache
    if is_secure(request, request.app[CTX_KEY]):
        h["Strict-Transport-Security"] = "max-age=31536000"


async def current(request: web.Request) -> SessionInfo | None:
    """The signed-in person behind this request (read once per request), or None."""
    if SESSION_KEY in request:
        return request[SESSION_KEY].info
    cookie = request.cookies.get(SESSION_COOKIE, "")
    info = await session_actor(request.app[CTX_KEY], cookie) if cookie else None
    request[SESSION_KEY] = _Seen(info)
    return info


def _same_origin(request: web.Request, ctx: HandlerContext) -> bool:
    """No Origin (older browsers, same-origin GETs), or this dashboard's own."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    allowed = {f"{request.scheme}://{request.host}"}
    base = ctx.settings.dashboard_base_url
    if base:
        parts = urlsplit(base)
        allowed.add(f"{parts.scheme}://{parts.netloc}")
    return origin in allowed


async def require_csrf(request: web.Request, info: SessionInfo) -> None:
    """403 unless the request carries this session's CSRF token from this origin."""
    ctx = request.app[CTX_KEY]
    given = request.headers.get("X-CSRF-Token", "")
    if not given and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        form = await request.post()
        value = form.get("csrf", "")
        given = value if isinstance(value, str) else ""
    if not _same_origin(request, ctx) or not hmac.compare_digest(given, info.csrf_token):
        log.warning(
            "dashboard: refused a %s to %s without a valid CSRF token", request.method, request.path
        )
        raise web.HTTPForbidden(text="This request did not come from your dashboard page.")


def set_session_cookie(
    request: web.Request, response: web.StreamResponse, value: str, max_age: int
) -> None:
    ctx = request.app[CTX_KEY]
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="Lax",
        secure=is_secure(request, ctx),
    )


def set_pre_cookie(request: web.Request, response: web.StreamResponse, value: str) -> None:
    response.set_cookie(
        PRE_COOKIE,
        value,
        max_age=PRE_SECONDS,
        path=COOKIE_PATH,
        httponly=True,
        samesite="Strict",
        secure=is_secure(request, request.app[CTX_KEY]),
    )
