"""Live queues, alert rules, their evaluation state, incidents and wallboards.

Every change the alert job makes to one rule on one queue (its state, its incident, the
post, the edit, the manager's DM) is one transaction guarded by the state row's
`version` (compare-and-set): a second scheduler that evaluated the same moment finds the
version moved and writes nothing. One open incident per rule and queue is also a unique
index (uq_alertincident_open).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from domain.alerts import Event, Level, State
from domain.live import Observation
from storage.db import Database
from storage.edits import EditOutcome, enqueue_edit_in
from storage.models import (
    AlertIncident,
    AlertRule,
    AlertState,
    JobRun,
    LiveQueue,
    OutboxMessage,
    OutboxStatus,
    Team,
    Wallboard,
)
from storage.outbox import OutboxNew, enqueue_in, route_team

# --- live queues ----------------------------------------------------------------------------

_OBS_FIELDS = (
    "queue_name",
    "source",
    "observed_at",
    "waiting",
    "longest_wait_seconds",
    "agents_available",
    "agents_on_queue",
    "agents_interacting",
    "window_minutes",
    "offered",
    "answered_in_sl",
    "abandoned",
    "asa_seconds",
    "occupancy",
    "sl_threshold_seconds",
    "offered_today",
    "answered_in_sl_today",
    "abandoned_today",
)


async def _team_ids_by_name(s: AsyncSession, names: Iterable[str]) -> dict[str, int]:
    keys = {n.strip().lower() for n in names if n}
    if not keys:
        return {}
    rows = await s.execute(
        sa.select(col(Team.name_key), col(Team.id)).where(col(Team.name_key).in_(keys))
    )
    return {k: int(i) for k, i in rows.all() if i is not None}


async def save_observations(
    db: Database, *, observations: Sequence[Observation], now: dt.datetime
) -> tuple[int, list[str]]:
    """Store the latest observation of each queue (an older one never replaces a newer);
    returns (queues stored, team names that match no team)."""
    if not observations:
        return 0, []
    latest: dict[str, Observation] = {}
    for o in observations:
        if o.queue_id not in latest or o.observed_at >= latest[o.queue_id].observed_at:
            latest[o.queue_id] = o
    table = LiveQueue.__table__  # type: ignore[attr-defined]
    async with db.session() as s:
        teams = await _team_ids_by_name(s, (o.team or "" for o in latest.values()))
        unknown = sorted(
            {o.team for o in latest.values() if o.team and o.team.lower() not in teams}
        )
        for o in sorted(latest.values(), key=lambda x: x.queue_id):
            values = {f: getattr(o, f) for f in _OBS_FIELDS}
            values["received_at"] = now
            team_id = teams.get((o.team or "").lower())
            insert = (postgresql.insert if db.dialect == "postgresql" else sqlite.insert)(table)
            update = dict(values)
            if team_id is not None:
                update["team_id"] = team_id
            stmt = insert.values(
                queue_id=o.queue_id, team_id=team_id, **values
            ).on_conflict_do_update(
                index_elements=["queue_id"],
                set_=update,
                where=table.c.observed_at <= insert.excluded.observed_at,
            )
            await s.execute(stmt)
    return len(latest), unknown


def observation_of(row: LiveQueue) -> Observation:
    return Observation(queue_id=row.queue_id, **{f: getattr(row, f) for f in _OBS_FIELDS})


async def live_queues(db: Database, *, team_ids: Iterable[int] | None = None) -> list[LiveQueue]:
    """The latest observation of every queue (of the given teams), by team and name."""
    async with db.session() as s:
        q = select(LiveQueue)
        if team_ids is not None:
            q = q.where(col(LiveQueue.team_id).in_(list(team_ids)))
        rows = list((await s.execute(q)).scalars())
    return sorted(rows, key=lambda r: (r.team_id or 0, (r.queue_name or r.queue_id).lower()))


async def map_queue(db: Database, *, queue_id: str, team_id: int | None) -> bool:
    """Map a queue to a team (or unmap it); False when no such queue has been observed."""
    async with db.session() as s:
        row = await s.get(LiveQueue, queue_id)
        if row is None:
            return False
        row.team_id = team_id
        return True


# --- rules ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewRule:
    team_id: int
    metric: str
    op: str
    warning: float
    critical: float
    queue_key: str = ""
    onset_minutes: int = 5
    cooldown_minutes: int = 30
    clear_minutes: int = 2
    escalate_minutes: int | None = 15
    hours: str = ""
    outside: str = "hold"
    created_by_id: int | None = None


async def add_rules(
    db: Database, *, rules: Sequence[NewRule], now: dt.datetime, replace: bool = False
) -> list[tuple[AlertRule, bool]]:
    """Add rules; a rule on the same team, queue and metric is kept as it is (created
    False) unless `replace`. A removed one comes back with the new values."""
    out: list[tuple[AlertRule, bool]] = []
    async with db.session() as s:
        for r in rules:
            existing = (
                await s.execute(
                    select(AlertRule).where(
                        col(AlertRule.team_id) == r.team_id,
                        col(AlertRule.queue_key) == r.queue_key,
                        col(AlertRule.metric) == r.metric,
                    )
                )
            ).scalar_one_or_none()
            if existing is not None and not existing.removed and not replace:
                out.append((existing, False))
                continue
            row = existing or AlertRule(
                team_id=r.team_id, metric=r.metric, op=r.op, warning=0, critical=0
            )
            for name in NewRule.__dataclass_fields__:
                setattr(row, name, getattr(r, name))
            row.removed = False
            row.paused = False
            row.updated_at = now
            if existing is None:
                row.created_at = now
                s.add(row)
            await s.flush()
            out.append((row, True))
    return out


async def list_rules(
    db: Database, *, team_ids: Iterable[int] | None = None, active_only: bool = False
) -> list[AlertRule]:
    async with db.session() as s:
        q = select(AlertRule).where(col(AlertRule.removed).is_(False))
        if team_ids is not None:
            q = q.where(col(AlertRule.team_id).in_(list(team_ids)))
        if active_only:
            q = q.where(col(AlertRule.paused).is_(False))
        return list(
            (await s.execute(q.order_by(col(AlertRule.team_id), col(AlertRule.id)))).scalars()
        )


async def get_rule(db: Database, *, rule_id: int) -> AlertRule | None:
    async with db.session() as s:
        row = await s.get(AlertRule, rule_id)
        return None if row is None or row.removed else row


@dataclass(frozen=True)
class Closing:
    """An open incident closed by a rule change, with its final message."""

    incident_id: int
    payload: str


async def change_rule(
    db: Database,
    *,
    rule_id: int,
    now: dt.datetime,
    values: dict[str, object] | None = None,
    paused: bool | None = None,
    removed: bool = False,
    closing: Sequence[Closing] = (),
    reason: str | None = None,
) -> AlertRule | None:
    """Edit, pause, resume or remove a rule; open incidents in `closing` are closed with
    their final message in the same transaction. None when there is no such rule."""
    async with db.session() as s:
        row = await s.get(AlertRule, rule_id)
        if row is None or row.removed:
            return None
        for k, v in (values or {}).items():
            setattr(row, k, v)
        if paused is not None:
            row.paused = paused
        row.removed = removed
        row.updated_at = now
        for c in closing:
            await _close_incident(s, c, now=now, reason=reason or "closed")
        if closing:
            await s.execute(
                sa.update(AlertState)
                .where(col(AlertState.rule_id) == rule_id)
                .values(
                    open=False,
                    level=0,
                    severity=0,
                    breach_since=None,
                    clear_since=None,
                    critical_since=None,
                    resolved_at=now,
                    version=col(AlertState.version) + 1,
                )
            )
        await s.flush()
        return row


async def _close_incident(s: AsyncSession, c: Closing, *, now: dt.datetime, reason: str) -> None:
    inc = await s.get(AlertIncident, c.incident_id)
    if inc is None or inc.resolved_at is not None:
        return
    inc.resolved_at = now
    inc.closed_reason = reason[:200]
    inc.updated_at = now
    if inc.posted and inc.message_id is not None:
        await enqueue_edit_in(s, original_id=inc.message_id, payload=c.payload, now=now)


# --- evaluation state and incidents ------------------------------------------------------------


def state_of(row: AlertState | None) -> State:
    if row is None:
        return State()
    return State(
        open=row.open,
        level=Level(row.level),
        severity=Level(row.severity),
        breach_since=row.breach_since,
        clear_since=row.clear_since,
        critical_since=row.critical_since,
        opened_at=row.opened_at,
        resolved_at=row.resolved_at,
        escalated=row.escalated,
        peak=row.peak,
    )


def _state_values(st: State) -> dict[str, object]:
    return {
        "open": st.open,
        "level": int(st.level),
        "severity": int(st.severity),
        "breach_since": st.breach_since,
        "clear_since": st.clear_since,
        "critical_since": st.critical_since,
        "opened_at": st.opened_at,
        "resolved_at": st.resolved_at,
        "escalated": st.escalated,
        "peak": st.peak,
    }


async def load_states(
    db: Database, *, rule_ids: Iterable[int]
) -> dict[tuple[int, str], AlertState]:
    ids = list(rule_ids)
    if not ids:
        return {}
    async with db.session() as s:
        rows = (
            await s.execute(select(AlertState).where(col(AlertState.rule_id).in_(ids)))
        ).scalars()
        return {(r.rule_id, r.queue_id): r for r in rows}


async def open_incidents(
    db: Database, *, team_ids: Iterable[int] | None = None, rule_ids: Iterable[int] | None = None
) -> list[AlertIncident]:
    async with db.session() as s:
        q = select(AlertIncident).where(col(AlertIncident.resolved_at).is_(None))
        if team_ids is not None:
            q = q.where(col(AlertIncident.team_id).in_(list(team_ids)))
        if rule_ids is not None:
            q = q.where(col(AlertIncident.rule_id).in_(list(rule_ids)))
        return list((await s.execute(q.order_by(col(AlertIncident.opened_at)))).scalars())


async def get_incident(db: Database, *, incident_id: int) -> AlertIncident | None:
    async with db.session() as s:
        return await s.get(AlertIncident, incident_id)


Render = Callable[[AlertIncident], str]


@dataclass(frozen=True)
class Step:
    """One evaluation's outcome for a rule on a queue, as the alert job decided it."""

    rule: AlertRule
    queue_id: str
    queue_name: str | None
    version: int | None  # the state row's version it was computed from; None: no row yet
    state: State
    events: tuple[Event, ...] = ()
    value: float | None = None
    refresh: bool = False  # re-render the open incident's message (a new value)
    post_at: dt.datetime | None = None  # when a new post may go out (None: dropped)
    escalate_to: int | None = None  # the manager to DM on escalation
    escalate_at: dt.datetime | None = None
    escalation: Callable[[AlertIncident], str] | None = None
    extra: tuple[OutboxNew, ...] = field(default=())


