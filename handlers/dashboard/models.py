"""The dashboard's page models: plain data, no HTML. bot/web renders them (templates),
and their `chart()` is what the data endpoints answer as JSON.

Every chart a page has also exists here as rows (a table), so the page can show it as
text: the chart is never the only way to read a figure.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from handlers.core.series import Goal, Series, epoch

Level = Literal["good", "near", "bad", "none"]


@dataclass(frozen=True)
class NavLink:
    label: str
    href: str
    current: bool = False


@dataclass(frozen=True)
class Cell:
    text: str
    level: Level
    mark: str = ""  # ✓ / ✗: colour is never the only carrier


@dataclass(frozen=True)
class HeatRow:
    person_id: int
    name: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Heatmap:
    columns: tuple[str, ...]  # metric labels
    goals: tuple[str, ...]  # each column's goal, "" without one
    rows: tuple[HeatRow, ...]


@dataclass(frozen=True)
class DayCurve:
    """A day's figure per interval, or (without interval data) per day: see intraday.py."""

    title: str
    note: str
    label: str
    unit: str
    kind: Literal["intraday", "daily"]
    x: tuple[int, ...]  # epoch seconds
    labels: tuple[str, ...]  # each point's x as shown
    values: tuple[float | None, ...]
    texts: tuple[str, ...]

    def chart(self) -> dict[str, Any]:
        return {
            "key": "curve",
            "label": self.label,
            "unit": self.unit,
            "kind": self.kind,
            "x": list(self.x),
            "y": list(self.values),
            "goal": None,
        }


@dataclass(frozen=True)
class Period:
    days: int
    start: dt.date
    end: dt.date
    text: str
    choices: tuple[int, ...]


@dataclass(frozen=True)
class Page:
    """What every page has: its title, the nav for this person, and who they are."""

    title: str
    nav: tuple[NavLink, ...]
    viewer: str
    role: str


@dataclass(frozen=True)
class TeamPage:
    page: Page
    team_id: int
    team_name: str
    period: Period
    series: tuple[Series, ...]
    heatmap: Heatmap
    curve: DayCurve | None
    data_url: str

    def chart(self) -> dict[str, Any]:
        return _charts(self.series, self.curve)


@dataclass(frozen=True)
class AgentPage:
    page: Page
    person_id: int
    name: str
    team_name: str
    period: Period
    series: tuple[Series, ...]
    data_url: str

    def chart(self) -> dict[str, Any]:
        return _charts(self.series, None)


@dataclass(frozen=True)
class TeamColumn:
    team_id: int
    name: str
    lead: str
    agents: int


@dataclass(frozen=True)
class ManagerMetric:
    """One metric across teams: each team's period figure and its daily line."""

    key: str
    label: str
    unit: str
    cells: tuple[Cell, ...]  # one per team, in the page's team order
    goals: tuple[str, ...]
    days: tuple[dt.date, ...]
    lines: tuple[tuple[float | None, ...], ...]  # one per team


@dataclass(frozen=True)
class ManagerPage:
    page: Page
    period: Period
    teams: tuple[TeamColumn, ...]
    metrics: tuple[ManagerMetric, ...]
    data_url: str

    def chart(self) -> dict[str, Any]:
        return {
            "charts": {
                m.key: {
                    "key": m.key,
                    "label": m.label,
                    "unit": m.unit,
                    "x": [epoch(d) for d in m.days],
                    "lines": [
                        {"label": t.name, "y": list(line)}
                        for t, line in zip(self.teams, m.lines, strict=True)
                    ],
                }
                for m in self.metrics
            }
        }


@dataclass(frozen=True)
class PulsePoint:
    """One closed round as chat shows it: figures only for a shown round."""

    label: str
    shown: bool
    answers: str
    esat: float | None
    enps: float | None
    participation: float | None


@dataclass(frozen=True)
class PulseTeam:
    team_id: int
    name: str
    points: tuple[PulsePoint, ...]


@dataclass(frozen=True)
class ChatBlock:
    """A block of the chat reply, for the web: a heading, text, a table or pairs."""

    kind: str
    text: str = ""
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    align: tuple[str, ...] = ()


@dataclass(frozen=True)
class PulsePage:
    page: Page
    weeks: int
    choices: tuple[int, ...]
    team_id: int | None
    teams: tuple[PulseTeam, ...]
    blocks: tuple[ChatBlock, ...]  # exactly what `/pulse results` answers in chat
    data_url: str

    def chart(self) -> dict[str, Any]:
        return {
            "charts": {
                f"pulse-{t.team_id}": {
                    "key": f"pulse-{t.team_id}",
                    "label": t.name,
                    "x": list(range(1, len(t.points) + 1)),
                    "labels": [p.label for p in t.points],
                    "esat": [p.esat for p in t.points],
                    "enps": [p.enps for p in t.points],
                    "participation": [p.participation for p in t.points],
                }
                for t in self.teams
            }
        }


@dataclass(frozen=True)
class Ranked:
    rank: int
    name: str
    count: int


@dataclass(frozen=True)
class KudosPage:
    page: Page
    team_id: int
    team_name: str
    period: str
    period_label: str
    choices: tuple[str, ...]
    total: int
    leaderboard: tuple[Ranked, ...]
    values: tuple[tuple[str, int, str], ...]  # (value, kudos, share)
    flows: tuple[tuple[str, str, int, int], ...]  # (from, to, same team, other teams)
    quiet: tuple[tuple[str, str], ...] | None  # (agent, last recognised); None: not shown
    weeks: tuple[tuple[dt.date, int], ...]  # kudos received per week (Mondays), oldest first
    data_url: str

    def chart(self) -> dict[str, Any]:
        return {
            "charts": {
                "kudos-weeks": {
                    "key": "kudos-weeks",
                    "label": "kudos",
                    "unit": "count",
                    "x": [epoch(d) for d, _ in self.weeks],
                    "y": [n for _, n in self.weeks],
                    "goal": None,
                }
            }
        }


@dataclass(frozen=True)
class OwnerRow:
    name: str
    open: int
    overdue: int
    oldest_days: int


@dataclass(frozen=True)
class ItemRow:
    title: str
    owner: str
    due: str
    overdue_days: int
    age_days: int
    status: str


@dataclass(frozen=True)
class CadenceRow:
    lead: str
    team: str
    agents: int
    with_one_on_one: int
    on_track: int
    overdue: int  # late or lapsed
    without: int
    health: Level
    note: str


@dataclass(frozen=True)
class ActionsPage:
    page: Page
    team_id: int
    team_name: str
    owners: tuple[OwnerRow, ...]
    overdue: tuple[ItemRow, ...]
    open_total: int
    overdue_total: int
    cadence: tuple[CadenceRow, ...]


@dataclass(frozen=True)
class Landing:
    """Where `/dashboard/` sends a person, by role."""

    href: str


def _charts(series: tuple[Series, ...], curve: DayCurve | None) -> dict[str, Any]:
    out: dict[str, Any] = {"charts": {s.key: s.chart() for s in series}}
    if curve is not None:
        out["charts"]["curve"] = curve.chart()
    return out


__all__ = [
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
    "Level",
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
]
