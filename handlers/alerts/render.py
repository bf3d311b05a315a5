"""Replies of the alerts feature: the incident message (posted once, edited in place),
the manager's escalation DM, rule lists, history and the wallboard."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from domain.alerts import (
    ALERT_METRICS,
    DEFAULT_RULES,
    AlertMetric,
    Level,
    breaches,
    duration_text,
    trend,
)
from domain.fmt import DASH, OPS_TEXT, fmt_value, mark
from domain.live import Observation
from domain.localtime import fmt_local
from domain.types import (
    Block,
    Button,
    Buttons,
    Context,
    Fields,
    Header,
    Reply,
    Table,
    Text,
    Visibility,
)
from storage.models import AlertIncident, AlertRule, Team, Wallboard

ACK_ACTION = "alert.ack"
SEVERITY = {Level.warning: "🟠 Warning", Level.critical: "🔴 Critical"}


def metric_of(key: str) -> AlertMetric:
    return ALERT_METRICS.get(key) or AlertMetric(key, key, "count", True, 0.0)


def threshold_text(metric: str, op: str, value: float) -> str:
    return f"{OPS_TEXT.get(op, op)} {fmt_value(metric_of(metric).unit, value)}"


def rule_text(r: AlertRule | AlertIncident) -> str:
    m = metric_of(r.metric)
    return (
        f"{m.name} {threshold_text(r.metric, r.op, r.warning)} warning, "
        f"{threshold_text(r.metric, r.op, r.critical)} critical"
    )


def queue_line(obs: Observation | None, tz: str) -> str | None:
    """The queue's other figures, for context under an incident."""
    if obs is None:
        return None
    parts = []
    if obs.waiting is not None:
        parts.append(f"{obs.waiting} waiting")
    if obs.longest_wait_seconds is not None:
        parts.append(f"longest {fmt_value('s', obs.longest_wait_seconds)}")
    if obs.agents_available is not None:
        parts.append(f"{obs.agents_available} agents available")
    if obs.service_level is not None:
        parts.append(f"SL {fmt_value('%', obs.service_level)} ({obs.window_minutes} min)")
    if not parts:
        return None
    return (
        f"{obs.label}: "
        + " · ".join(parts)
        + f" (as of {fmt_local(obs.observed_at, tz, '%H:%M:%S')})"
    )


LEVEL_WORD = {Level.ok: "ok", Level.warning: "warning", Level.critical: "critical"}


def _hm(when: dt.datetime, tz: str) -> str:
    return fmt_local(when, tz, "%H:%M")


def _resolved_reply(inc: AlertIncident, *, tz: str, acked_by: str | None) -> Reply:
    assert inc.resolved_at is not None
    m = metric_of(inc.metric)
    queue = inc.queue_name or inc.queue_id
    how = inc.closed_reason and f"closed: {inc.closed_reason}"
    title = f"✅ Resolved: {queue}, " + (
        how or f"{m.name.lower()} back to {fmt_value(m.unit, inc.value)}"
    )
    lasted = duration_text(inc.resolved_at - inc.since)
    worst = LEVEL_WORD[Level(inc.worst_severity)]
    blocks: list[Block] = [
        Header(title),
        Fields(
            (
                ("Lasted", f"{lasted} ({_hm(inc.since, tz)} to {_hm(inc.resolved_at, tz)})"),
                ("Worst", f"{fmt_value(m.unit, inc.peak)} ({worst})"),
            )
        ),
    ]
    if acked_by:
        blocks.append(Context(f"Taken by {acked_by}."))
    blocks.append(Context(rule_text(inc)))
    return Reply(blocks=blocks, text=title, visibility=Visibility.channel)


def _open_title(inc: AlertIncident) -> str:
    m = metric_of(inc.metric)
    queue = inc.queue_name or inc.queue_id
    value = fmt_value(m.unit, inc.value)
    level = Level(inc.severity)
    if inc.value is not None and not breaches(inc.op, inc.value, inc.warning):
        # Back past the thresholds, not yet for long enough to call it over.
        return f"🟢 Recovering: {queue}, {m.name.lower()} back to {value} (was {LEVEL_WORD[level]})"
    limit = inc.critical if level is Level.critical else inc.warning
    limit_text = threshold_text(inc.metric, inc.op, limit)
    return f"{SEVERITY[level]}: {queue}, {m.name.lower()} {value} ({limit_text})"