async def _cas_state(s: AsyncSession, step: Step) -> bool:
    assert step.rule.id is not None
    values = _state_values(step.state)
    if step.version is None:
        s.add(AlertState(rule_id=step.rule.id, queue_id=step.queue_id, version=1, **values))  # type: ignore[arg-type]
        await s.flush()
        return True
    result = await s.execute(
        sa.update(AlertState)
        .where(
            col(AlertState.rule_id) == step.rule.id,
            col(AlertState.queue_id) == step.queue_id,
            col(AlertState.version) == step.version,
        )
        .values(version=step.version + 1, **values)
    )
    return (getattr(result, "rowcount", 0) or 0) > 0


def _new_incident(step: Step, now: dt.datetime) -> AlertIncident:
    r, st = step.rule, step.state
    assert r.id is not None
    return AlertIncident(
        rule_id=r.id,
        team_id=r.team_id,
        queue_id=step.queue_id,
        queue_name=step.queue_name,
        metric=r.metric,
        op=r.op,
        warning=r.warning,
        critical=r.critical,
        severity=int(st.severity),
        worst_severity=int(st.severity),
        since=st.breach_since or now,
        opened_at=now,
        value=step.value,
        peak=st.peak,
        posted=step.post_at is not None,
        updated_at=now,
    )


