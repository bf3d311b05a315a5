"""The web dashboard's pages as platform-neutral models (docs/leads/dashboard.md).

Each page function takes the context, the viewer (an Actor read afresh from their
session, handlers/core/signin.py) and the page's choices, checks access exactly as chat
does (handlers/core/access.py; NotAllowed and NotFound as in chat), and returns a model
from `models.py` that bot/web renders as HTML and, through `chart()`, as the JSON its
charts draw. There are no chat commands here: `/leadbot dashboard` (the sign-in link)
is handlers/leadbot's.

Modules: `nav` (pages per role, periods), `kpis` (team, agent and manager pages),
`intraday` (the day's curve, with the hook for interval data), `pulse` (chat's own
`/pulse results`, charted), `kudos`, `actions` (action items and 1:1 cadence health),
`models`.

Public surface: landing, team_page, agent_page, manager_page, pulse_page, kudos_page,
actions_page, LapseRule, the page models, PERIOD_DAYS, PULSE_WEEKS, KUDOS_PERIODS.
"""

from __future__ import annotations

from handlers.dashboard.actions import LapseRule, actions_page
from handlers.dashboard.kpis import agent_page, manager_page, team_page
from handlers.dashboard.kudos import PERIODS as KUDOS_PERIODS
from handlers.dashboard.kudos import kudos_page
from handlers.dashboard.models import (
    ActionsPage,
    AgentPage,
    CadenceRow,
    Cell,
    ChatBlock,
    DayCurve,
    Goal,
    Heatmap,
    HeatRow,
    ItemRow,
    KudosPage,
    Landing,
    ManagerMetric,
    ManagerPage,
    NavLink,
    OwnerRow,
    Page,
    Period,
    PulsePage,
    PulsePoint,
    PulseTeam,
    Ranked,
    Series,
    TeamColumn,
    TeamPage,
)
from handlers.dashboard.nav import DEFAULT_DAYS, DEFAULT_WEEKS, PERIOD_DAYS, PULSE_WEEKS, landing
from handlers.dashboard.pulse import pulse_page

__all__ = [
    "DEFAULT_DAYS",
    "DEFAULT_WEEKS",
    "KUDOS_PERIODS",
    "PERIOD_DAYS",
    "PULSE_WEEKS",
    "ActionsPage",
    "AgentPage",
    "CadenceRow",
    "Cell",
    "ChatBlock",
    "DayCurve",
    "Goal",
    "HeatRow",
    "Heatmap",
    "ItemRow",
    "KudosPage",
    "Landing",
    "LapseRule",
    "ManagerMetric",
    "ManagerPage",
    "NavLink",
    "OwnerRow",
    "Page",
    "Period",
    "PulsePage",
    "PulsePoint",
    "PulseTeam",
    "Ranked",
    "Series",
    "TeamColumn",
    "TeamPage",
    "actions_page",
    "agent_page",
    "kudos_page",
    "landing",
    "manager_page",
    "pulse_page",
    "team_page",
]
