"""The live side the scheduler runs: store observations, evaluate every rule on every
queue, edit incident messages and wallboards, all through the outbox.

One tick reads the rules, the queues' latest observations, the evaluation states and the
open incidents in four queries; only what changed is written, each rule-and-queue change
in its own compare-and-set transaction (storage/alerts.py), so two schedulers never open,
edit or escalate an incident twice, and a restart picks the open incidents up from the
database instead of announcing them again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from domain.alerts import Event, Hold, RuleSpec, evaluate, metric_value, when_to_post
from domain.fmt import fmt_value
from domain.live import (
    INTERVAL_MAX_AGE,
    INTERVAL_WINDOW,
    LiveSource,
    Observation,
    window_from_intervals,
    with_window,
)
from domain.localtime import local_today
from handlers.alerts.render import escalation_reply, incident_reply, metric_of, wallboard_reply
from handlers.core.context import HandlerContext
from storage import alerts, intervals, people
from storage.models import AlertIncident, AlertRule, AlertState, Person, Team

log = logging.getLogger(__name__)


@dataclass
class TickStats:
    evaluated: int = 0
    opened: int = 0
    edited: int = 0
    resolved: int = 0
    escalated: int = 0
    lost_races: int = 0
    wallboards: int = 0


def spec_of(rule: AlertRule) -> RuleSpec:
    return RuleSpec(
        metric=rule.metric,
        op=rule.op,
        warning=rule.warning,
        critical=rule.critical,
        onset=dt.timedelta(minutes=rule.onset_minutes),
        cooldown=dt.timedelta(minutes=rule.cooldown_minutes),
        clear=dt.timedelta(minutes=rule.clear_minutes),
        escalate=dt.timedelta(minutes=rule.escalate_minutes) if rule.escalate_minutes else None,
    )


async def ingest(ctx: HandlerContext, observations: Sequence[Observation]) -> int:
    """Store observations (a poller's or a push's); returns how many queues were stored."""
    stored, unknown = await alerts.save_observations(
        ctx.db, observations=observations, now=ctx.now()
    )
    if unknown:
        log.warning(
            "live: observations name teams leadbot does not have: %s", ", ".join(unknown[:5])
        )
    return stored


async def poll(ctx: HandlerContext, sources: Sequence[LiveSource]) -> int:
    """Ask each source once and store what it says; a failing source is logged and the
    others go on. Returns how many queues were stored."""
    total = 0
    for source in sources:
        try:
            found = await source.observe()
        except Exception as exc:
            log.warning("live source %s failed: %s: %s", source.name, type(exc).__name__, exc)
            continue
        total += await ingest(ctx, await _with_intervals(ctx, found))
    return total


async def _with_intervals(ctx: HandlerContext, found: Sequence[Observation]) -> list[Observation]:
    """The pollers give real-time figures; service level, abandonment and ASA over the
    last 30 minutes come from the KPI connectors' pulled intervals of the same queue."""
    lacking = [o.queue_id for o in found if o.offered is None]
    if not lacking:
        return list(found)
    now = ctx.now()
    recent = await intervals.recent_queue_intervals(
        ctx.db, queue_ids=lacking, since=now - INTERVAL_MAX_AGE - INTERVAL_WINDOW
    )
    return [
        with_window(o, window_from_intervals(recent.get(o.queue_id, ()), now=now)) for o in found
    ]


@dataclass
class _World:
    teams: dict[int, Team]
    people: dict[int, Person]
    states: dict[tuple[int, str], AlertState]
    incidents: dict[int, AlertIncident]


def _hours(rule: AlertRule, team: Team, world: _World) -> tuple[str, str]:
    """(shift pattern, zone) an alert follows: the rule's own, or the lead's."""
    if rule.hours:
        return rule.hours, team.timezone
    lead = world.people.get(team.lead_id or 0)
    if lead is None:
        return "always", team.timezone
    return lead.work_hours, lead.timezone


def _needs_refresh(
    ctx: HandlerContext, inc: AlertIncident | None, value: float | None, now: dt.datetime
) -> bool:
    """An open incident's message is edited for a new value at most every
    ALERT_UPDATE_SECONDS, and only when the value shown would change."""
    if inc is None or value is None:
        return False
    unit = metric_of(inc.metric).unit
    if fmt_value(unit, value) == fmt_value(unit, inc.value):
        return False
    return (now - inc.updated_at).total_seconds() >= ctx.settings.alert_update_seconds


class _Renderer:
    """Renders an incident in its team's zone, with the queue's latest figures."""

    def __init__(self, team: Team, world: _World, obs: Observation, now: dt.datetime) -> None:
        self.team, self.world, self.obs, self.now = team, world, obs, now

    def incident(self, inc: AlertIncident) -> str:
        acked = self.world.people.get(inc.acked_by_id or 0)
        return incident_reply(
            inc,
            tz=self.team.timezone,
            now=self.now,
            acked_by=acked.display_name if acked else None,
            obs=self.obs,
        ).to_json()

    def escalation(self, inc: AlertIncident) -> str:
        return escalation_reply(inc, team=self.team, tz=self.team.timezone, now=self.now).to_json()