def _apply_events(inc: AlertIncident, step: Step, now: dt.datetime) -> None:
    st = step.state
    if Event.reopened in step.events:
        inc.resolved_at = None
        inc.closed_reason = None
        inc.reopened += 1
    if st.open:
        inc.severity = int(st.severity)
        inc.worst_severity = max(inc.worst_severity, int(st.severity))
    if Event.resolved in step.events:
        inc.resolved_at = now
    if Event.escalated in step.events:
        inc.escalated_at = now
    if step.value is not None and (step.refresh or step.events):
        inc.previous_value = inc.value
        inc.value = step.value
    inc.peak = st.peak
    inc.updated_at = now


async def _post_in_channel(
    s: AsyncSession, team_id: int, *, key: str, payload: str, at: dt.datetime
) -> int | None:
    """Queue a post in the team's channel (an alert's or a wallboard's message, which its
    later edits point at); its outbox id, or None when the team is gone."""
    team = await s.get(Team, team_id)
    if team is None:
        return None
    platform, target = route_team(team)
    row = OutboxMessage(
        dedupe_key=key,
        platform=platform,
        target=target,
        recipient_team_id=team_id,
        payload=payload,
        status=OutboxStatus.pending,
        next_attempt_at=at,
        created_at=at,
    )
    s.add(row)
    await s.flush()
    return row.id


