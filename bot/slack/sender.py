"""Sends outbox messages to Slack with chat.postMessage.

A DM is posted with the person's user id as the channel: chat.postMessage opens the DM
itself (no conversations.open, which is rate-limited to about 50 a minute). The client is
built with no rate-limit retries of its own, so a 429 reaches the dispatcher, which makes
that target wait for Retry-After.

A person with no Slack id yet (a roster imported by email) is queued as `person:ID`: the
sender finds them with users.lookupByEmail (Tier 3, about 50 a minute: paced by a budget
every dispatcher shares, LOOKUP_RATE, one at a time, no bursts), stores the id on the
person (their other waiting messages follow it) and sends. No such user, a deactivated
one, or a bot: the message waits (pending, SendResult.waiting) and the person's lead is
told once; `leadbot slack sync` or the person's first use of leadbot maps them and sends
what waited. A team channel leadbot can't post in (not_in_channel, channel_not_found,
is_archived) waits the same way, and who linked it and the team's lead are told once;
leadbot joining the channel (member_joined_channel) sends what waited.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import reach
from bot.slack.client import make_client
from bot.slack.render import fallback_text, render_blocks
from domain.settings import Settings
from domain.types import Reply
from jobs.delivery import SendResult
from jobs.dispatcher import Rate, SharedBudget
from storage import people
from storage.db import Database
from storage.edits import edit_base_target
from storage.models import OutboxMessage, Person
from storage.outbox import UNMAPPED_PREFIX

log = logging.getLogger(__name__)

# Errors that will not go away by trying again: the message goes dead with the error.
PERMANENT_ERRORS = frozenset(
    {
        "account_inactive",
        "as_user_not_supported",
        "cannot_dm_bot",
        "channel_not_found",
        "ekm_access_denied",
        "invalid_auth",
        "invalid_blocks",
        "is_archived",
        "missing_scope",
        "msg_too_long",
        "no_permission",
        "no_text",
        "not_allowed_token_type",
        "not_authed",
        "not_in_channel",
        "org_login_required",
        "restricted_action",
        "team_access_not_granted",
        "token_expired",
        "token_revoked",
        "too_many_attachments",
        "user_not_found",
        "user_disabled",
    }
)
# chat.update's own permanent errors (the message was deleted, or is not the bot's).
EDIT_ERRORS = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})
# users.lookupByEmail is Tier 3 (50+ a minute): 40 a minute, one at a time, shared by
# every dispatcher on the database (storage.outbox.reserve_rate), leaves room for others.
LOOKUP_RATE = Rate(40, 60.0, burst=1)
LOOKUP_BUDGET_KEY = "slack:lookupByEmail"
# A message whose lookup would wait longer than this behind others is handed back (as
# rate limited, no attempt used) instead of holding one of the dispatcher's in-flight
# slots: messages to people already mapped keep flowing during a day-one backlog.
LOOKUP_MAX_WAIT_SECONDS = 10.0

# A channel post that fails with these waits until leadbot is in the channel.
CHANNEL_BLOCKED = {
    "not_in_channel": (
        "I'm not a member of it",
        "Invite me with `/invite @leadbot` in {channel}.",
    ),
    "channel_not_found": (
        "I can't see it (a private channel I'm not in, or it was deleted)",
        "Invite me with `/invite @leadbot` in {channel}, or link another channel with "
        "`/leadbot link` there.",
    ),
    "is_archived": (
        "it is archived",
        "Unarchive it, or link another channel with `/leadbot link` in it.",
    ),
}
# A DM that fails with these: the stored Slack user can't get messages any more.
DM_BLOCKED = frozenset({"user_not_found", "account_inactive", "user_disabled", "cannot_dm_bot"})
NOT_FOUND_WHY = "no Slack user in this workspace has their email"
NOT_FOUND_FIX = (
    "Check the email on the roster (`/leadbot person list unreachable`); once it matches "
    "their Slack account, `leadbot slack sync` (or their first use of leadbot) maps them."
)

TRANSIENT_ERRORS = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"}
)


def _render(reply: Reply) -> tuple[str, list[dict[str, Any]]]:
    return fallback_text(reply), render_blocks(reply)


def retry_after_of(headers: Any) -> float:
    """Retry-After in seconds (1 when absent or unreadable)."""
    try:
        value = headers.get("Retry-After") or headers.get("retry-after")
        return max(float(value), 0.0) if value is not None else 1.0
    except (TypeError, ValueError, AttributeError):
        return 1.0


def _error_of(exc: SlackApiError) -> str | None:
    data = getattr(exc.response, "data", None)
    error = data.get("error") if isinstance(data, dict) else None
    return str(error) if error else None


class SlackSender:
    """The Sender for platform "slack" (see jobs/delivery.Sender)."""

    platform = "slack"

    def __init__(
        self,
        client: AsyncWebClient,
        db: Database | None = None,
        *,
        lookup_rate: Rate = LOOKUP_RATE,
        wall: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """`db`: for people not mapped yet and unreachable channels (without it such
        messages are retried, never guessed)."""
        self.client = client
        self.db = db
        self.lookups = (
            SharedBudget(db, LOOKUP_BUDGET_KEY, lookup_rate, wall=wall, sleep=sleep)
            if db is not None
            else None
        )
        self._lookup_lock = asyncio.Lock()
        self._lookup_interval = lookup_rate.per_seconds / lookup_rate.count
        self._lookups_waiting = 0

    @classmethod
    def from_settings(cls, settings: Settings, db: Database | None = None) -> SlackSender:
        return cls(make_client(settings, max_rate_limit_retries=0), db)

    async def send(self, message: OutboxMessage, reply: Reply) -> SendResult:
        if self.client.session is None:
            # One pooled HTTP session for every post (slack_sdk would open one per call).
            self.client.session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=64, keepalive_timeout=30)
            )
        channel = message.target
        if channel.startswith(UNMAPPED_PREFIX):
            found = await self._resolve(message)
            if isinstance(found, SendResult):
                return found
            channel = found
        text, blocks = _render(reply)
        result = await self._post(message, channel, text, blocks)
        if not result.ok and result.error == "invalid_blocks" and blocks:
            # Never lose a message over a rendering problem: send the text alone.
            log.warning("Slack refused the blocks of outbox message %s; sending text", message.id)
            result = await self._post(message, channel, text, [])
        if not result.ok and not result.transient and result.retry_after is None:
            return await self._blocked(message, channel, result)
        return result

    # --- people not mapped yet ----------------------------------------------------------

    async def _resolve(self, message: OutboxMessage) -> str | SendResult:
        """The Slack user id of the message's person (found by email and stored), or the
        result to record when there is none."""
        if self.db is None or self.lookups is None or message.recipient_person_id is None:
            return SendResult.retry("a person without a Slack id, and no database to look")
        person = await people.get_person(self.db, person_id=message.recipient_person_id)
        if person is None or not person.active:
            return SendResult.failed("that person is no longer on the roster")
        if person.slack_user_id:  # mapped since the message was queued
            return person.slack_user_id
        behind = self._lookups_waiting * self._lookup_interval
        if behind > LOOKUP_MAX_WAIT_SECONDS:
            return SendResult.rate_limited(behind)
        self._lookups_waiting += 1
        try:
            async with self._lookup_lock:  # one lookup at a time from this process
                await self.lookups.acquire()
                resp = await self.client.users_lookupByEmail(email=person.email)
        except SlackApiError as exc:
            error = _error_of(exc)
            if error == "users_not_found":
                return await self._unreachable(person, "users_not_found", NOT_FOUND_WHY)
            return self._classify(exc)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            return SendResult.retry(f"network: {type(exc).__name__}")
        finally:
            self._lookups_waiting -= 1
        user = resp.get("user") or {}
        if user.get("deleted"):
            return await self._unreachable(
                person, "deactivated", "their Slack account is deactivated"
            )
        if user.get("is_bot") or user.get("id") == "USLACKBOT" or not user.get("id"):
            return await self._unreachable(person, "bot", "their email belongs to a bot user")
        uid = str(user["id"])
        assert person.id is not None
        await people.link_slack_user(self.db, person_id=person.id, slack_user_id=uid)
        log.info("slack: mapped person %s to a Slack user by email", person.id)
        return uid

    async def _unreachable(self, person: Person, code: str, why: str) -> SendResult:
        assert self.db is not None
        assert person.id is not None
        await people.set_unreachable(self.db, person_id=person.id, reason=why)
        await reach.tell_lead_unreachable(
            self.db, person=person, platform="slack", code=code, why=why, fix=NOT_FOUND_FIX
        )
        return SendResult.waiting(code)

    async def _channel_name(self, channel: str) -> str:
        """`#name` for a notice (conversations.info), or a plain description."""
        try:
            resp = await self.client.conversations_info(channel=channel)
        except Exception:  # a courtesy: the notice goes out without the name
            return f"(channel id {channel})"
        name = (resp.get("channel") or {}).get("name")
        return f"#{name}" if name else f"(channel id {channel})"

    async def _blocked(
        self, message: OutboxMessage, channel: str, result: SendResult
    ) -> SendResult:
        """A permanent refusal: a channel or person leadbot can't reach waits instead."""
        error = result.error or ""
        if self.db is None:
            return result
        if message.recipient_team_id is not None and error in CHANNEL_BLOCKED:
            team = await people.get_team(self.db, team_id=message.recipient_team_id)
            if team is None:
                return result
            why, fix = CHANNEL_BLOCKED[error]
            shown = await self._channel_name(channel)
            await reach.tell_channel_blocked(
                self.db,
                team=team,
                platform="slack",
                code=error,
                channel=shown,
                why=why,
                fix=fix.format(channel=shown),
            )
            return SendResult.waiting(error)
        if message.recipient_person_id is not None and error in DM_BLOCKED:
            person = await people.get_person(self.db, person_id=message.recipient_person_id)
            if person is None:
                return result
            return await self._unreachable(
                person, error, "their Slack account can't get messages (deactivated?)"
            )
        return result

    async def _post(
        self, message: OutboxMessage, channel: str, text: str, blocks: list[dict[str, Any]]
    ) -> SendResult:
        kwargs: dict[str, Any] = {
            "channel": channel,
            "text": text,
            "unfurl_links": False,
            "unfurl_media": False,
            # Tags the message with its outbox id, so a delivery can be traced (and a
            # possible duplicate after a crash recognised) in the channel's history.
            "metadata": {
                "event_type": "leadbot_outbox",
                "event_payload": {"outbox_id": message.id or 0},
            },
        }
        if blocks:
            kwargs["blocks"] = blocks
        try:
            resp = await self.client.chat_postMessage(**kwargs)
        except SlackApiError as exc:
            return self._classify(exc)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            return SendResult.retry(f"network: {type(exc).__name__}: {exc}"[:300])
        except Exception as exc:  # e.g. an HTML error page instead of JSON from a proxy
            return SendResult.retry(f"{type(exc).__name__}: {exc}"[:300])
        ts = resp.get("ts") if resp.data else None
        return SendResult.sent(str(ts) if ts else None)

    async def edit(self, message: OutboxMessage, reply: Reply, ref: str) -> SendResult:
        """chat.update of the message `ref` (its ts) in the row's channel (jobs/edits.py).
        chat.update is Tier 3: the dispatcher's "slack:update" bucket keeps within it."""
        text, blocks = _render(reply)
        try:
            await self.client.chat_update(
                channel=edit_base_target(message.target), ts=ref, text=text, blocks=blocks or []
            )
        except SlackApiError as exc:
            result = self._classify(exc)
            data = getattr(exc.response, "data", None)
            error = data.get("error") if isinstance(data, dict) else None
            if error in EDIT_ERRORS:
                return SendResult.failed(str(error))
            return result
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            return SendResult.retry(f"network: {type(exc).__name__}: {exc}"[:300])
        except Exception as exc:
            return SendResult.retry(f"{type(exc).__name__}: {exc}"[:300])
        return SendResult.sent(ref)

    @staticmethod
    def _classify(exc: SlackApiError) -> SendResult:
        response = exc.response
        status = getattr(response, "status_code", 0) or 0
        error = _error_of(exc)
        if status == 429 or error == "ratelimited":
            return SendResult.rate_limited(retry_after_of(getattr(response, "headers", {})))
        if status >= 500:
            return SendResult.retry(f"Slack HTTP {status}" + (f": {error}" if error else ""))
        if error in PERMANENT_ERRORS:
            return SendResult.failed(str(error))
        if error in TRANSIENT_ERRORS:
            return SendResult.retry(str(error))
        # Anything else: try a few more times; it goes dead with this error if it stays.
        return SendResult.retry(str(error or f"Slack HTTP {status}"))

    async def close(self) -> None:
        session = getattr(self.client, "session", None)
        if session is not None and not session.closed:
            await session.close()
