"""`leadbot doctor`, and the setup checks that must call a platform.

The checklist is handlers.leadbot's (`CHECKS`: the settings and the store); the checks
that need a platform's API can only run here, in bot/. `platform_probe(settings)` builds
them, and the bootstrap puts them in the handlers' context, so `/leadbot setup`, the
admin's home view and `leadbot doctor` all run the same list.

Slack is asked through a thin port, `SlackPort`: one `auth.test` call, whose answer says
which workspace and bot the token belongs to and whose `x-oauth-scopes` header lists the
scopes granted, compared with the manifest's (bot/slack/manifest.py). Tests point
SLACK_API_URL at the loopback fake Slack. Teams has no such call that is free of side
effects; its credentials are checked by handlers.leadbot from the settings.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TextIO

import aiohttp

from bot.slack.manifest import BOT_SCOPES
from domain.settings import Settings
from handlers.core.checks import CheckResult, PlatformProbe, Status
from handlers.core.context import HandlerContext
from handlers.leadbot import run_checks, summary_line
from storage.db import DatabaseUnavailable
from storage.migrate import upgrade

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10
REFUSED = ("invalid_auth", "not_authed", "token_revoked", "account_inactive", "token_expired")


@dataclass(frozen=True)
class SlackAuth:
    """What Slack's auth.test said about the bot token."""

    ok: bool
    reached: bool = True  # False: no answer at all (network, DNS, timeout)
    error: str = ""  # Slack's error code, or why it could not be reached
    team: str = ""
    user: str = ""  # the bot user's name
    scopes: tuple[str, ...] | None = None  # None: the answer did not say


class SlackPort(Protocol):
    """The one Slack call the doctor makes."""

    async def auth_test(self) -> SlackAuth: ...


class HttpSlack:
    """SlackPort over HTTP: POST auth.test at SLACK_API_URL with the bot token."""

    def __init__(self, settings: Settings) -> None:
        token = settings.slack_bot_token
        self._token = token.get_secret_value() if token else ""
        base = settings.slack_api_url
        self._url = (base if base.endswith("/") else base + "/") + "auth.test"

    async def auth_test(self) -> SlackAuth:
        timeout = aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)
        headers = {"Authorization": f"Bearer {self._token}"}
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as http,
                http.post(self._url, headers=headers) as resp,
            ):
                granted = resp.headers.get("x-oauth-scopes")
                data = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            return SlackAuth(ok=False, reached=False, error=type(exc).__name__)
        if not isinstance(data, dict):
            return SlackAuth(ok=False, error="an answer that is not Slack's")
        scopes = (
            tuple(s.strip() for s in granted.split(",") if s.strip())
            if granted is not None
            else None
        )
        return SlackAuth(
            ok=bool(data.get("ok")),
            error=str(data.get("error") or ""),
            team=str(data.get("team") or ""),
            user=str(data.get("user") or ""),
            scopes=scopes,
        )


async def slack_checks(settings: Settings, port: SlackPort) -> list[CheckResult]:
    """Slack reachable with this token, and the manifest's scopes granted."""
    if not settings.slack_bot_token:
        return []
    auth = await port.auth_test()
    if not auth.reached:
        host = settings.slack_api_url.split("://", 1)[-1].split("/", 1)[0]
        return [
            CheckResult(
                "Slack connection",
                Status.block,
                f"Slack can't be reached at {host} ({auth.error})",
                "Check that this server can open https connections to slack.com "
                "(a proxy, a firewall, DNS).",
            )
        ]
    if not auth.ok:
        refused = auth.error in REFUSED
        return [
            CheckResult(
                "Slack connection",
                Status.block,
                f"Slack refuses SLACK_BOT_TOKEN ({auth.error or 'no reason given'})"
                if refused
                else f"auth.test failed ({auth.error or 'no reason given'})",
                "Copy the Bot User OAuth Token (xoxb-...) from the app's OAuth & Permissions "
                "page again; reinstall the app to the workspace if it was removed.",
            )
        ]
    out = [_ok_connected(auth)]
    out.append(_scopes(auth))
    return out


def _ok_connected(auth: SlackAuth) -> CheckResult:
    who = f" as @{auth.user}" if auth.user else ""
    return CheckResult("Slack connection", Status.ok, f"connected to {auth.team or 'Slack'}{who}")


def _scopes(auth: SlackAuth) -> CheckResult:
    if auth.scopes is None:
        return CheckResult(
            "Slack scopes",
            Status.warn,
            "Slack did not say which scopes the token has",
            f"Make sure the app has {', '.join(BOT_SCOPES)} (OAuth & Permissions).",
        )
    missing = [s for s in BOT_SCOPES if s not in auth.scopes]
    if missing:
        return CheckResult(
            "Slack scopes",
            Status.block,
            f"the token lacks {', '.join(missing)} (slack/manifest.yml asks for "
            f"{', '.join(BOT_SCOPES)})",
            "Add them under OAuth & Permissions (or update the app from slack/manifest.yml), "
            "reinstall the app to the workspace, and set the new SLACK_BOT_TOKEN.",
        )
    return CheckResult("Slack scopes", Status.ok, "every scope of the manifest is granted")


def platform_probe(settings: Settings, *, slack: SlackPort | None = None) -> PlatformProbe:
    """The platform checks for the handlers' context (the bootstrap builds it)."""
    port = slack or HttpSlack(settings)

    async def probe() -> Sequence[CheckResult]:
        return await slack_checks(settings, port)

    return probe


# --- `leadbot doctor` ----------------------------------------------------------------------

LABEL = {Status.ok: "ok", Status.warn: "warn", Status.block: "BLOCK"}


def format_checklist(results: Sequence[CheckResult], *, columns: int = 100) -> str:
    """The checklist for a terminal: one entry per result, its fix under it, wrapped."""
    width = max((len(r.name) for r in results), default=10)
    indent = " " * (2 + 5 + 2 + width + 2)
    lines = [f"leadbot doctor: {summary_line(results)}", ""]
    for r in results:
        head = f"  {LABEL[r.status]:<5}  {r.name:<{width}}  "
        lines += textwrap.wrap(
            r.detail, columns, initial_indent=head, subsequent_indent=indent
        ) or [head]
        if r.fix and r.status is not Status.ok:
            lines += textwrap.wrap(
                "fix: " + r.fix, columns, initial_indent=indent, subsequent_indent=indent + "     "
            )
    return "\n".join(lines)


async def run_doctor(ctx: HandlerContext, *, out: TextIO | None = None) -> int:
    """Print the checklist; 1 when something blocks, else 0."""
    out = out or sys.stdout
    try:
        results = await run_checks(ctx)
    except DatabaseUnavailable:
        print("leadbot doctor: the database can't be reached (DATABASE_URL).", file=out)
        return 1
    print(format_checklist(results), file=out)
    return 1 if any(r.status is Status.block for r in results) else 0


async def _main(ctx: HandlerContext) -> int:
    try:
        await upgrade(ctx.db)
        return await run_doctor(ctx)
    except DatabaseUnavailable:
        print("leadbot doctor: the database can't be reached (DATABASE_URL).")
        return 1
    finally:
        await ctx.db.dispose()


def main(ctx: HandlerContext) -> int:
    """`leadbot doctor` (applies the migrations first, like every command)."""
    return asyncio.run(_main(ctx))
