"""The `/stats` handlers: read the words, then answer about a person or a team.

Who may see what: anyone their own figures; a lead or manager the people and teams
under them (handlers/core/access.py). A bare `/stats` is a leader's team, and an agent's
own figures.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.errors import NotAllowed, UsageError
from domain.parsing import Args
from domain.roles import LEADERS, Role
from domain.types import Command, Reply
from handlers.core.context import HandlerContext
from handlers.core.metrics import metric_catalogue
from handlers.stats.person import person_stats
from handlers.stats.request import (
    StatsRequest,
    as_me,
    read_chart_request,
    read_me_request,
    read_request,
    read_team_request,
)
from handlers.stats.team import team_stats
from storage.models import Metric


async def stats(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/stats [@person] [METRIC] [PERIOD]` (the words in any order)."""
    metrics = await metric_catalogue(ctx.db)
    return await _answer(cmd, ctx, metrics, await read_request(cmd, args, ctx, metrics))


async def stats_chart(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/stats chart [@person|me|team NAME] METRIC [PERIOD]`."""
    metrics = await metric_catalogue(ctx.db)
    return await _answer(cmd, ctx, metrics, await read_chart_request(cmd, args, ctx, metrics))


async def stats_me(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/stats me [METRIC] [PERIOD]`."""
    metrics = await metric_catalogue(ctx.db)
    return await _answer(cmd, ctx, metrics, await read_me_request(cmd, args, ctx, metrics))


async def stats_team(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/stats team NAME [METRIC] [PERIOD]`."""
    metrics = await metric_catalogue(ctx.db)
    return await _answer(cmd, ctx, metrics, await read_team_request(cmd, args, ctx, metrics))


async def _answer(
    cmd: Command, ctx: HandlerContext, metrics: Sequence[Metric], req: StatsRequest
) -> Reply:
    if req.chart and req.metric is None:
        raise UsageError("Name the metric to chart, e.g. `/stats aht chart month`.")
    if req.about_a_person:
        return await person_stats(ctx, cmd.actor, req, metrics)
    if cmd.actor.role is Role.agent:
        if req.team is not None:
            raise NotAllowed("Agents can see their own figures only (try `/stats me`).")
        # A bare /stats (with a period or metric) is about oneself for an agent.
        return await person_stats(ctx, cmd.actor, await as_me(ctx, cmd, req), metrics)
    if cmd.actor.role not in LEADERS:
        raise NotAllowed("Only leads and managers can see team figures (try `/stats me`).")
    return await team_stats(ctx, cmd, req, metrics)
