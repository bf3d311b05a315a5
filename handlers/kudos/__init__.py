"""`/kudos`: recognition. Anyone thanks colleagues for a company value; the shout-out goes
to the team channel and a DM to each receiver (within a daily allowance). Leaderboards,
one's own kudos, the values list (admins change it), and the Post / Dismiss buttons on
the kudos suggestions the KPI job sends to leads.

The root handler gives kudos (`/kudos @person ... MESSAGE`), or shows the latest
shout-outs when there are no arguments; `top`, `mine`, `recent` and `values` (with its
own `list`, `add` and `remove`) are declared sub-commands. A word that is neither a
mention nor a sub-command keeps its old answer ("Start with the person to recognise").

Modules: give.py (the root form), leaderboard.py (`top`), commands.py (`mine`,
`recent`), values.py, buttons.py (the suggestions' DM and buttons), render.py (pure text).

Public surface: COMMAND and BUTTONS (handlers/registry.py); suggestion_reply for the
suggestions job (jobs/kudos_jobs.py).
"""

from __future__ import annotations

from domain.parsing import Args
from domain.types import Command, Reply
from handlers.core.context import ActionSpec, CommandSpec, HandlerContext
from handlers.kudos.buttons import on_suggestion, suggestion_reply
from handlers.kudos.commands import mine, recent
from handlers.kudos.give import give
from handlers.kudos.leaderboard import top
from handlers.kudos.values import values_add, values_list, values_remove

__all__ = ["BUTTONS", "COMMAND", "suggestion_reply"]


async def _root(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    if not args:
        return await recent(cmd, args, ctx)
    return await give(cmd, args, ctx)


COMMAND = CommandSpec(
    verb="kudos",
    summary="Recognise a colleague, see the leaderboard and your kudos",
    usage=("/kudos @person [@person2 ...] [#value] MESSAGE",),
    handler=_root,
    subcommands=(
        CommandSpec(
            verb="top",
            summary="The leaderboard by person and by value (this month unless you say)",
            usage=("/kudos top [week|month|quarter]",),
            handler=top,
            examples=("/kudos top quarter",),
        ),
        CommandSpec(
            verb="mine",
            summary="Kudos you received and gave in the last 90 days",
            usage=("/kudos mine",),
            handler=mine,
        ),
        CommandSpec(
            verb="recent",
            summary="The latest shout-outs in your team (also plain /kudos)",
            usage=("/kudos recent",),
            handler=recent,
        ),
        CommandSpec(
            verb="values",
            summary="The values you can tag a kudos with; admins change the list",
            usage=("/kudos values",),
            handler=values_list,
            subcommands=(
                CommandSpec(
                    verb="list",
                    summary="The values you can tag a kudos with",
                    usage=("/kudos values list",),
                    handler=values_list,
                ),
                CommandSpec(
                    verb="add",
                    summary="Add a value (admins)",
                    usage=("/kudos values add NAME   (admins)",),
                    handler=values_add,
                    examples=("/kudos values add Customer first",),
                ),
                CommandSpec(
                    verb="remove",
                    summary="Remove a value; kudos already given keep it (admins)",
                    usage=("/kudos values remove NAME   (admins)",),
                    handler=values_remove,
                ),
            ),
        ),
    ),
    examples=(
        "/kudos @maria.lopez #ownership stayed on to clear the callback queue",
        "/kudos @sam @lee #partnership great handover on the outage",
        "/kudos top quarter",
    ),
)

BUTTONS = ActionSpec(prefix="kudos.suggest", handler=on_suggestion)
