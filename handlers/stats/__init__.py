"""`/stats`: a team's KPIs against its goals, a person's own figures, per-agent breakdowns.

- `/stats` (leads, managers): the team, yesterday and the last 7 days vs goals, the change
  from the 7 days before and a 14-day sparkline; a manager of several teams sees them side
  by side. Agents get their own figures.
- `/stats me`, `/stats @person`, `/stats team NAME`, each with an optional period
  (domain/periods.py) and an optional metric: `/stats aht week` ranks the team's agents
  on that metric, best first (lower is better for AHT), the worst flagged.

Figures come from storage.kpis sums, combined per metric (domain/kpi.py); the metric
names, the catalogue and the goal rules are shared with `/goal` and the daily goal update
through handlers/core/metrics.py.

Modules: request (reading the words), commands (the handlers), person, team, manager and
breakdown (the views), figures and render (what the views share), home (the home section).

Public surface: COMMAND and home_section (registered in handlers/registry.py).
"""

from __future__ import annotations

from handlers.core.access import checked
from handlers.core.context import CommandSpec
from handlers.stats.commands import stats, stats_chart, stats_me, stats_team
from handlers.stats.home import home_section

__all__ = ["COMMAND", "home_section"]

COMMAND = CommandSpec(
    verb="stats",
    summary="Team KPIs against goals, your own figures, per-agent breakdowns",
    usage=(
        "/stats [PERIOD]                       your team (leads, managers); your own (agents)",
        "/stats @person [METRIC] [PERIOD]",
        "/stats METRIC [PERIOD]                every agent on one metric, best first",
        "/stats METRIC chart [PERIOD]          its trend as a chart (me, @person, team too)",
        "PERIOD: today | yesterday | week | month | 30d | YYYY-MM-DD[..YYYY-MM-DD]",
    ),
    handler=stats,
    subcommands=(
        CommandSpec(
            verb="me",
            summary="Your own figures: every metric, or one metric day by day",
            usage=("/stats me [METRIC] [PERIOD]",),
            handler=stats_me,
            examples=("/stats me", "/stats me month", "/stats me aht week"),
        ),
        CommandSpec(
            verb="team",
            summary="One of your teams: its figures, or its agents on one metric",
            usage=("/stats team NAME [METRIC] [PERIOD]",),
            handler=stats_team,
            examples=("/stats team Billing", "/stats team Billing csat 30d"),
        ),
        CommandSpec(
            verb="chart",
            summary="One metric's trend over a period as a chart, against its goal",
            usage=(
                "/stats chart METRIC [PERIOD]          your team's trend (agents: your own)",
                "/stats chart [me|@person|team NAME] METRIC [PERIOD]",
                "PERIOD: week | month | 30d (default) | YYYY-MM-DD..YYYY-MM-DD, two days or more",
            ),
            handler=stats_chart,
            examples=(
                "/stats aht chart week",
                "/stats me csat chart month",
                "/stats team Billing fcr chart 30d",
            ),
        ),
    ),
    examples=(
        "/stats",
        "/stats aht week",
        "/stats aht chart month",
        "/stats me month",
        "/stats team Billing csat 30d",
    ),
)
COMMAND = checked(COMMAND)  # every sub-command reads its actor's role and team now
