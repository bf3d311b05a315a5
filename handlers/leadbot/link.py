"""`/leadbot link` and `/leadbot unlink`: a team's channel, linked only on purpose.

Run in the channel. The team's lead, its manager and admins may; the confirmation names
the team and what leadbot will post there. Nothing is linked by using leadbot in a
channel.
"""

from __future__ import annotations

from domain.errors import NotAllowed, UsageError
from domain.parsing import Args
from domain.roles import Role
from domain.types import Actor, Command, Platform, Reply, Token
from handlers.core.context import HandlerContext
from handlers.leadbot.admin import reply_with, take_team
from storage import people
from storage.models import Team

POSTS = "the daily goal update, kudos shout-outs and team alerts"


def may_link(actor: Actor, team: Team) -> bool:
    """The team's lead, its manager, and admins choose its channel."""
    if actor.role is Role.admin:
        return True
    if actor.role is Role.manager and team.manager_id == actor.person_id:
        return True
    return actor.role is Role.lead and team.lead_id == actor.person_id


async def _team_of(cmd: Command, rest: list[Token], ctx: HandlerContext) -> Team:
    """`team NAME` when given, else the one team the actor leads or manages."""
    if rest and isinstance(rest[0], str) and rest[0].lower() == "team":
        rest = rest[1:]
    if rest:
        team, extra = await take_team(ctx, rest)
        if extra:
            raise UsageError("Give only the team's name, e.g. `/leadbot link team Billing`.")
        return team
    actor = cmd.actor
    mine = [
        t
        for t in await people.list_teams(ctx.db)
        if t.lead_id == actor.person_id or t.manager_id == actor.person_id
    ]
    if len(mine) == 1:
        return mine[0]
    raise UsageError("Name the team, e.g. `/leadbot link team Billing`.")


def _leaders_only(actor: Actor) -> None:
    if actor.role is Role.agent:
        raise NotAllowed("Only a team's lead, its manager and admins can choose its channel.")


def _platform_of(cmd: Command) -> str:
    if cmd.platform is Platform.slack:
        return "slack"
    if cmd.platform is Platform.teams:
        return "teams"
    raise UsageError("Channels are linked in Slack or Teams: run this in the team's channel.")


async def link(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/leadbot link [team NAME]`, in the channel to link."""
    _leaders_only(cmd.actor)
    platform = _platform_of(cmd)
    team = await _team_of(cmd, list(args.rest()), ctx)
    if not may_link(cmd.actor, team):
        raise NotAllowed(f"Only {team.name}'s lead, its manager and admins can choose its channel.")
    if cmd.channel_ref is None:
        raise UsageError(
            "Run `/leadbot link` in the team's channel itself (not in a direct message)."
        )
    here = cmd.channel_name or "this channel"
    if cmd.channel_team_id is not None and cmd.channel_team_id == team.id:
        return reply_with(f"{here} is already *{team.name}*'s channel.")
    assert team.id is not None
    _team, taken_from = await people.link_channel(
        ctx.db,
        team_id=team.id,
        platform=platform,
        channel_ref=cmd.channel_ref,
        by=cmd.actor.person_id,
    )
    lines = [f"leadbot will post {POSTS} here."]
    if taken_from is not None:
        lines.append(f"It was *{taken_from.name}*'s channel: {taken_from.name} has none now.")
    if platform == "slack":
        lines.append("If I'm not in the channel yet, invite me with `/invite @leadbot`.")
    return reply_with(f"{here} is now *{team.name}*'s channel.", lines)


async def unlink(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/leadbot unlink [team NAME]`: the team has no channel (its posts stop)."""
    _leaders_only(cmd.actor)
    platform = _platform_of(cmd)
    rest = list(args.rest())
    if rest or cmd.channel_team_id is None:
        team = await _team_of(cmd, rest, ctx)
    else:
        found = await people.get_team(ctx.db, team_id=cmd.channel_team_id)
        if found is None:
            raise UsageError("Name the team, e.g. `/leadbot unlink team Billing`.")
        team = found
    if not may_link(cmd.actor, team):
        raise NotAllowed(f"Only {team.name}'s lead, its manager and admins can choose its channel.")
    linked = team.slack_channel_id if platform == "slack" else team.teams_channel_ref
    if not linked:
        return reply_with(f"*{team.name}* has no channel linked.")
    assert team.id is not None
    await people.link_channel(
        ctx.db, team_id=team.id, platform=platform, channel_ref=None, by=cmd.actor.person_id
    )
    return reply_with(
        f"*{team.name}* has no channel now.",
        [
            f"leadbot stops posting {POSTS} for it; kudos still reach the people by DM. "
            "Link one with `/leadbot link` in the channel."
        ],
    )