async def _post(s: AsyncSession, inc: AlertIncident, payload: str, at: dt.datetime) -> None:
    message_id = await _post_in_channel(
        s, inc.team_id, key=f"alert:{inc.id}:post", payload=payload, at=at
    )
    if message_id is not None:
        inc.message_id = message_id


async def apply_step(
    db: Database, *, step: Step, now: dt.datetime, render: Render
) -> AlertIncident | None:
    """Write one step (state, incident, post or edit, escalation DM) in one transaction;
    None when another process changed the state first (nothing is written then)."""
    try:
        async with db.session() as s:
            if not await _cas_state(s, step):
                return None
            inc = await _incident_for(s, step, now)
            if inc is None:
                return None
            if Event.opened in step.events:
                if step.post_at is not None:
                    await _post(s, inc, render(inc), max(step.post_at, now))
            elif inc.posted and inc.message_id is not None:
                outcome = await enqueue_edit_in(
                    s, original_id=inc.message_id, payload=render(inc), now=now
                )
                if outcome is EditOutcome.lost:
                    await _post_again(s, inc, render, now)
            if Event.escalated in step.events and step.escalate_to and step.escalation:
                await enqueue_in(
                    s,
                    [
                        OutboxNew(
                            dedupe_key=f"alert:{inc.id}:escalate:{inc.reopened}",
                            payload=step.escalation(inc),
                            person_id=step.escalate_to,
                            not_before=step.escalate_at,
                        )
                    ],
                )
            if step.extra:
                await enqueue_in(s, step.extra)
            return inc
    except IntegrityError:
        # uq_alertincident_open or the state row's key: another process got there first.
        return None


async def _post_again(
    s: AsyncSession, inc: AlertIncident, render: Render, now: dt.datetime
) -> None:
    """The incident's message is gone (dead or deleted): post it afresh."""
    key = f"alert:{inc.id}:post:{now.timestamp():.0f}"
    message_id = await _post_in_channel(s, inc.team_id, key=key, payload=render(inc), at=now)
    if message_id is not None:
        inc.message_id = message_id


async def _incident_for(s: AsyncSession, step: Step, now: dt.datetime) -> AlertIncident | None:
    assert step.rule.id is not None
    if Event.opened in step.events:
        inc = _new_incident(step, now)
        s.add(inc)
        await s.flush()
        await s.execute(
            sa.update(AlertState)
            .where(
                col(AlertState.rule_id) == step.rule.id, col(AlertState.queue_id) == step.queue_id
            )
            .values(incident_id=inc.id)
        )
        return inc
    state_row = await s.get(AlertState, (step.rule.id, step.queue_id))
    if state_row is None or state_row.incident_id is None:
        return None
    found = await s.get(AlertIncident, state_row.incident_id)
    if found is None:
        return None
    _apply_events(found, step, now)
    await s.flush()
    return found


async def save_state(db: Database, *, step: Step) -> bool:
    """Write a state change that touches no incident (a breach starting its onset, a
    pending breach ending, a new peak); False when another process changed it first."""
    try:
        async with db.session() as s:
            return await _cas_state(s, step)
    except IntegrityError:
        return False


async def acknowledge(
    db: Database, *, incident_id: int, person_id: int, now: dt.datetime
) -> AlertIncident | None:
    """Record who took an incident (the first one keeps it); None when there is none."""
    async with db.session() as s:
        inc = await s.get(AlertIncident, incident_id)
        if inc is None:
            return None
        if inc.acked_by_id is None:
            inc.acked_by_id = person_id
            inc.acked_at = now
        return inc


async def edit_incident_message(
    db: Database, *, incident: AlertIncident, payload: str, now: dt.datetime
) -> None:
    """Edit an incident's message (after an acknowledgement)."""
    if not incident.posted or incident.message_id is None:
        return
    async with db.session() as s:
        await enqueue_edit_in(s, original_id=incident.message_id, payload=payload, now=now)


# --- history ------------------------------------------------------------------------------------


