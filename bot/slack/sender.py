"""Sends outbox messages to Slack with chat.postMessage.

A DM is posted with the person's user id as the channel (no conversations.open, which is
rate-limited to about 50 a minute). The client is built with no rate-limit retries of its
own, so a 429 reaches the dispatcher, which makes that target wait for Retry-After.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.client import make_client
from bot.slack.render import fallback_text, render_blocks
from domain.settings import Settings
from domain.types import Reply
from jobs.delivery import SendResult
from storage.edits import edit_base_target
from storage.models import OutboxMessage

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
TRANSIENT_ERRORS = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"}
)


def _render(reply: Reply) -> tuple[str, list[dict[str, Any]]]:
    return fallback_text(reply), render_blocks(reply)


def _retry_after(headers: Any) -> float:
    try:
        value = headers.get("Retry-After") or headers.get("retry-after")
        return max(float(value), 0.0) if value is not None else 1.0
    except (TypeError, ValueError, AttributeError):
        return 1.0


class SlackSender:
    """The Sender for platform "slack" (see jobs/delivery.Sender)."""

    platform = "slack"

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    @classmethod
    def from_settings(cls, settings: Settings) -> SlackSender:
        return cls(make_client(settings, max_rate_limit_retries=0))

    async def send(self, message: OutboxMessage, reply: Reply) -> SendResult:
        if self.client.session is None:
            # One pooled HTTP session for every post (slack_sdk would open one per call).
            self.client.session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=64, keepalive_timeout=30)
            )
        text, blocks = _render(reply)
        result = await self._post(message, text, blocks)
        if not result.ok and result.error == "invalid_blocks" and blocks:
            # Never lose a message over a rendering problem: send the text alone.
            log.warning("Slack refused the blocks of outbox message %s; sending text", message.id)
            result = await self._post(message, text, [])
        return result

    async def _post(
        self, message: OutboxMessage, text: str, blocks: list[dict[str, Any]]
    ) -> SendResult:
        kwargs: dict[str, Any] = {
            "channel": message.target,
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
        data = getattr(response, "data", None)
        error = data.get("error") if isinstance(data, dict) else None
        if status == 429 or error == "ratelimited":
            return SendResult.rate_limited(_retry_after(getattr(response, "headers", {})))
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
