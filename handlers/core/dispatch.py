"""Runs a Command or an Action through the registry and turns every error into a Reply.

A command's words are routed down its declared sub-commands (handlers/core/context.py):
`help` at any level answers that level's help, an unknown word where only sub-commands
fit gets the same usage error everywhere, and a UsageError raised by a handler is shown
with the usage of the sub-command that raised it.
"""

from __future__ import annotations

import logging
import secrets

from domain.errors import NotAllowed, UsageError, UserError
from domain.parsing import Args
from domain.types import Action, Command, Context, Quoted, Reply, Text
from handlers.core.context import CommandSpec, HandlerContext
from handlers.core.help import HELP_WORDS, command_list, node_help, title
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


def unknown_subcommand(path: tuple[str, ...], node: CommandSpec, rest: str) -> UsageError:
    """The one error for words that are none of a command's sub-commands."""
    options = [f"`{' '.join((*path[1:], s.verb))}`" for s in node.subcommands]
    say = options[0] if len(options) == 1 else ", ".join(options[:-1]) + " or " + options[-1]
    return UsageError(f"I don't know `{title(path)} {rest}`. Say {say}.")


def route(cmd: Command, root: CommandSpec) -> tuple[tuple[str, ...], CommandSpec, Args, bool]:
    """Follow the command's words down the sub-commands: (path, node, the rest of the
    arguments, whether the next word asks for help)."""
    args = Args(cmd.args)
    path: tuple[str, ...] = (root.verb,)
    node = root
    while True:
        word = args.peek_word()
        if word is None or isinstance(args.peek(), Quoted):  # quoted words are text
            return path, node, args, False
        child = node.child(word)
        if child is None:
            if word in HELP_WORDS:  # a command may declare its own `help` (`/leadbot help`)
                args.next()
                return path, node, args, True
            return path, node, args, False
        args.next()
        path, node = (*path, child.verb), child


async def _answer(
    cmd: Command, ctx: HandlerContext, path: tuple[str, ...], node: CommandSpec, args: Args
) -> Reply:
    if node.handler is None:
        if args:
            raise unknown_subcommand(path, node, args.rest_text())
        return node_help(path, node)
    return await node.handler(cmd, args, ctx)


# Features whose log lines never name the actor: who pressed a pulse button, or ran
# `/pulse mine`, is who answered (docs/privacy.md, "Pulse answers").
UNNAMED_IN_LOGS = frozenset({"pulse"})


def _actor_field(feature: str, person_id: int) -> str:
    """` actor=ID` for a log line, or nothing for a feature in UNNAMED_IN_LOGS."""
    return "" if feature in UNNAMED_IN_LOGS else f" actor={person_id}"


async def run_command(cmd: Command, ctx: HandlerContext) -> Reply:
    """Answer a command; never raises."""
    spec = ctx.registry.command(cmd.verb)
    if spec is None:
        reply = command_list(
            ctx.registry, intro=f"I don't know the command `/{cmd.verb}`. Here is what I can do:"
        )
        reply.ok = False
        return reply
    path, node, args, wants_help = route(cmd, spec)
    if wants_help:
        return node_help(path, node)
    writes: list[int] = []
    try:
        with track_writes() as writes:
            return await _answer(cmd, ctx, path, node, args)
    except UsageError as exc:
        return error_reply(exc.message, node.usage_text)
    except (NotAllowed, UserError) as exc:
        return error_reply(exc.message)
    except DatabaseUnavailable:
        return unavailable_reply(writes)
    except Exception:
        ref = secrets.token_hex(3)
        log.exception(
            "command failed ref=%s verb=%s%s platform=%s",
            ref,
            cmd.verb,
            _actor_field(cmd.verb, cmd.actor.person_id),
            cmd.platform.value,
        )
        return error_reply(
            f"Sorry, something went wrong on our side (ref {ref}). Nothing was changed; "
            "please try again, and tell your admin if it keeps happening."
        )


async def run_action(action: Action, ctx: HandlerContext) -> Reply:
    """Answer a button press or form submission; never raises."""
    spec = ctx.registry.action(action.action_id)
    who = _actor_field(action.action_id.split(".", 1)[0], action.actor.person_id)
    if spec is None:
        log.warning("unknown action id=%s%s", action.action_id, who)
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
        log.exception("action failed ref=%s action=%s%s", ref, action.action_id, who)
        return error_reply(
            f"Sorry, something went wrong on our side (ref {ref}). Nothing was changed."
        )
