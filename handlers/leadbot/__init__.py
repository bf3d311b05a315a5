"""`/leadbot`: help, your home view, who you are, and (admins) setting up people and
teams, with the setup checklist.

Public surface: COMMAND, BUTTONS and home_section (registered in handlers/registry.py);
for bot/: CHECKS, run_checks, summary_line and secret_problem (the doctor and the start-up
checks), welcome (the home tab of someone not on the roster).
"""

from __future__ import annotations

from domain.parsing import Args
from domain.types import Action, Command, Header, Reply, Table
from handlers.core.context import ActionSpec, CommandSpec, HandlerContext
from handlers.core.dispatch import unknown_subcommand
from handlers.core.help import command_list, help_for
from handlers.core.home import home
from handlers.leadbot.dashboard import DASHBOARD
from handlers.leadbot.link import link, unlink
from handlers.leadbot.people import (
    person_add,
    person_deactivate,
    person_list,
    person_manager,
    person_move,
    person_reactivate,
    person_role,
)
from handlers.leadbot.setup import (
    CHECKS,
    MIN_SECRET_LENGTH,
    Check,
    home_section,
    run_checks,
    secret_problem,
    setup_command,
    setup_pressed,
    summary_line,
    welcome,
)
from handlers.leadbot.teams import (
    ARCHIVE_ACTION,
    archive_pressed,
    team_add,
    team_archive,
    team_create,
    team_lead,
    team_list,
    team_manager,
    team_post,
    team_rename,
    team_timezone,
)
from storage import people

__all__ = [
    "ARCHIVE_ACTION",
    "BUTTONS",
    "CHECKS",
    "COMMAND",
    "MIN_SECRET_LENGTH",
    "Check",
    "home_section",
    "run_checks",
    "secret_problem",
    "summary_line",
    "welcome",
]