def incident_reply(
    inc: AlertIncident,
    *,
    tz: str,
    now: dt.datetime,
    acked_by: str | None = None,
    obs: Observation | None = None,
) -> Reply:
    """The incident's one message: open (with the "I'm on it" button) or resolved."""
    if inc.resolved_at is not None:
        return _resolved_reply(inc, tz=tz, acked_by=acked_by)
    m = metric_of(inc.metric)
    title = _open_title(inc)
    fields = [
        (
            "Now",
            fmt_value(m.unit, inc.value)
            + " "
            + trend(inc.op, inc.previous_value, inc.value, m.margin),
        ),
        ("Since", f"{_hm(inc.since, tz)} ({duration_text(now - inc.since)})"),
        ("Worst", fmt_value(m.unit, inc.peak)),
    ]
    if inc.escalated_at is not None:
        fields.append(("Escalated", f"to the manager at {_hm(inc.escalated_at, tz)}"))
    if inc.reopened:
        fields.append(("Reopened", f"{inc.reopened} time(s) within the cooldown"))
    blocks: list[Block] = [Header(title), Fields(tuple(fields))]
    line = queue_line(obs, tz)
    if line:
        blocks.append(Context(line))
    if acked_by:
        blocks.append(Text(f"👤 {acked_by} is on it."))
    else:
        blocks.append(Buttons((Button("I'm on it", ACK_ACTION, str(inc.id), style="primary"),)))
    blocks.append(Context(rule_text(inc) + f" · updated {fmt_local(now, tz, '%H:%M:%S')}"))
    return Reply(blocks=blocks, text=title, visibility=Visibility.channel)


def escalation_reply(inc: AlertIncident, *, team: Team, tz: str, now: dt.datetime) -> Reply:
    m = metric_of(inc.metric)
    queue = inc.queue_name or inc.queue_id
    who = "someone in the team is on it" if inc.acked_by_id else "nobody has said they are on it"
    text = (
        f"🔴 {team.name}: {queue} has been critical for {duration_text(now - inc.since)} "
        f"({m.name.lower()} {fmt_value(m.unit, inc.value)}, critical "
        f"{threshold_text(inc.metric, inc.op, inc.critical)}); {who}."
    )
    return Reply(blocks=[Text(text), Context(f"The alert is in {team.name}'s channel.")], text=text)


def rules_reply(
    rules: Sequence[AlertRule], teams: dict[int, Team], open_by_rule: dict[int, int]
) -> Reply:
    if not rules:
        text = (
            "No alert rules yet. `/alert add defaults` adds the usual four (80/20 service level)."
        )
        return Reply(blocks=[Text(text)], text=text)
    rows = []
    for r in rules:
        team = teams.get(r.team_id)
        when = "always" if r.hours == "always" else (r.hours or "lead's hours")
        status = "paused" if r.paused else ("🔴 open" if open_by_rule.get(r.id or 0) else "on")
        rows.append(
            (
                f"#{r.id}",
                team.name if team else "?",
                r.queue_key or "all queues",
                metric_of(r.metric).name,
                threshold_text(r.metric, r.op, r.warning),
                threshold_text(r.metric, r.op, r.critical),
                f"{r.onset_minutes}m",
                f"{r.cooldown_minutes}m",
                f"{r.escalate_minutes}m" if r.escalate_minutes else DASH,
                f"{when}, {r.outside} outside",
                status,
            )
        )
    cols = (
        "Rule",
        "Team",
        "Queue",
        "Metric",
        "Warning",
        "Critical",
        "For",
        "Cooldown",
        "Escalate",
        "Hours",
        "",
    )
    return Reply(
        blocks=[
            Header("Alert rules"),
            Table(cols, tuple(rows)),
            Context("Change one with `/alert edit ID ...`, pause it with `/alert pause ID`."),
        ],
        text=f"{len(rules)} alert rule(s)",
    )


