"""`POST /kpi/live`: live queue observations pushed by any ACD, signed with a shared secret.

The request carries `X-Leadbot-Timestamp` (Unix seconds) and `X-Leadbot-Signature:
v1=HEX`, the HMAC-SHA256 of `{timestamp}.{raw body}` keyed with LIVE_PUSH_SECRET. Order
matters, as on the Slack edge (docs/security.md): the signature and timestamp are
checked on the raw bytes before anything is parsed (401); a signed body that does not
read is refused with 400 and one log line; a signature seen before inside the window is
a replay (409). Only then are the observations stored (202). A refused request changes
nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Mapping

from aiohttp import web

from bot.bootstrap import App
from domain.live import observations_from_json
from handlers import alerts
from storage import events

log = logging.getLogger(__name__)

PATH = "/kpi/live"
WINDOW_SECONDS = 300
TIMESTAMP_HEADER = "X-Leadbot-Timestamp"
SIGNATURE_HEADER = "X-Leadbot-Signature"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value for a body sent at `timestamp`."""
    base = timestamp.encode() + b"." + body
    return "v1=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signature_ok(secret: str, headers: Mapping[str, str], raw: bytes, now: float) -> bool:
    """True for a valid signature of exactly these bytes, made inside the window."""
    timestamp = headers.get(TIMESTAMP_HEADER, "")
    signature = headers.get(SIGNATURE_HEADER, "")
    if not (timestamp.isdigit() and signature.startswith("v1=")):
        return False
    if abs(now - int(timestamp)) > WINDOW_SECONDS:
        return False
    return hmac.compare_digest(sign(secret, timestamp, raw), signature)


def install_live_push(app: web.Application, leadbot: App) -> None:
    """Mount POST /kpi/live when LIVE_PUSH_SECRET is set."""
    secret = leadbot.settings.live_push_secret
    if secret is None or not secret.get_secret_value():
        log.info("live push is off (LIVE_PUSH_SECRET is not set)")
        return
    key = secret.get_secret_value()
    ctx = leadbot.ctx

    async def live_push(request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        if not signature_ok(key, request.headers, raw, time.time()):
            log.warning("live push: refused a request with a missing, bad or stale signature")
            return web.json_response({"error": "invalid signature"}, status=401)
        try:
            observations = observations_from_json(json.loads(raw.decode("utf-8")), now=ctx.now())
        except ValueError as exc:  # also UnicodeDecodeError and JSONDecodeError
            log.warning("live push: refused a signed body: %s", str(exc)[:200])
            return web.json_response(
                {"error": "malformed body", "detail": str(exc)[:200]}, status=400
            )
        signature = request.headers.get(SIGNATURE_HEADER, "")
        if not await events.first_request(ctx.db, key=f"live:{signature}"[:120], now=ctx.now()):
            log.warning("live push: refused a replayed request")
            return web.json_response({"error": "replayed request"}, status=409)
        stored = await alerts.ingest(ctx, observations)
        return web.json_response({"stored": stored}, status=202)

    app.router.add_post(PATH, live_push)
