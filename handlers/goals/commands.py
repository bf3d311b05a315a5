"""The `/goal` handlers: set, list and clear (a bare `/goal` lists).

Leads set and clear goals for their own team, managers for the teams they manage (a
manager of several teams names one with `team NAME`, unless the command comes from a
team's linked channel; without it they are asked which). Everyone may list their own
team's goals: they are what the team works towards.
"""

from __future__ import annotations

from domain.errors import NotFound
from domain.fmt import fmt_goal
from domain.parsing import Args
from domain.roles import Role, require_role
from domain.types import Command, Reply, Text
from handlers.core.access import only_team, require_team_view, visible_team_ids
from handlers.core.context import HandlerContext
from handlers.goals.render import list_reply, set_reply
from handlers.goals.targets import (
    expect_no_more,
    read_metric,
    read_new_goal,
    read_period,
    split_team,
)
from storage import catalogue, goals, people
from storage.models import Team

_NO_TEAM = "You aren't in a team yet, so there are no goals to show."


async def goal_set(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/goal set METRIC OP TARGET [daily|weekly|monthly] [team NAME]`."""
    require_role(cmd.actor, Role.lead, Role.manager, doing="set or clear team goals")
    words, team_words = split_team(args)
    new = read_new_goal(words, await catalogue.list_metrics(ctx.db))
    team = await _target_team(ctx, cmd, team_words)
    assert team.id is not None
    _new, old = await goals.set_goal(
        ctx.db,
        team_id=team.id,
        metric_key=new.metric.key,
        op=new.op,
        target=new.target,
        period=new.period,
        set_by_id=cmd.actor.person_id,
    )
    return set_reply(team, new, old)


async def goal_clear(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/goal clear METRIC [daily|weekly|monthly] [team NAME]`."""
    require_role(cmd.actor, Role.lead, Role.manager, doing="set or clear team goals")
    words, team_words = split_team(args)
    metrics = await catalogue.list_metrics(ctx.db)
    metric = read_metric(
        words, metrics, "Say which metric's goal to clear, e.g. `/goal clear aht`."
    )
    period = read_period(words[1]) if len(words) > 1 else None
    expect_no_more(words[2:])
    team = await _target_team(ctx, cmd, team_words)
    assert team.id is not None
    cleared = await goals.clear_goals(ctx.db, team_id=team.id, metric_key=metric.key, period=period)
    if not cleared:
        which = f"{period} " if period else ""
        text = f"{team.name} has no {which}{metric.name} goal; nothing changed."
        return Reply(blocks=[Text(text)], text=text, ok=False)
    parts = ", ".join(f"{fmt_goal(metric.unit, g.op, g.target)} {g.period}" for g in cleared)
    text = f"Cleared {team.name}'s {metric.name} goal ({parts})."
    return Reply(blocks=[Text(text)], text=text)


async def goal_list(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/goal list [team NAME]`."""
    words, team_words = split_team(args)
    expect_no_more(words)
    teams = await _listed_teams(ctx, cmd, team_words)
    if not teams:
        return Reply(blocks=[Text(_NO_TEAM)], text=_NO_TEAM)
    metrics = {m.key: m for m in await catalogue.list_metrics(ctx.db)}
    all_goals = await goals.list_goals(ctx.db, team_ids=[t.id for t in teams if t.id])
    setters = await people.get_people(
        ctx.db, person_ids=[g.set_by_id for g in all_goals if g.set_by_id]
    )
    return await list_reply(ctx, teams, all_goals, metrics, setters)


async def _named_team(ctx: HandlerContext, team_words: list[str]) -> Team:
    name = " ".join(team_words)
    team = await people.get_team_by_name(ctx.db, name=name)
    if team is None:
        raise NotFound(f"There is no team called {name!r}.")
    return team


async def _target_team(ctx: HandlerContext, cmd: Command, team_words: list[str]) -> Team:
    """The team a goal is set or cleared for: the named one, else the one the command
    can only mean (the linked channel's, or the leader's only team). A manager of several
    teams is asked which, with their names: a change never lands on a team they didn't
    name."""
    if team_words:
        team = await _named_team(ctx, team_words)
        await require_team_view(ctx, cmd.actor, team)
        return team
    return await only_team(ctx, cmd.actor, cmd.channel_team_id)


async def _listed_teams(ctx: HandlerContext, cmd: Command, team_words: list[str]) -> list[Team]:
    """The named team (one's own, or one they may see); else every team a leader sees;
    else one's own team."""
    actor = cmd.actor
    if team_words:
        team = await _named_team(ctx, team_words)
        if actor.team_id != team.id:
            await require_team_view(ctx, actor, team)
        return [team]
    if actor.role in (Role.lead, Role.manager):
        ids = await visible_team_ids(ctx, actor)
        return [t for t in await people.list_teams(ctx.db) if t.id in ids]
    own = await people.get_team(ctx.db, team_id=actor.team_id) if actor.team_id else None
    return [own] if own else []
