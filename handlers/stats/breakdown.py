"""Every agent of a team on one metric (`/stats aht week`), best first, direction-aware.

The best agent is marked, the lowest flagged; a big team shows its two ends and says how
many are left out in the middle; agents without figures are named under the table. A
queue metric (service level, ...) measured for the team only gets the team's figure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from domain.fmt import fmt_value, sparkline
from domain.kpi import ZERO, DaySums, Sums, combine
from domain.periods import Period
from domain.roles import Role
from domain.types import Block, Context, Header, Reply, Table, Text
from handlers.core.context import HandlerContext
from handlers.core.metrics import (
    SPARK_DAYS,
    enough,
    goal_text,
    sample_of,
    sample_text,
    team_per_day,
)
from handlers.stats.figures import (
    Figure,
    delta_cell,
    judge,
    make_figure,
    spark_days,
    value_cell,
)
from handlers.stats.render import no_data
from storage import kpis, people
from storage.models import Goal, Metric, Person, Team

MAX_BREAKDOWN_ROWS = 30


@dataclass
class _Folded:
    """The per-person, per-day sums folded into what the view needs, in one pass."""

    cur: dict[int, Sums] = field(default_factory=dict)  # each person over the period
    prev: dict[int, Sums] = field(default_factory=dict)  # ... over the period before
    daily: dict[tuple[int, dt.date], Sums] = field(default_factory=dict)  # sparkline days
    team_rows: dict[dt.date, Sums] = field(default_factory=dict)  # the queue's own rows
    people_rows: dict[dt.date, Sums] = field(default_factory=dict)  # everyone's, per day

    def add(
        self, pid: int | None, day: dt.date, sums: Sums, period: Period, spark_start: dt.date
    ) -> None:
        if pid is None:
            self.team_rows[day] = sums
            return
        self.people_rows[day] = self.people_rows.get(day, ZERO) + sums
        if period.start <= day <= period.end:
            self.cur[pid] = self.cur.get(pid, ZERO) + sums
        if period.prev_start <= day <= period.prev_end:
            self.prev[pid] = self.prev.get(pid, ZERO) + sums
        if day >= spark_start:
            self.daily[(pid, day)] = sums

    def team_days(self, metric_key: str) -> DaySums:
        return DaySums(
            team={(metric_key, d): v for d, v in self.team_rows.items()},
            people={(metric_key, d): v for d, v in self.people_rows.items()},
        )


@dataclass(frozen=True)
class _Ranking:
    ranked: list[tuple[float, str, Figure]]  # best first
    missing: list[str]  # agents without a figure


async def breakdown(
    ctx: HandlerContext, team: Team, metric: Metric, period: Period, team_goals: Sequence[Goal]
) -> Reply:
    """Every agent of the team on one metric, best first (direction-aware)."""
    assert team.id is not None
    spark_start = period.end - dt.timedelta(days=SPARK_DAYS - 1)
    raw = await kpis.metric_days_by_person(
        ctx.db,
        team_id=team.id,
        metric_key=metric.key,
        start=min(period.prev_start, spark_start),
        end=period.end,
    )
    folded = _Folded()
    for (pid, day), sums in raw.items():
        folded.add(pid, day, sums, period, spark_start)
    minimum = ctx.settings.stats_min_contacts
    team_fig = make_figure(
        metric,
        team_per_day(folded.team_days(metric.key), metric.key),
        period,
        team_goals,
        min_sample=minimum,
    )
    agents = await _agents(ctx, team, folded)
    ranking = _rank(metric, period, folded, agents, team_fig.goal, minimum)
    if not ranking.ranked:
        return _nobody_ranked(team, metric, period, team_fig)
    return _ranked_reply(team, metric, period, team_fig, ranking, minimum)


async def _agents(
    ctx: HandlerContext, team: Team, folded: _Folded
) -> tuple[set[int], dict[int, Person]]:
    """Whom to rank (the team's agents and whoever has figures), and who they are."""
    assert team.id is not None
    roster = await people.list_people(ctx.db, team_id=team.id)
    names = {p.id: p for p in roster if p.id is not None}
    ids = set(folded.cur) | {p.id for p in roster if p.role is Role.agent and p.id}
    if ids - names.keys():  # people who have since left the team
        names.update(await people.get_people(ctx.db, person_ids=list(ids - names.keys())))
    return ids, names


def _rank(
    metric: Metric,
    period: Period,
    folded: _Folded,
    agents: tuple[set[int], dict[int, Person]],
    goal: Goal | None,
    minimum: int,
) -> _Ranking:
    """Best first; agents with too few contacts to compare after everyone else."""
    ids, names = agents
    ranked: list[tuple[float, str, Figure]] = []
    missing: list[str] = []
    for pid in ids:
        p = names.get(pid)
        name = p.display_name if p else f"#{pid}"
        s = folded.cur.get(pid)
        value = combine(metric.aggregation, s) if s else None
        if value is None:
            missing.append(name)
            continue
        fig = _agent_figure(metric, period, folded, pid, value, goal, minimum)
        ranked.append((value, name, fig))
    ranked.sort(
        key=lambda r: (r[2].few is not None, -r[0] if metric.higher_is_better else r[0], r[1])
    )
    return _Ranking(ranked, missing)


def _agent_figure(
    metric: Metric,
    period: Period,
    folded: _Folded,
    pid: int,
    value: float,
    goal: Goal | None,
    minimum: int,
) -> Figure:
    s = folded.cur.get(pid)
    ps = folded.prev.get(pid)
    few = (
        None
        if s is not None and enough(metric, s, minimum)
        else sample_text(metric, sample_of(metric, s or ZERO))
    )
    days = spark_days(period.end)
    spark = sparkline([combine(metric.aggregation, folded.daily.get((pid, d), ZERO)) for d in days])
    return Figure(
        metric=metric,
        value=value,
        prev=combine(metric.aggregation, ps) if ps else None,
        volume=s.w if s else 0,
        spark=spark,
        goal=goal,
        hit=None if few else judge(goal, value, metric),
        few=few,
        prev_few=ps is None or not enough(metric, ps, minimum),
    )


def _nobody_ranked(team: Team, metric: Metric, period: Period, team_fig: Figure) -> Reply:
    if team_fig.value is not None:
        text = (
            f"{metric.name} for {team.name} is {fmt_value(metric.unit, team_fig.value)} "
            f"over {period.label}; it is measured for the queue, not per agent."
        )
        return Reply(blocks=[Header(f"{metric.name} · {team.name}"), Text(text)], text=text)
    return no_data(f"{team.name} ({metric.name})", period.start)


def _both_ends(
    ranked: list[tuple[float, str, Figure]],
) -> tuple[list[tuple[int, tuple[float, str, Figure]]], int]:
    """The rows to show, numbered from 1, and how many were cut from the middle."""
    shown = list(enumerate(ranked, start=1))
    if len(ranked) <= MAX_BREAKDOWN_ROWS:
        return shown, 0
    half = MAX_BREAKDOWN_ROWS // 2
    return shown[:half] + shown[-half:], len(ranked) - 2 * half


def _flag(rank: int, n: int, fig: Figure) -> str:
    """`best` and `⚠ lowest` among the `n` agents with enough contacts to compare."""
    if fig.few:
        return fig.few
    if n > 1 and rank == 1:
        return "best"
    if n > 1 and rank == n:
        return "⚠ lowest"
    return ""


def _summary(metric: Metric, team_fig: Figure, ranked: list[tuple[float, str, Figure]]) -> str:
    g = team_fig.goal
    summary = f"Team *{value_cell(team_fig)}*"
    if g is not None:
        summary += f" (goal {goal_text(metric, g)})"
    summary += f", {delta_cell(team_fig)} vs the period before."
    if g is not None:
        judged = [f for _, _, f in ranked if f.hit is not None]
        on = sum(1 for f in judged if f.hit)
        summary += f" {on} of {len(judged)} agents on goal."
    return summary


def _ranked_reply(
    team: Team,
    metric: Metric,
    period: Period,
    team_fig: Figure,
    ranking: _Ranking,
    minimum: int,
) -> Reply:
    n = sum(1 for _, _, f in ranking.ranked if not f.few)
    shown, cut = _both_ends(ranking.ranked)
    rows = tuple(
        (
            str(rank),
            name,
            value_cell(fig),
            f"{fig.volume:,.0f}",
            delta_cell(fig),
            fig.spark,
            _flag(rank, n, fig),
        )
        for rank, (_v, name, fig) in shown
    )
    title = f"{metric.name} · {team.name} · {period.label}"
    if period.key != "range":
        title += f" ({period.range_text})"
    better = "lower" if not metric.higher_is_better else "higher"
    blocks: list[Block] = [
        Header(title),
        Text(_summary(metric, team_fig, ranking.ranked)),
        Table(
            ("#", "agent", metric.key, "contacts", "Δ", "14 days", ""),
            rows,
            ("r", "l", "r", "r", "r", "l", "l"),
        ),
    ]
    notes = [f"Best first ({better} is better)."]
    if cut:
        notes.append(f"{cut} agents in the middle not shown.")
    if n < len(ranking.ranked):
        notes.append(
            f"Agents with fewer than {minimum:,} contacts come last, not compared or judged."
        )
    if ranking.missing:
        notes.append("No figures: " + ", ".join(sorted(ranking.missing)) + ".")
    blocks.append(Context(" ".join(notes)))
    text = title + "\n" + "\n".join(f"{r[0]}. {r[1]}: {r[2]} {r[6]}".rstrip() for r in rows)
    return Reply(blocks=blocks, text=text)
