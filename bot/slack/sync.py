"""`leadbot slack sync`: map the whole roster to Slack users by email, at once.

users.list is read page by page (cursor paging, 200 a page) at Tier 2's pace (about 20
calls a minute: one page every PAGE_INTERVAL seconds), waiting out a 429's Retry-After.
The mapping rules (email changes, deactivated users) are storage.people.
apply_slack_directory's; the messages that waited for the people it maps go out.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.client import make_client
from bot.slack.sender import retry_after_of
from bot.slack.users import slack_error
from domain.settings import Settings
from storage import people
from storage.db import Database
from storage.people import DirectorySync, SlackUser

log = logging.getLogger(__name__)

PAGE_SIZE = 200
PAGE_INTERVAL = 3.0  # seconds between users.list pages: 20 a minute (Tier 2)
MAX_RATE_LIMITED = 10  # 429s in a row before giving up


class SyncError(Exception):
    """Slack refused the listing (a missing scope, a bad token): nothing was changed."""


def _user_of(member: dict[str, object]) -> SlackUser:
    profile = member.get("profile")
    email = profile.get("email") if isinstance(profile, dict) else None
    uid = str(member.get("id", ""))
    return SlackUser(
        id=uid,
        email=str(email).strip().lower() if email else None,
        usable=not member.get("deleted")
        and not member.get("is_bot")
        and not member.get("is_app_user")
        and uid != "USLACKBOT",
    )


async def list_users(
    client: AsyncWebClient,
    *,
    page_size: int = PAGE_SIZE,
    page_interval: float = PAGE_INTERVAL,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> list[SlackUser]:
    """Every user of the workspace, paced; raises SyncError when Slack refuses."""
    users: list[SlackUser] = []
    cursor = ""
    limited = 0
    last = None
    while True:
        if last is not None:
            wait = page_interval - (monotonic() - last)
            if wait > 0:
                await sleep(wait)
        last = monotonic()
        try:
            resp = await client.users_list(limit=page_size, cursor=cursor or None)
        except SlackApiError as exc:
            status = getattr(exc.response, "status_code", 0)
            if status == 429 and limited < MAX_RATE_LIMITED:
                limited += 1
                await sleep(retry_after_of(getattr(exc.response, "headers", {})))
                last = None
                continue
            raise SyncError(slack_error(exc)) from exc
        limited = 0
        members = resp.get("members") or []
        users.extend(_user_of(m) for m in members if isinstance(m, dict))
        meta = resp.get("response_metadata") or {}
        cursor = str(meta.get("next_cursor") or "")
        if not cursor:
            return users


async def sync(db: Database, client: AsyncWebClient, **pacing: object) -> tuple[DirectorySync, int]:
    """List the workspace and map the roster onto it; (what changed, users listed)."""
    users = await list_users(client, **pacing)  # type: ignore[arg-type]
    return await people.apply_slack_directory(db, users=users), len(users)


def report(result: DirectorySync, listed: int) -> str:
    """What an admin reads after a sync."""
    lines = [
        f"Listed {listed} Slack user(s): mapped {len(result.mapped)} person(s) now, "
        f"{result.unchanged} already mapped; {result.requeued} waiting message(s) go out now."
    ]
    if result.not_found:
        lines.append(f"{len(result.not_found)} can't be reached on Slack:")
        lines += [
            f"  {p.display_name} <{p.email}>: {p.unreachable_reason or 'no Slack user'}"
            for p in result.not_found
        ]
        lines.append(
            "  Correct their email on the roster (`leadbot import roster`), then sync again."
        )
    if result.email_differs:
        lines.append("Kept, but their Slack email differs from the roster's:")
        lines += [
            f"  {p.display_name} <{p.email}>: Slack has {email}"
            for p, email in result.email_differs
        ]
    return "\n".join(lines)


async def main(settings: Settings, db: Database) -> int:
    """`leadbot slack sync`."""
    if not settings.slack_bot_token:
        print("leadbot slack sync: SLACK_BOT_TOKEN is not set")
        return 2
    client = make_client(settings, max_rate_limit_retries=0)
    try:
        result, listed = await sync(db, client)
    except SyncError as exc:
        print(f"leadbot slack sync: Slack refused users.list ({exc}); nothing was changed.")
        if "missing_scope" in str(exc):
            print("Add the users:read and users:read.email scopes and reinstall the app.")
        return 1
    finally:
        if client.session is not None and not client.session.closed:
            await client.session.close()
    print(report(result, listed))
    return 0
