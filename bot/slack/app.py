"""The Slack adapter: a slack-bolt AsyncApp whose listeners turn Slack payloads into
Commands and Actions, run them through handlers.dispatch, and answer in Block Kit.

Every slash command and button is acknowledged at once; the handler runs after the ack
(in a tracked background task, so a shutdown waits for it) and the reply goes to the
request's response_url. Modal submissions are the exception: Slack wants field errors in
the acknowledgement itself, so the action runs first, within a 2 s budget.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import re
import secrets
from collections.abc import Coroutine
from typing import Any

from aiohttp import web
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.bootstrap import App
from bot.logs import REQUEST_ID
from bot.metrics import run_action, run_command
from bot.slack import edge
from bot.slack.client import make_client
from bot.slack.render import (
    CONTEXT_TEXT,
    PRIVATE_METADATA,
    clip,
    decode_value,
    form_values,
    render_blocks,
    render_home,
    render_modal,
    split_action_id,
)
from bot.slack.render import (
    fallback_text as render_fallback,
)
from bot.slack.upload import ChartUploads, charts_of
from bot.slack.users import UserDirectory, slack_error
from domain.errors import UserError
from domain.parsing import tokenize
from domain.types import (
    Action,
    Command,
    Form,
    Platform,
    Quoted,
    Reply,
    Text,
    Visibility,
    message,
)
from handlers.core.dispatch import TRY_AGAIN, error_reply
from handlers.core.home import home
from handlers.leadbot import welcome
from storage import events, outbox, people
from storage.db import DatabaseUnavailable

log = logging.getLogger(__name__)

FORM_CALLBACK_ID = "leadbot.form"
# A modal submission waits this long for its action before closing the modal and
# posting the answer later (Slack gives up on the acknowledgement after 3 s).
SUBMIT_BUDGET_SECONDS = 2.0
BUSY_TEXT = (
    "I'm very busy right now and couldn't take that command. "
    "Please try again in a minute; nothing was changed."
)


class TaskTracker:
    """Background work started after an ack; a shutdown waits for it to finish.

    At most `slots` pieces of work run at once: under a burst the rest queue, so the
    event loop stays free to acknowledge new requests within Slack's 3 s. Beyond
    `max_waiting` queued pieces the tracker is `busy`: new slash commands are turned away
    with a "try again" instead of queuing without bound (memory, and replies minutes late).
    """

    def __init__(self, slots: int = 8, max_waiting: int = 200) -> None:
        self.tasks: set[asyncio.Task[Any]] = set()
        self.slots = slots
        self.max_waiting = max_waiting
        self._sem: asyncio.Semaphore | None = None

    @property
    def busy(self) -> bool:
        """True when so much work is queued that more would wait too long."""
        return len(self.tasks) >= self.slots + self.max_waiting

    async def _limited(self, coro: Coroutine[Any, Any, Any]) -> Any:
        if self._sem is None:
            self._sem = asyncio.Semaphore(self.slots)
        async with self._sem:
            return await coro

    def spawn(self, coro: Coroutine[Any, Any, Any], *, limited: bool = True) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(self._limited(coro) if limited else coro)
        self.tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background slack task failed", exc_info=task.exception())

    async def drain(self, grace: float = 25.0) -> int:
        """Wait for running tasks (and any they start); returns how many were left over."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while self.tasks:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await asyncio.wait(set(self.tasks), timeout=remaining)
        return len(self.tasks)


def _ref() -> str:
    return secrets.token_hex(3)


def _oops(ref: str) -> Reply:
    return error_reply(
        f"Sorry, something went wrong on our side (ref {ref}). Nothing was changed; "
        "please try again, and tell your admin if it keeps happening."
    )