async def _commands(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    if args:
        raise unknown_subcommand(("leadbot",), COMMAND, args.rest_text())
    return command_list(ctx.registry)


async def _help(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    words = [str(t).lstrip("/") for t in args.rest()]
    return help_for(ctx.registry, words)


async def _home(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    args.expect_end()
    return await home(cmd.actor, ctx)


async def _whoami(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    args.expect_end()
    a = cmd.actor
    team = await people.get_team(ctx.db, team_id=a.team_id) if a.team_id else None
    return Reply(
        blocks=[
            Header(a.name),
            Table(
                ("", ""),
                (
                    ("email", a.email),
                    ("role", a.role.value),
                    ("team", team.name if team else "none"),
                    ("time zone", a.timezone),
                ),
            ),
        ],
        text=f"{a.name} <{a.email}>, {a.role.value}",
    )


async def _button(action: Action, ctx: HandlerContext) -> Reply:
    if action.action_id == ARCHIVE_ACTION:
        return await archive_pressed(action, ctx)
    return await setup_pressed(action, ctx)


PERSON = CommandSpec(
    verb="person",
    summary="Admins: add, deactivate, move people; change their role or manager",
    subcommands=(
        CommandSpec(
            verb="add",
            summary="Add a person to the roster (admins)",
            usage=(
                "/leadbot person add EMAIL NAME [team TEAM] [as agent|lead|manager|admin] "
                "[tz Area/City] [hours PATTERN]",
            ),
            handler=person_add,
            examples=(
                "/leadbot person add maria.lopez@example.com Maria Lopez team Billing",
                "/leadbot person add tom@example.com Tom Night team Billing hours Sun-Thu "
                "22:00-06:00",
            ),
        ),
        CommandSpec(
            verb="deactivate",
            summary="Switch a person off: no messages, no pulses, no figures; history kept",
            usage=("/leadbot person deactivate @person|EMAIL",),
            handler=person_deactivate,
            examples=("/leadbot person deactivate @maria.lopez",),
        ),
        CommandSpec(
            verb="reactivate",
            summary="Switch a deactivated person on again",
            usage=("/leadbot person reactivate EMAIL",),
            handler=person_reactivate,
            examples=("/leadbot person reactivate maria.lopez@example.com",),
        ),
        CommandSpec(
            verb="move",
            summary="Move a person to another team (their 1:1s go to its lead)",
            usage=("/leadbot person move @person TEAM|none",),
            handler=person_move,
            examples=("/leadbot person move @maria.lopez Tech Support",),
        ),
        CommandSpec(
            verb="role",
            summary="Change a person's role; it applies at once",
            usage=("/leadbot person role @person agent|lead|manager|admin",),
            handler=person_role,
            examples=("/leadbot person role @maria.lopez lead",),
        ),
        CommandSpec(
            verb="manager",
            summary="Set who a person reports to",
            usage=("/leadbot person manager @person @manager|none",),
            handler=person_manager,
            examples=("/leadbot person manager @sam.carter @alex.morgan",),
        ),
        CommandSpec(
            verb="list",
            summary="The roster: everyone, a team, the deactivated, or those not reachable yet",
            usage=("/leadbot person list [TEAM|none|deactivated|unreachable]",),
            handler=person_list,
            examples=("/leadbot person list Billing", "/leadbot person list unreachable"),
        ),
    ),
)

TEAM = CommandSpec(
    verb="team",
    summary="List teams; admins create and change them (managers: their teams' settings)",
    subcommands=(
        CommandSpec(
            verb="create",
            summary="Create a team (admins)",
            usage=("/leadbot team create NAME [tz=Area/City]",),
            handler=team_create,
            examples=("/leadbot team create Billing tz=Europe/Dublin",),
        ),
        CommandSpec(
            verb="add",
            summary="Put a person in a team with a role (admins)",
            usage=("/leadbot team add @person TEAM as agent|lead|manager|admin",),
            handler=team_add,
            examples=("/leadbot team add @maria.lopez Billing as agent",),
        ),
        CommandSpec(
            verb="list",
            summary="Every team with its time zone, lead, manager and agents",
            usage=("/leadbot team list",),
            handler=team_list,
        ),
        CommandSpec(
            verb="rename",
            summary="Rename a team (admins)",
            usage=("/leadbot team rename OLD to NEW",),
            handler=team_rename,
            examples=("/leadbot team rename Tech Support to Customer Care",),
        ),
        CommandSpec(
            verb="lead",
            summary="Set a team's lead; the former lead's 1:1s and items go to them (admins)",
            usage=("/leadbot team lead TEAM @person|none",),
            handler=team_lead,
            examples=("/leadbot team lead Billing @lee.lead",),
        ),
        CommandSpec(
            verb="manager",
            summary="Set a team's manager (admins)",
            usage=("/leadbot team manager TEAM @manager|none",),
            handler=team_manager,
            examples=("/leadbot team manager Billing @alex.morgan",),
        ),
        CommandSpec(
            verb="timezone",
            summary="Set a team's time zone (admins, the team's manager)",
            usage=("/leadbot team timezone TEAM Area/City",),
            handler=team_timezone,
            aliases=("tz",),
            examples=("/leadbot team timezone Billing Europe/Dublin",),
        ),
        CommandSpec(
            verb="post",
            summary="When the daily goal update goes out: time and work days (admins, manager)",
            usage=("/leadbot team post TEAM [HH:MM] [DAYS]",),
            handler=team_post,
            examples=(
                "/leadbot team post Billing 08:30 Mon-Sat",
                "/leadbot team post Night Sun-Thu",
            ),
        ),
        CommandSpec(
            verb="archive",
            summary="Archive a team: history kept, nothing scheduled, name freed (admins)",
            usage=("/leadbot team archive TEAM",),
            handler=team_archive,
            examples=("/leadbot team archive Retention",),
        ),
    ),
)

COMMAND = CommandSpec(
    verb="leadbot",
    summary="Help, your home view, who you are, and (admins) setting up teams and people",
    handler=_commands,
    subcommands=(
        CommandSpec(
            verb="help",
            summary="The command list, or one command's (or sub-command's) usage and examples",
            usage=("/leadbot help [COMMAND [SUB]]",),
            handler=_help,
            examples=("/leadbot help stats", "/leadbot help goal set"),
        ),
        CommandSpec(
            verb="whoami",
            summary="Who leadbot thinks you are: email, role, team and time zone",
            usage=("/leadbot whoami",),
            handler=_whoami,
        ),
        CommandSpec(
            verb="home",
            summary="Your home view: your figures, 1:1s, action items and pulse",
            usage=("/leadbot home",),
            handler=_home,
        ),
        CommandSpec(
            verb="setup",
            summary="The setup checklist: what is missing and how to fix it (admins)",
            usage=("/leadbot setup",),
            handler=setup_command,
        ),
        CommandSpec(
            verb="link",
            summary="Make this channel a team's channel: its daily update, shout-outs, alerts",
            usage=("/leadbot link [team NAME]",),
            handler=link,
            examples=("/leadbot link", "/leadbot link team Billing"),
        ),
        CommandSpec(
            verb="unlink",
            summary="Stop posting a team's updates in its channel",
            usage=("/leadbot unlink [team NAME]",),
            handler=unlink,
            examples=("/leadbot unlink team Billing",),
        ),
        PERSON,
        TEAM,
        DASHBOARD,
    ),
    examples=("/leadbot help stats", "/leadbot team create Billing tz=Europe/Dublin"),
)

BUTTONS = ActionSpec(prefix="leadbot", handler=_button)