def history_reply(
    incidents: Sequence[AlertIncident], *, days: int, tz: str, names: dict[int, str]
) -> Reply:
    if not incidents:
        text = f"No alerts in the last {days} day(s)."
        return Reply(blocks=[Text(text)], text=text)
    rows = []
    for inc in reversed(incidents):
        m = metric_of(inc.metric)
        end = inc.resolved_at
        lasted = duration_text(end - inc.since) if end else "open"
        rows.append(
            (
                fmt_local(inc.opened_at, tz, "%a %d %b %H:%M"),
                inc.queue_name or inc.queue_id,
                m.name,
                "critical" if inc.worst_severity >= Level.critical else "warning",
                fmt_value(m.unit, inc.peak),
                lasted,
                names.get(inc.acked_by_id or 0, DASH),
            )
        )
    s = summary_of(incidents)
    head = f"{len(incidents)} alert(s) in the last {days} day(s)"
    if s.longest is not None:
        head += f"; longest {duration_text(s.longest)}; most on {s.worst_queue}"
    return Reply(
        blocks=[
            Header(head),
            Table(
                ("Opened", "Queue", "Metric", "Worst level", "Worst value", "Lasted", "Taken by"),
                tuple(rows),
            ),
        ],
        text=head,
    )


class Summary:
    """Count, longest duration and the queue with the most incidents."""

    def __init__(self, count: int, longest: dt.timedelta | None, worst_queue: str | None) -> None:
        self.count = count
        self.longest = longest
        self.worst_queue = worst_queue


def summary_of(incidents: Sequence[AlertIncident], now: dt.datetime | None = None) -> Summary:
    if not incidents:
        return Summary(0, None, None)
    per_queue: dict[str, int] = {}
    longest: dt.timedelta | None = None
    for inc in incidents:
        name = inc.queue_name or inc.queue_id
        per_queue[name] = per_queue.get(name, 0) + 1
        end = inc.resolved_at or now
        if end is not None:
            d = end - inc.since
            longest = d if longest is None or d > longest else longest
    worst = max(sorted(per_queue), key=lambda q: per_queue[q])
    return Summary(len(incidents), longest, worst)


# --- the wallboard ------------------------------------------------------------------------


def _goal(rules: Sequence[AlertRule], metric: str) -> tuple[str, float] | None:
    """The goal a wallboard cell is judged by: the team's rule's warning threshold (the
    opposite side of it), else the 80/20 defaults."""
    for r in rules:
        if r.metric == metric and not r.queue_key:
            return r.op, r.warning
    d = next((d for d in DEFAULT_RULES if d.metric == metric), None)
    return (d.op, d.warning) if d else None


def _cell(rules: Sequence[AlertRule], metric: str, value: float | None) -> str:
    unit = metric_of(metric).unit
    text = fmt_value(unit, value)
    goal = _goal(rules, metric)
    if value is None or goal is None:
        return text
    return f"{text} {mark(not breaches(goal[0], value, goal[1]))}"


def wallboard_reply(
    team: Team,
    queues: Sequence[Observation],
    rules: Sequence[AlertRule],
    *,
    wb: Wallboard | None,
    now: dt.datetime,
    open_count: int,
    final: bool = False,
    stopped_by: str | None = None,
) -> Reply:
    tz = team.timezone
    rows = []
    for o in queues:
        stale = o.stale(now)
        rows.append(
            (
                o.label + (" (no data)" if stale else ""),
                DASH
                if stale
                else _cell(rules, "waiting", None if o.waiting is None else float(o.waiting)),
                DASH if stale else _cell(rules, "longest", o.longest_wait_seconds),
                DASH if stale else _cell(rules, "sl", o.service_level),
                fmt_value("%", o.service_level_today),
                DASH if stale or o.agents_available is None else str(o.agents_available),
                DASH if stale else _cell(rules, "abandon", o.abandon_rate),
            )
        )
    title = f"📊 {team.name} wallboard" + (" (stopped)" if final else "")
    blocks: list[Block] = [Header(title)]
    if rows:
        blocks.append(
            Table(
                ("Queue", "Waiting", "Longest", "SL 30m", "SL today", "Available", "Abandoned"),
                tuple(rows),
            )
        )
    else:
        blocks.append(Text("No live figures for this team's queues yet."))
    alerts = f"{open_count} open alert(s)" if open_count else "no open alerts"
    every = f"every {wb.interval_seconds} s" if wb else ""
    when = fmt_local(now, tz, "%H:%M:%S")
    if final:
        who = f" by {stopped_by}" if stopped_by else ""
        blocks.append(
            Context(f"Final snapshot at {when}; stopped{who}. `/wallboard on` starts it again.")
        )
    else:
        blocks.append(
            Context(
                f"Updated {when} ({every}) · {alerts} · ✓/✗ against the team's alert thresholds"
            )
        )
    return Reply(blocks=blocks, text=title, visibility=Visibility.channel)
