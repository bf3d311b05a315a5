"""`/leadbot`: help, your home view, who you are, and (admins) setting up teams.

Public surface: COMMAND (registered in handlers/registry.py).
"""

from __future__ import annotations

from domain.parsing import Args
from domain.types import Command, Header, Reply, Table
from handlers.core.context import CommandSpec, HandlerContext
from handlers.core.dispatch import unknown_subcommand
from handlers.core.help import command_list, help_for
from handlers.core.home import home
from handlers.leadbot.dashboard import DASHBOARD
from handlers.leadbot.teams import team_add, team_create, team_list
from storage import people

__all__ = ["COMMAND"]


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


TEAM = CommandSpec(
    verb="team",
    summary="List teams; admins create them and add people",
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
        TEAM,
        DASHBOARD,
    ),
    examples=("/leadbot help stats", "/leadbot team create Billing tz=Europe/Dublin"),
)
