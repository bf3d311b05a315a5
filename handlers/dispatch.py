"""Runs a Command or an Action through the registry and turns every error into a Reply."""

from __future__ import annotations

import logging
import secrets

from handlers.context import HandlerContext
from handlers.errors import NotAllowed, UsageError, UserError
from handlers.spec import ActionSpec, CommandSpec
from handlers.types import Action, Command, Context, Reply, Text
from storage.db import DatabaseUnavailable, track_writes

log = logging.getLogger(__name__)

TRY_AGAIN = (
    "The database isn't answering right now. Please try again in a moment; nothing was changed."
)
# The database went away after the command had committed its change (a later read for
# the answer failed): the change stands, so the user must not be told to send it again.
SAVED_NO_ANSWER = (
    "Your change was saved, but the database stopped answering before I could show the "
    "result. Please don't send it again: check it in a moment."
)


def unavailable_reply(writes: list[int]) -> Reply:
    """The answer when the database went away mid-command (see storage.db.track_writes)."""
    return error_reply(SAVED_NO_ANSWER if writes else TRY_AGAIN)


def error_reply(text: str, usage: str | None = None) -> Reply:
    """A clear, private error message (with the usage lines when given)."""
    blocks: list[Text | Context] = [Text(text)]
    if usage:
        blocks.append(Context("Usage:\n" + usage))
    fallback = text + (f"\nUsage:\n{usage}" if usage else "")
    return Reply(blocks=list(blocks), text=fallback, ok=False)


def find_command(verb: str) -> CommandSpec | None:
    from handlers.registry import COMMANDS

    v = verb.lower().lstrip("/")
    return next((c for c in COMMANDS if c.verb == v), None)


def find_action(action_id: str) -> ActionSpec | None:
    from handlers.registry import ACTIONS

    matches = [a for a in ACTIONS if action_id == a.prefix or action_id.startswith(a.prefix + ".")]
    return max(matches, key=lambda a: len(a.prefix), default=None)


async def run_command(cmd: Command, ctx: HandlerContext) -> Reply:
    """Answer a command; never raises."""
    spec = find_command(cmd.verb)
    if spec is None:
        from handlers.leadbot import help_reply

        reply = help_reply(intro=f"I don't know the command `/{cmd.verb}`. Here is what I can do:")
        reply.ok = False
        return reply
    writes: list[int] = []
    try:
        with track_writes() as writes:
            return await spec.handler(cmd, ctx)
    except UsageError as exc:
        return error_reply(exc.message, spec.usage_text)
    except (NotAllowed, UserError) as exc:
        return error_reply(exc.message)
    except DatabaseUnavailable:
        return unavailable_reply(writes)
    except Exception:
        ref = secrets.token_hex(3)
        log.exception(
            "command failed ref=%s verb=%s actor=%s platform=%s",
            ref,
            cmd.verb,
            cmd.actor.person_id,
            cmd.platform.value,
        )
        return error_reply(
            f"Sorry, something went wrong on our side (ref {ref}). Nothing was changed; "
            "please try again, and tell your admin if it keeps happening."
        )


async def run_action(action: Action, ctx: HandlerContext) -> Reply:
    """Answer a button press or form submission; never raises."""
    spec = find_action(action.action_id)
    if spec is None:
        log.warning("unknown action id=%s actor=%s", action.action_id, action.actor.person_id)
        return error_reply("That button is no longer valid.")
    writes: list[int] = []
    try:
        with track_writes() as writes:
            return await spec.handler(action, ctx)
    except (NotAllowed, UserError) as exc:
        return error_reply(exc.message)
    except DatabaseUnavailable:
        return unavailable_reply(writes)
    except Exception:
        ref = secrets.token_hex(3)
        log.exception(
            "action failed ref=%s action=%s actor=%s", ref, action.action_id, action.actor.person_id
        )
        return error_reply(
            f"Sorry, something went wrong on our side (ref {ref}). Nothing was changed."
        )