async def _step(
    ctx: HandlerContext,
    rule: AlertRule,
    obs: Observation,
    world: _World,
    now: dt.datetime,
    stats: TickStats,
) -> None:
    assert rule.id is not None
    team = world.teams.get(rule.team_id)
    if team is None:
        return
    row = world.states.get((rule.id, obs.queue_id))
    state = alerts.state_of(row)
    value = None if obs.stale(now) else metric_value(rule.metric, obs)
    decision = evaluate(spec_of(rule), state, value, now)
    stats.evaluated += 1
    inc = world.incidents.get(row.incident_id) if row is not None and row.incident_id else None
    refresh = decision.state.open and not decision.events and _needs_refresh(ctx, inc, value, now)
    base = alerts.Step(
        rule=rule,
        queue_id=obs.queue_id,
        queue_name=obs.queue_name,
        version=row.version if row is not None else None,
        state=decision.state,
        events=decision.events,
        value=value,
        refresh=refresh,
    )
    if not decision.events and not refresh:
        if decision.state != state and not await alerts.save_state(ctx.db, step=base):
            stats.lost_races += 1
        return
    pattern, tz = _hours(rule, team, world)
    hold, post_at = when_to_post(pattern, tz, now, rule.outside)
    render = _Renderer(team, world, obs, now)
    escalate = Event.escalated in decision.events and hold is not Hold.drop
    step = dataclasses.replace(
        base,
        post_at=post_at,
        escalate_to=team.manager_id if escalate else None,
        escalate_at=post_at,
        escalation=render.escalation,
    )
    done = await alerts.apply_step(ctx.db, step=step, now=now, render=render.incident)
    if done is None:
        stats.lost_races += 1
        return
    _count(stats, decision.events, refresh)


def _count(stats: TickStats, events: tuple[Event, ...], refresh: bool) -> None:
    stats.opened += Event.opened in events
    stats.resolved += Event.resolved in events
    stats.escalated += Event.escalated in events
    stats.edited += bool(refresh or (events and Event.opened not in events))


async def evaluate_all(ctx: HandlerContext, *, now: dt.datetime | None = None) -> TickStats:
    """Evaluate every active rule on every queue it covers, once."""
    now = now or ctx.now()
    stats = TickStats()
    rules = await alerts.list_rules(ctx.db, active_only=True)
    if not rules:
        return stats
    rows = await alerts.live_queues(ctx.db)
    queues = [alerts.observation_of(q) for q in rows]
    team_of = {q.queue_id: q.team_id for q in rows}
    teams = {t.id: t for t in await people.list_teams(ctx.db) if t.id is not None}
    leads = [t.lead_id for t in teams.values() if t.lead_id]
    world = _World(
        teams=teams,
        people=await people.get_people(ctx.db, person_ids=leads),
        states=await alerts.load_states(ctx.db, rule_ids=[r.id for r in rules if r.id]),
        incidents={i.id: i for i in await alerts.open_incidents(ctx.db) if i.id is not None},
    )
    acked = [i.acked_by_id for i in world.incidents.values() if i.acked_by_id]
    world.people.update(await people.get_people(ctx.db, person_ids=acked))
    for rule in rules:
        for obs in queues:
            if team_of.get(obs.queue_id) != rule.team_id:
                continue
            if rule.queue_key and rule.queue_key != obs.queue_id:
                continue
            try:
                await _step(ctx, rule, obs, world, now, stats)
            except Exception:
                log.exception(
                    "alert rule %s on queue %s could not be evaluated", rule.id, obs.queue_id
                )
    return stats


# --- wallboards ------------------------------------------------------------------------------


async def wallboard_payload(
    ctx: HandlerContext,
    team: Team,
    *,
    now: dt.datetime,
    final: bool = False,
    stopped_by: str | None = None,
) -> str:
    assert team.id is not None
    wb = await alerts.get_wallboard(ctx.db, team_id=team.id)
    queues = [
        alerts.observation_of(q) for q in await alerts.live_queues(ctx.db, team_ids=[team.id])
    ]
    rules = await alerts.list_rules(ctx.db, team_ids=[team.id])
    open_count = len(await alerts.open_incidents(ctx.db, team_ids=[team.id]))
    return wallboard_reply(
        team,
        queues,
        rules,
        wb=wb,
        now=now,
        open_count=open_count,
        final=final,
        stopped_by=stopped_by,
    ).to_json()


async def refresh_wallboards(ctx: HandlerContext, *, now: dt.datetime | None = None) -> int:
    """Edit each running wallboard whose interval has passed; returns how many."""
    now = now or ctx.now()
    done = 0
    for wb in await alerts.active_wallboards(ctx.db):
        assert wb.id is not None
        if (now - wb.updated_at).total_seconds() < wb.interval_seconds - 0.5:
            continue
        team = await people.get_team(ctx.db, team_id=wb.team_id)
        if team is None:
            continue
        payload = await wallboard_payload(ctx, team, now=now)
        day = local_today(now, team.timezone)
        if await alerts.refresh_wallboard(
            ctx.db, wallboard_id=wb.id, seen=wb.updated_at, now=now, day=day, payload=payload
        ):
            done += 1
    return done


async def tick(ctx: HandlerContext, *, now: dt.datetime | None = None) -> TickStats:
    """One run of the frequent alert job: rules, then wallboards."""
    now = now or ctx.now()
    stats = await evaluate_all(ctx, now=now)
    stats.wallboards = await refresh_wallboards(ctx, now=now)
    return stats


async def open_incident_ids(ctx: HandlerContext, *, team_id: int | None = None) -> list[int]:
    """The ids of the open incidents (of one team), oldest first."""
    found = await alerts.open_incidents(ctx.db, team_ids=[team_id] if team_id is not None else None)
    return [i.id for i in found if i.id is not None]
