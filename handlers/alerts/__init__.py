"""`/alert` and `/wallboard`: queue alerts and a live wallboard in the team's channel.

    /alert add defaults [team NAME]                 (the 80/20 service-level set)
    /alert add sl < 80% 70% for 5m [queue ID]       (warning, then critical)
    /alert list | edit ID ... | pause ID | resume ID | remove ID
    /alert history [days N]
    /wallboard on [every 60s] | off | (bare: the figures now, to you)

Live observations come from the pollers (bot/live/) and the signed push endpoint
(`POST /kpi/live`); the scheduler's frequent job (jobs/alerts.py) calls `tick`, which
evaluates every rule on every queue (domain/alerts.py) and writes one message per
incident, edited in place through the outbox until it resolves.

Modules: commands (the handlers), words (reading arguments, which team), engine (the
evaluation, wallboards and ingest), render (replies), buttons ("I'm on it"), digest (the
daily goal post's line about yesterday's incidents).

Public surface: COMMAND, WALLBOARD, BUTTONS (handlers/registry.py); tick, evaluate_all,
refresh_wallboards, ingest, poll, prune_runs (jobs/alerts.py, bot/); yesterday_incidents
and incidents_line (the daily goal post).
"""

from __future__ import annotations

from domain.parsing import Args
from domain.types import Command, Reply
from handlers.alerts.buttons import on_ack
from handlers.alerts.commands import (
    alert_add,
    alert_edit,
    alert_history,
    alert_list,
    alert_pause,
    alert_remove,
    alert_resume,
    wallboard_off,
    wallboard_on,
    wallboard_show,
)
from handlers.alerts.digest import IncidentDigest, incidents_line, yesterday_incidents
from handlers.alerts.engine import (
    TickStats,
    evaluate_all,
    ingest,
    open_incident_ids,
    poll,
    refresh_wallboards,
    tick,
)
from handlers.core.context import ActionSpec, CommandSpec, HandlerContext
from handlers.core.dispatch import unknown_subcommand
from storage.alerts import prune_runs

__all__ = [
    "BUTTONS",
    "COMMAND",
    "WALLBOARD",
    "IncidentDigest",
    "TickStats",
    "evaluate_all",
    "incidents_line",
    "ingest",
    "open_incident_ids",
    "poll",
    "prune_runs",
    "refresh_wallboards",
    "tick",
    "yesterday_incidents",
]


async def _alert(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    if args:
        raise unknown_subcommand(("alert",), COMMAND, args.rest_text())
    return await alert_list(cmd, args, ctx)


OPTIONS = (
    "[for 5m] [cooldown 30m] [escalate 15m|never] [clear 2m] [queue ID] "
    "[hours always|lead|PATTERN] [outside hold|drop] [team NAME]"
)

COMMAND = CommandSpec(
    verb="alert",
    summary="Queue alerts in your team's channel: service level, waiting, longest wait",
    handler=_alert,
    subcommands=(
        CommandSpec(
            verb="add",
            summary="Add an alert rule, or the 80/20 defaults",
            usage=(
                "/alert add defaults [team NAME]",
                "/alert add METRIC OP WARNING CRITICAL " + OPTIONS,
                "METRIC: sl waiting longest abandon available occupancy   OP: < <= > >=",
            ),
            handler=alert_add,
            examples=(
                "/alert add defaults",
                "/alert add sl < 80% 70% for 5m",
                "/alert add longest >= 1:00 3:00 for 2m queue billing-voice",
            ),
        ),
        CommandSpec(
            verb="list",
            summary="Your teams' alert rules and which are firing",
            usage=("/alert list [team NAME]",),
            handler=alert_list,
            aliases=("ls",),
        ),
        CommandSpec(
            verb="edit",
            summary="Change a rule's thresholds or timing",
            usage=(
                "/alert edit ID [warning V] [critical V] [for 5m] [cooldown 30m] "
                "[escalate 15m|never] [clear 2m] [hours always|lead|PATTERN] [outside hold|drop]",
            ),
            handler=alert_edit,
            aliases=("change", "set"),
            examples=("/alert edit 3 warning 75% for 10m", "/alert edit 2 hours always"),
        ),
        CommandSpec(
            verb="pause",
            summary="Pause a rule (or all of a team's); open alerts close",
            usage=("/alert pause ID|all [team NAME]",),
            handler=alert_pause,
            examples=("/alert pause 3", "/alert pause all"),
        ),
        CommandSpec(
            verb="resume",
            summary="Resume a paused rule (or all)",
            usage=("/alert resume ID|all [team NAME]",),
            handler=alert_resume,
        ),
        CommandSpec(
            verb="remove",
            summary="Remove a rule; its history stays",
            usage=("/alert remove ID|all [team NAME]",),
            handler=alert_remove,
            aliases=("rm", "delete"),
        ),
        CommandSpec(
            verb="history",
            summary="Past alerts: when, which queue, how long, who took them",
            usage=("/alert history [days N] [team NAME]",),
            handler=alert_history,
            examples=("/alert history", "/alert history days 30"),
        ),
    ),
    examples=(
        "/alert add defaults",
        "/alert add sl < 80% 70% for 5m",
        "/alert list",
        "/alert history",
    ),
)

WALLBOARD = CommandSpec(
    verb="wallboard",
    summary="A live wallboard message in your team's channel, edited in place",
    usage=("/wallboard [team NAME]",),
    handler=wallboard_show,
    subcommands=(
        CommandSpec(
            verb="on",
            summary="Post the wallboard and keep it current (every 60 s by default)",
            usage=("/wallboard on [every 60s] [team NAME]",),
            handler=wallboard_on,
            aliases=("start",),
            examples=("/wallboard on", "/wallboard on every 2m team Billing"),
        ),
        CommandSpec(
            verb="off",
            summary="Stop it, leaving a final snapshot",
            usage=("/wallboard off [team NAME]",),
            handler=wallboard_off,
            aliases=("stop",),
        ),
    ),
    examples=("/wallboard on", "/wallboard off"),
)

BUTTONS = ActionSpec(prefix="alert", handler=on_ack)
