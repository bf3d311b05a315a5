"""`/goal`: a team's SMART goals, one metric, one number, one period.

    /goal set aht <= 300s daily        (also 5:00, 5m, 5m30s for seconds)
    /goal set csat >= 90%              (daily unless a period is given)
    /goal set nps >= +30 monthly team Billing
    /goal list [team NAME]             (also a bare /goal)
    /goal clear aht [daily|weekly|monthly] [team NAME]

Leads set goals for their own team, managers for the teams they manage. A target is read
in the metric's unit and checked against its range; a comparison against the metric's
direction (`aht >= 300s`: a higher handle time is worse) is accepted, since a floor can
be deliberate (e.g. AHT too low hints at rushed calls), but the answer warns about it.
One goal per team, metric and period: setting it again replaces it. The daily goal
update (jobs/goal_update.py) posts the results; `/stats` judges figures by these goals.

Modules: commands (the handlers), targets (reading a goal from words), render (replies).

Public surface: COMMAND (registered in handlers/registry.py).
"""

from __future__ import annotations

from domain.parsing import Args
from domain.types import Command, Reply
from handlers.core.access import checked
from handlers.core.context import CommandSpec, HandlerContext
from handlers.core.dispatch import unknown_subcommand
from handlers.goals.commands import goal_clear, goal_list, goal_set

__all__ = ["COMMAND"]


async def _goal(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    # A bare /goal lists; any other word is none of the sub-commands.
    if args:
        raise unknown_subcommand(("goal",), COMMAND, args.rest_text())
    return await goal_list(cmd, args, ctx)


COMMAND = CommandSpec(
    verb="goal",
    summary="Set, list and clear your team's KPI goals",
    handler=_goal,
    subcommands=(
        CommandSpec(
            verb="set",
            summary="Set (or replace) a team goal on one metric for one period",
            usage=(
                "/goal set METRIC OP TARGET [daily|weekly|monthly] [team NAME]",
                "OP: >= <= > <   TARGET: 300s, 5:00, 5m, 90%, +30",
            ),
            handler=goal_set,
            examples=(
                "/goal set aht <= 300s daily",
                "/goal set csat >= 90%",
                "/goal set nps >= +30 monthly",
            ),
        ),
        CommandSpec(
            verb="list",
            summary="Your teams' goals with their current figures",
            usage=("/goal list [team NAME]",),
            handler=goal_list,
            aliases=("ls",),
        ),
        CommandSpec(
            verb="clear",
            summary="Clear a team goal (one period, or all of a metric's)",
            usage=("/goal clear METRIC [daily|weekly|monthly] [team NAME]",),
            handler=goal_clear,
            aliases=("remove", "rm", "delete"),
            examples=("/goal clear aht",),
        ),
    ),
    examples=(
        "/goal set aht <= 300s daily",
        "/goal set csat >= 90%",
        "/goal set nps >= +30 monthly",
        "/goal clear aht",
    ),
)
COMMAND = checked(COMMAND)  # every sub-command reads its actor's role and team now