class SlackBot:
    """Everything the Slack listeners need: the context, the client, the user directory."""

    def __init__(
        self,
        leadbot: App,
        *,
        client: AsyncWebClient | None = None,
        tracker: TaskTracker | None = None,
    ) -> None:
        self.settings = leadbot.settings
        self.db = leadbot.db
        self.ctx = leadbot.ctx
        self.client = client or make_client(self.settings)
        self.users = UserDirectory(self.db, self.client)
        self.charts = ChartUploads(self.client)
        self.tracker = tracker or TaskTracker()
        self.turned_away = 0  # slash commands answered "busy" (see TaskTracker.busy)

    # --- sending -------------------------------------------------------------------------

    async def respond(
        self, response_url: str, reply: Reply, *, replace_original: bool = False
    ) -> bool:
        """Post a reply to a response_url (ephemeral or in channel, per the Reply).

        False when it did not arrive (refused host, expired URL, Slack down): the caller
        then sends it as a DM, so a confirmation is never lost.
        """
        if not edge.reply_url_ok(response_url, self.settings.slack_reply_hosts):
            log.warning("refused a response_url outside SLACK_RESPONSE_URL_HOSTS")
            return False
        webhook = AsyncWebhookClient(
            response_url,
            timeout=10,
            retry_handlers=[
                AsyncConnectionErrorRetryHandler(max_retry_count=2),
                AsyncRateLimitErrorRetryHandler(max_retry_count=2),
            ],
        )
        response_type = "in_channel" if reply.visibility is Visibility.channel else "ephemeral"
        try:
            resp = await webhook.send(
                text=render_fallback(reply),
                blocks=render_blocks(reply),
                response_type=None if replace_original else response_type,
                replace_original=replace_original,
            )
        except Exception:
            log.exception("response_url post failed")
            return False
        if resp.status_code != 200:
            log.warning("response_url answered %s: %s", resp.status_code, resp.body[:200])
            return False
        return True

    async def post_dm(self, slack_user_id: str, reply: Reply) -> None:
        """A direct message (the user id is the channel: no conversations.open needed)."""
        try:
            await self.client.chat_postMessage(
                channel=slack_user_id, text=render_fallback(reply), blocks=render_blocks(reply)
            )
        except SlackApiError as exc:
            log.warning("chat.postMessage failed: %s", slack_error(exc))
        except Exception:
            log.exception("chat.postMessage failed")

    async def open_form(self, trigger_id: str, form: Form, meta: dict[str, str]) -> bool:
        """Open a Form as a modal; its submission comes back to `on_view_submission`."""
        try:
            view = render_modal(form, private_metadata=_metadata(form, meta))
            await self.client.views_open(trigger_id=trigger_id, view=view)
        except SlackApiError as exc:
            log.warning("views.open failed: %s", slack_error(exc))
            return False
        except Exception:
            log.exception("views.open failed action=%s", form.action_id)
            return False
        return True

    async def publish_home(self, slack_user_id: str) -> None:
        """Render and publish a user's App Home."""
        try:
            actor, why = await self.users.actor_for(slack_user_id)
            if actor is None:
                # Before there is any admin, this says how the installer adds the first;
                # an admin's home then leads with the setup checklist (handlers.leadbot).
                reply = await welcome(self.ctx, why)
            else:
                reply = await home(actor, self.ctx)
        except DatabaseUnavailable:
            reply = Reply(blocks=[Text(TRY_AGAIN)], text=TRY_AGAIN, ok=False)
        except Exception:
            ref = _ref()
            log.exception("home view failed ref=%s user=%s", ref, slack_user_id)
            reply = Reply(
                blocks=[Text(f"Your home view could not be built (ref {ref}).")], ok=False
            )
        try:
            await self.client.views_publish(user_id=slack_user_id, view=render_home(reply))
        except SlackApiError as exc:
            log.warning("views.publish failed: %s", slack_error(exc))
        except Exception:
            log.exception("views.publish failed")

    # --- slash commands ---------------------------------------------------------------

    async def on_command(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        if self.tracker.busy:
            # A flood: answer in the acknowledgement itself (ephemeral) rather than queue.
            await ack(text=BUSY_TEXT)
            self.turned_away += 1
            if self.turned_away % 100 == 1:
                log.warning(
                    "busy: %d slash command(s) turned away so far (%d queued or running)",
                    self.turned_away,
                    len(self.tracker.tasks),
                )
            return
        await ack()
        self.tracker.spawn(self.handle_command(body))

    async def handle_command(self, body: dict[str, Any]) -> None:
        response_url = str(body.get("response_url", ""))
        verb = str(body.get("command", "")).lstrip("/").lower()
        text = str(body.get("text", "")).strip()
        try:
            reply = await self._command_reply(body, verb, text)
        except DatabaseUnavailable:
            reply = error_reply(TRY_AGAIN)
        except Exception:
            ref = _ref()
            log.exception("slack command failed ref=%s verb=%s", ref, verb)
            reply = _oops(ref)
        if reply.form is not None and body.get("trigger_id"):
            meta = {"r": response_url, "c": str(body.get("channel_id", ""))}
            if await self.open_form(str(body["trigger_id"]), reply.form, meta):
                return
            reply = error_reply("I couldn't open the form; please try the command again.")
        if self.settings.charts_enabled and charts_of(reply):
            reply = await self.charts.attach(
                reply,
                user_id=str(body.get("user_id", "")),
                channel_id=str(body.get("channel_id", "")),
            )
        if not response_url or not await self.respond(response_url, reply):
            await self.post_dm(str(body.get("user_id", "")), reply)

    async def _command_reply(self, body: dict[str, Any], verb: str, text: str) -> Reply:
        actor, why = await self.users.actor_for(str(body.get("user_id", "")))
        if actor is None:
            return message(why)
        channel_id = str(body.get("channel_id", ""))
        # Channels are linked to a team only on purpose (`/leadbot link`), never by use.
        team = await people.get_team_by_slack_channel(self.db, channel_id=channel_id)
        channel_team_id = team.id if team else None
        try:
            args = tuple(
                _unescape(tok) if isinstance(tok, str) else tok
                for tok in await tokenize(_plain_refs(text), self.users.resolve_mention)
            )
        except UserError as exc:
            spec = self.ctx.registry.command(verb)
            return error_reply(exc.message, spec.usage_text if spec else None)
        cmd = Command(
            actor=actor,
            verb=verb,
            args=args,
            raw=_unescape(f"/{verb} {_plain_refs(text)}".strip()),
            platform=Platform.slack,
            channel_team_id=channel_team_id,
            channel_ref=channel_id if channel_id[:1] in ("C", "G") else None,
            channel_name=_channel_label(channel_id, str(body.get("channel_name", ""))),
        )
        return await run_command(cmd, self.ctx)

    # --- buttons ----------------------------------------------------------------------

    async def on_block_action(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        self.tracker.spawn(self.handle_block_action(body))

    async def handle_block_action(self, body: dict[str, Any]) -> None:
        user_id = str((body.get("user") or {}).get("id", ""))
        response_url = str(body.get("response_url") or "")
        trigger_id = str(body.get("trigger_id") or "")
        in_view = (body.get("container") or {}).get("type") == "view"
        channel_id = str((body.get("channel") or {}).get("id", ""))
        actions = body.get("actions") or []
        if not actions:
            return
        clicked = actions[0]
        action_id = split_action_id(str(clicked.get("action_id", "")))
        try:
            actor, why = await self.users.actor_for(user_id)
            if actor is None:
                reply = message(why)
            else:
                try:
                    value, form = decode_value(str(clicked.get("value") or ""))
                except ValueError:
                    log.warning("undecodable button value action=%s user=%s", action_id, user_id)
                    reply = error_reply("That button is no longer valid.")
                else:
                    if form is not None:
                        meta = {"r": response_url, "c": channel_id, "h": "1" if in_view else ""}
                        if await self.open_form(trigger_id, form, meta):
                            return
                        reply = error_reply("I couldn't open the form; please try again.")
                    else:
                        act = Action(actor, action_id, value, platform=Platform.slack)
                        reply = await run_action(act, self.ctx)
        except DatabaseUnavailable:
            reply = error_reply(TRY_AGAIN)
        except Exception:
            ref = _ref()
            log.exception("slack button failed ref=%s action=%s", ref, action_id)
            reply = _oops(ref)
        await self.deliver_action_reply(
            reply,
            user_id=user_id,
            response_url=response_url,
            trigger_id=trigger_id,
            channel_id=channel_id,
            in_home=in_view and not response_url,
        )

    async def deliver_action_reply(
        self,
        reply: Reply,
        *,
        user_id: str,
        response_url: str,
        trigger_id: str = "",
        channel_id: str = "",
        in_home: bool = False,
    ) -> None:
        """Answer a click or a submission where the user will see it."""
        if reply.form is not None and trigger_id:
            meta = {"r": response_url, "c": channel_id}
            if await self.open_form(trigger_id, reply.form, meta):
                return
        has_content = bool(reply.blocks or reply.text)
        if has_content and not (
            response_url
            and await self.respond(response_url, reply, replace_original=reply.replace_original)
        ):
            await self.post_dm(user_id, reply)
        if in_home:
            await self.publish_home(user_id)

    # --- modal submissions ------------------------------------------------------------

    async def on_view_submission(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        view = body.get("view") or {}
        user_id = str((body.get("user") or {}).get("id", ""))
        values = form_values(((view.get("state") or {}).get("values")) or {})
        first_field = next(iter(values), "")
        try:
            meta = json.loads(view.get("private_metadata") or "{}")
            action_id, value = str(meta["a"]), str(meta.get("v", ""))
        except (ValueError, KeyError, TypeError):
            log.warning("modal without leadbot metadata user=%s", user_id)
            await _ack_errors(ack, {first_field: "This form is no longer valid; close it."})
            return
        response_url = str(meta.get("r") or "")
        channel_id = str(meta.get("c") or "")
        in_home = meta.get("h") == "1" and not response_url

        async def run() -> Reply:
            try:
                actor, why = await self.users.actor_for(user_id)
                if actor is None:
                    return error_reply(why)
                act = Action(actor, action_id, value, form=values, platform=Platform.slack)
                return await run_action(act, self.ctx)
            except DatabaseUnavailable:
                return error_reply(TRY_AGAIN)

        # Not queued behind background work: the user is waiting on the modal.
        task = self.tracker.spawn(run(), limited=False)
        done, _pending = await asyncio.wait({task}, timeout=SUBMIT_BUDGET_SECONDS)
        if not done:
            # Slow: close the modal now and post the answer when it comes.
            await ack()
            self.tracker.spawn(
                self._deliver_later(
                    task, user_id=user_id, response_url=response_url, in_home=in_home
                ),
                limited=False,
            )
            return
        try:
            reply = task.result()
        except Exception:
            ref = _ref()
            log.exception("slack form failed ref=%s action=%s", ref, action_id)
            reply = _oops(ref)
        if reply.errors and first_field:
            known = {k: v for k, v in reply.errors.items() if k in values}
            unknown = [v for k, v in reply.errors.items() if k not in values]
            if unknown:
                known[first_field] = "; ".join([known.get(first_field, ""), *unknown]).strip("; ")
            await _ack_errors(ack, known)
            return
        if not reply.ok and first_field:
            # A refusal keeps the modal open with the reason, instead of a generic failure.
            await _ack_errors(ack, {first_field: reply.fallback or "That didn't work."})
            return
        if reply.form is not None:
            meta2 = {"r": response_url, "c": channel_id, "h": "1" if in_home else ""}
            await ack(
                response_action="update",
                view=render_modal(reply.form, private_metadata=_metadata(reply.form, meta2)),
            )
            return
        await ack()
        self.tracker.spawn(
            self.deliver_action_reply(
                _without_form_state(reply),
                user_id=user_id,
                response_url=response_url,
                in_home=in_home,
            )
        )

    async def _deliver_later(
        self, task: asyncio.Task[Reply], *, user_id: str, response_url: str, in_home: bool
    ) -> None:
        try:
            reply = await task
        except Exception:
            ref = _ref()
            log.exception("slack form failed ref=%s", ref)
            reply = _oops(ref)
        # The modal is closed by now: a follow-up form can't open without a fresh trigger.
        await self.deliver_action_reply(
            _without_form_state(reply),
            user_id=user_id,
            response_url=response_url,
            in_home=in_home,
        )

    # --- events -----------------------------------------------------------------------

    async def on_home_opened(self, event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return
        user_id = str(event.get("user", ""))
        if user_id:
            self.tracker.spawn(self.publish_home(user_id))

    async def on_member_joined(self, event: dict[str, Any], context: dict[str, Any]) -> None:
        """leadbot itself joined a channel: a linked team's posts that waited go out."""
        bot_user = context.get("bot_user_id")
        if not bot_user or event.get("user") != bot_user:
            return
        team = await people.get_team_by_slack_channel(
            self.db, channel_id=str(event.get("channel", ""))
        )
        if team is None or team.id is None:
            return
        sent = await outbox.requeue_unreachable(self.db, team_id=team.id)
        log.info("slack: joined team %s's channel; %d waiting post(s) due now", team.id, sent)

    async def dedupe_events(self, body: dict[str, Any], next: Any) -> BoltResponse | None:
        """Global middleware: an Events API delivery (or Slack's retry of it) runs once."""
        if body.get("type") == "event_callback" and body.get("event_id"):
            key = f"slack:event:{body['event_id']}"
            if not await events.record_once(self.db, key=key, now=self.ctx.now()):
                log.info("duplicate slack event %s ignored", body["event_id"])
                return BoltResponse(status=200, body="")
        await next()
        return None


# Slack escapes command text (should_escape): channels, links and specials arrive wrapped.
_CHANNEL_REF = re.compile(r"<#[A-Z0-9]+\|([^>]*)>")
_LINK_REF = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|[^>]*)?>")
_SPECIAL_REF = re.compile(r"<!(\w+)(?:\^[^|>]*)?(?:\|[^>]*)?>")


def _plain_refs(text: str) -> str:
    """`<#C1|billing>` -> `#billing`, `<https://x|x>` -> `https://x`, `<!here>` -> `@here`.
    User mentions (`<@U1|ana>`) stay: the tokenizer resolves them."""
    text = _CHANNEL_REF.sub(lambda m: "#" + m.group(1), text)
    text = _LINK_REF.sub(lambda m: m.group(1).removeprefix("mailto:"), text)
    return _SPECIAL_REF.sub(lambda m: "@" + m.group(1), text)


def _channel_label(channel_id: str, name: str) -> str:
    """How a confirmation names the channel (text is escaped: no `<#C1>` links)."""
    if not name or name in ("privategroup", "directmessage"):
        return "this channel" if channel_id[:1] in ("C", "G") else ""
    return f"#{name}"


def _unescape(word: str) -> str:
    """Slack sends &, < and > as entities (a quoted word stays quoted)."""
    plain = word.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return Quoted(plain) if isinstance(word, Quoted) else plain


SLACK_BOT_KEY = web.AppKey("leadbot.slack_bot", SlackBot)


def _metadata(form: Form, meta: dict[str, str]) -> str:
    """The modal's private_metadata: which action to run and where to answer."""
    data = {"a": form.action_id, "v": form.value, **{k: v for k, v in meta.items() if v}}
    text = json.dumps(data, separators=(",", ":"))
    if len(text) > PRIVATE_METADATA:
        data.pop("r", None)
        text = json.dumps(data, separators=(",", ":"))
    if len(text) > PRIVATE_METADATA:
        raise ValueError("form value too long for a Slack modal")
    return text


async def _ack_errors(ack: AsyncAck, errors: dict[str, str]) -> None:
    """Keep the modal open with a message under each field (closes it if none applies)."""
    shown = {k: clip(v or "Please check this.", CONTEXT_TEXT) for k, v in errors.items() if k}
    if not shown:
        await ack()
        return
    await ack(response_action="errors", errors=shown)


def _without_form_state(reply: Reply) -> Reply:
    """A submission's answer once its modal is closed: field errors become a message."""
    if reply.errors:
        lines = "\n".join(f"• {v}" for v in reply.errors.values())
        return Reply(
            blocks=[Text("That form had a problem, so nothing was saved:\n" + lines)], ok=False
        )
    return dataclasses.replace(reply, form=None)


class _QuietTokenWarning(logging.Filter):
    """bolt reads SLACK_BOT_TOKEN itself and warns that our client's token wins; it does."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


_BOLT_LOG = logging.getLogger("leadbot.slack.bolt")
_BOLT_LOG.addFilter(_QuietTokenWarning())


async def socket_mode_request_id(next: Any) -> None:
    """A Socket Mode envelope has no HTTP request (whose middleware gives HTTP mode its
    request id): give it one, so its log lines and the work it starts can be followed.

    Not reset afterwards: bolt runs the listeners after the middleware chain returns, and
    slack_sdk handles each envelope in a task of its own, so the id ends with that task.
    """
    if REQUEST_ID.get() is None:
        REQUEST_ID.set(secrets.token_hex(8))
    await next()


def build_bolt_app(
    leadbot: App,
    *,
    tracker: TaskTracker | None = None,
    client: AsyncWebClient | None = None,
) -> tuple[AsyncApp, SlackBot]:
    """The bolt AsyncApp with every registry command, buttons, forms and App Home."""
    settings = leadbot.settings
    bot = SlackBot(leadbot, client=client, tracker=tracker)
    secret = settings.slack_signing_secret
    socket_mode = settings.slack_app_token is not None
    app = AsyncApp(
        client=bot.client,
        signing_secret=secret.get_secret_value() if secret else "",
        # Socket Mode requests arrive over an authenticated websocket, not signed HTTP.
        request_verification_enabled=not socket_mode,
        # Listeners only ack and hand work to tracked tasks, so run them inline: the HTTP
        # answer leaves as soon as ack() is called, without bolt's 10 ms polling.
        process_before_response=True,
        logger=_BOLT_LOG,
    )
    app.use(socket_mode_request_id)
    app.use(bot.dedupe_events)
    # New commands appear in Slack with no code here. One listener for all of them: bolt
    # builds its listener arguments once per matcher it tries, a real cost on every ack.
    verbs = "|".join(re.escape(spec.verb) for spec in leadbot.registry.commands)
    app.command(re.compile(f"^/(?:{verbs})$"))(bot.on_command)
    app.action(re.compile(r".+"))(bot.on_block_action)
    app.view(FORM_CALLBACK_ID)(bot.on_view_submission)
    app.event("app_home_opened")(bot.on_home_opened)
    app.event("member_joined_channel")(bot.on_member_joined)
    return app, bot