async def incidents_between(
    db: Database, *, team_ids: Iterable[int] | None, start: dt.datetime, end: dt.datetime
) -> list[AlertIncident]:
    """Incidents opened in [start, end), oldest first."""
    async with db.session() as s:
        q = select(AlertIncident).where(
            col(AlertIncident.opened_at) >= start, col(AlertIncident.opened_at) < end
        )
        if team_ids is not None:
            q = q.where(col(AlertIncident.team_id).in_(list(team_ids)))
        return list((await s.execute(q.order_by(col(AlertIncident.opened_at)))).scalars())


# --- wallboards ------------------------------------------------------------------------------


async def get_wallboard(db: Database, *, team_id: int) -> Wallboard | None:
    async with db.session() as s:
        return (
            await s.execute(select(Wallboard).where(col(Wallboard.team_id) == team_id))
        ).scalar_one_or_none()


async def active_wallboards(db: Database) -> list[Wallboard]:
    async with db.session() as s:
        rows = await s.execute(select(Wallboard).where(col(Wallboard.active).is_(True)))
        return list(rows.scalars())


async def start_wallboard(
    db: Database,
    *,
    team_id: int,
    interval_seconds: int,
    person_id: int | None,
    now: dt.datetime,
    day: dt.date,
    payload: str,
) -> tuple[Wallboard, bool]:
    """Start (or re-time) a team's wallboard; a new one is posted at once. Returns
    (wallboard, started) where started is False for one already running."""
    async with db.session() as s:
        wb = (
            await s.execute(select(Wallboard).where(col(Wallboard.team_id) == team_id))
        ).scalar_one_or_none()
        if wb is not None and wb.active:
            wb.interval_seconds = interval_seconds
            return wb, False
        if wb is None:
            wb = Wallboard(team_id=team_id)
            s.add(wb)
        wb.interval_seconds = interval_seconds
        wb.active = True
        wb.started_by_id = person_id
        wb.started_at = now
        wb.stopped_at = None
        await _post_wallboard(s, wb, payload, now, day)
        return wb, True


async def _post_wallboard(
    s: AsyncSession, wb: Wallboard, payload: str, now: dt.datetime, day: dt.date
) -> None:
    key = f"wallboard:{wb.team_id}:{now.timestamp():.3f}"
    message_id = await _post_in_channel(s, wb.team_id, key=key, payload=payload, at=now)
    assert message_id is not None  # the caller found the team
    wb.message_id = message_id
    wb.day = day
    wb.updated_at = now


async def refresh_wallboard(
    db: Database,
    *,
    wallboard_id: int,
    seen: dt.datetime,
    now: dt.datetime,
    day: dt.date,
    payload: str,
) -> bool:
    """Edit the wallboard's message (a new post on a new local day); only when nobody
    refreshed it since `seen` (its updated_at when read). False: someone else did."""
    async with db.session() as s:
        result = await s.execute(
            sa.update(Wallboard)
            .where(
                col(Wallboard.id) == wallboard_id,
                col(Wallboard.active).is_(True),
                col(Wallboard.updated_at) == seen,
            )
            .values(updated_at=now)
        )
        if (getattr(result, "rowcount", 0) or 0) < 1:
            return False
        wb = await s.get(Wallboard, wallboard_id)
        assert wb is not None
        if wb.day != day or wb.message_id is None:
            await _post_wallboard(s, wb, payload, now, day)
            return True
        outcome = await enqueue_edit_in(s, original_id=wb.message_id, payload=payload, now=now)
        if outcome is EditOutcome.lost:
            await _post_wallboard(s, wb, payload, now, day)
        return True


async def stop_wallboard(db: Database, *, team_id: int, now: dt.datetime, payload: str) -> bool:
    """Stop a team's wallboard, leaving `payload` (a final snapshot) in its message."""
    async with db.session() as s:
        wb = (
            await s.execute(select(Wallboard).where(col(Wallboard.team_id) == team_id))
        ).scalar_one_or_none()
        if wb is None or not wb.active:
            return False
        wb.active = False
        wb.stopped_at = now
        wb.updated_at = now
        if wb.message_id is not None:
            await enqueue_edit_in(s, original_id=wb.message_id, payload=payload, now=now)
        return True


# --- housekeeping ------------------------------------------------------------------------------


async def prune_runs(db: Database, *, job_ids: Sequence[str], before: dt.datetime) -> int:
    """Delete the claims of frequent jobs older than `before` (thousands a day)."""
    async with db.session() as s:
        result = await s.execute(
            sa.delete(JobRun).where(
                col(JobRun.job_id).in_(list(job_ids)), col(JobRun.claimed_at) < before
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)
