"""The prep card a lead sees before a 1:1, and the buttons on it and on the reminders.

KPIs vs the team's goals since the last 1:1 (with trends), the person's action items,
kudos they received, the last notes and the agenda. Never anything from pulse surveys:
those answers are anonymous.
"""

from __future__ import annotations

import datetime as dt

from domain.fmt import DASH, fmt_delta, fmt_goal, fmt_value, goal_met, sparkline
from domain.localtime import fmt_local, local_today
from domain.types import Block, Button, Buttons, Context, Form, FormField, Header, Table, Text
from handlers.core.context import HandlerContext
from handlers.core.followups import create_button
from handlers.core.metrics import enough, sample_of, sample_text
from handlers.oneonone.schedule import cadence_text, slot_text
from handlers.oneonone.service import NOTES_MAX
from storage import oneonones as store
from storage.models import Goal, OneOnOne, Person
from storage.oneonones import KpiFigure, PrepData

DEFAULT_PREP_DAYS = 30
DEFAULT_METRICS = ("csat", "fcr", "aht", "qa_score", "adherence")
PREP_ACTION_ID = "oneonone.prep"
DONE_ACTION_ID = "oneonone.done"


async def prep_card(
    ctx: HandlerContext,
    *,
    lead_id: int,
    agent: Person,
    o: OneOnOne | None,
    viewer_tz: str,
) -> list[Block]:
    """KPIs vs goals since the last 1:1 with trends, action items, kudos, the last notes and
    the agenda. Never anything from pulse surveys."""
    now = ctx.now()
    data = await store.load_prep(
        ctx.db,
        lead_id=lead_id,
        agent=agent,
        one_on_one_id=o.id if o is not None else None,
        now=now,
        default_days=DEFAULT_PREP_DAYS,
        default_metrics=DEFAULT_METRICS,
    )
    blocks: list[Block] = [Header(f"1:1 prep: {agent.display_name}")]
    if o is not None and o.next_at is not None:
        blocks.append(Context(f"Next 1:1: {slot_text(o.next_at, viewer_tz)} · {cadence_text(o)}"))
    blocks += _kpis(data, viewer_tz, ctx.settings.stats_min_contacts)
    blocks += _action_items(data, local_today(now, agent.timezone), viewer_tz)
    blocks.append(_kudos(data))
    blocks += _notes_and_agenda(data, viewer_tz)
    blocks.append(Buttons(_card_buttons(agent, o)))
    blocks.append(Context("Pulse survey answers are anonymous and never shown on a prep card."))
    return blocks


def _kpi_row(f: KpiFigure, g: Goal | None, minimum: int) -> tuple[str, ...]:
    """One metric: its value, the goal, on target or not and the change, the last two only
    when the figures rest on enough contacts (the minimum-sample rule)."""
    unit = f.metric.unit
    few = not enough(f.metric, f.sums, minimum)
    goal_text, status = DASH, ""
    if g is not None:
        ok = None if few else goal_met(g.op, g.target, f.value)
        goal_text = fmt_goal(unit, g.op, g.target)
        status = "" if ok is None else ("✓ on target" if ok else "✗ off target")
    if few and f.value is not None:
        status = sample_text(f.metric, sample_of(f.metric, f.sums))
    comparable = not few and enough(f.metric, f.prev_sums, minimum)
    change = (
        None if f.value is None or f.previous is None or not comparable else f.value - f.previous
    )
    return (
        f.metric.name,
        fmt_value(unit, f.value),
        goal_text,
        status,
        fmt_delta(unit, change, higher_is_better=f.metric.higher_is_better),
        sparkline(f.daily[-14:]),
    )


def _kpis(data: PrepData, tz: str, minimum: int) -> list[Block]:
    """The KPIs vs the team's goals, since the last 1:1 held (or the last 30 days)."""
    last = data.last_held
    since_label = (
        f"since the last 1:1 ({fmt_local(last.scheduled_at, tz, '%d %b')})"
        if last
        else f"last {DEFAULT_PREP_DAYS} days (no 1:1 held yet)"
    )
    rows = tuple(
        _kpi_row(f, data.goals.get(f.metric.key), minimum)
        for f in data.figures
        if f.value is not None or f.previous is not None
    )
    blocks: list[Block] = [Text(f"*KPIs {since_label}*")]
    if rows:
        blocks.append(
            Table(
                ("metric", "value", "goal", "", "vs before", "last 14 days"),
                rows,
                ("l", "r", "l", "l", "r", "l"),
            )
        )
    else:
        blocks.append(Context("No KPI data for this period."))
    return blocks


def _action_items(data: PrepData, agent_today: dt.date, tz: str) -> list[Block]:
    """Open items (overdue ones flagged in the agent's own day) and recently closed ones."""
    open_items, closed = data.open_items, data.closed_items
    blocks: list[Block] = [
        Text(f"*Action items* ({len(open_items)} open, {len(closed)} closed recently)")
    ]
    if not (open_items or closed):
        return blocks
    rows = []
    for a in open_items:
        due = f"{a.due_date:%d %b}" if a.due_date else "-"
        overdue = a.due_date is not None and a.due_date < agent_today
        rows.append(
            (a.title[:70], a.status.value.replace("_", " "), due + (" ⚠️" if overdue else ""))
        )
    for a in closed:
        when = fmt_local(a.closed_at, tz, "%d %b") if a.closed_at else "-"
        rows.append((a.title[:70], a.status.value, f"closed {when}"))
    blocks.append(Table(("item", "status", "due"), tuple(rows)))
    return blocks


def _kudos(data: PrepData) -> Block:
    received = data.kudos
    if not received:
        return Text("*Kudos received: 0*. Anything worth recognising?")
    lines = [f"• {_name(data, r.giver_id, 'leadbot')}: “{r.message[:100]}”" for r in received[:3]]
    return Text(f"*Kudos received: {len(received)}*\n" + "\n".join(lines))


def _notes_and_agenda(data: PrepData, tz: str) -> list[Block]:
    blocks: list[Block] = []
    last = data.last_held
    if last is not None:
        notes = last.notes or "(no notes recorded)"
        blocks.append(Text(f"*Notes from {fmt_local(last.scheduled_at, tz, '%d %b')}*\n{notes}"))
    if data.agenda:
        points = "\n".join(f"• {a.text} ({_name(data, a.author_id, '?')})" for a in data.agenda)
        blocks.append(Text("*Agenda*\n" + points))
    else:
        blocks.append(Text("*Agenda*: nothing added yet."))
    return blocks


def _name(data: PrepData, pid: int | None, unknown: str) -> str:
    p = data.names.get(pid or 0)
    return p.display_name if p else unknown


def _card_buttons(agent: Person, o: OneOnOne | None) -> tuple[Button, ...]:
    if o is None:
        return (action_item_button(agent, o),)
    return (action_item_button(agent, o), held_button(o))


def action_item_button(agent: Person, o: OneOnOne | None) -> Button:
    """The action-item form's button (handlers/core/followups.py), tied to this 1:1 when
    there is one."""
    if o is not None and o.id is not None:
        return create_button(source="one_on_one", source_ref=str(o.id), owner_id=agent.id or 0)
    return create_button(source="meeting", source_ref="1on1-prep", owner_id=agent.id or 0)


def held_button(o: OneOnOne) -> Button:
    """The "Record as held" button, with a form for the notes (answered by on_action)."""
    form = Form(
        title="1:1 notes",
        action_id=DONE_ACTION_ID,
        value=str(o.id),
        fields=(
            FormField(
                "notes", "Notes (kept for the next prep card)", multiline=True, max_length=NOTES_MAX
            ),
        ),
        submit_label="Save",
    )
    return Button("Record as held", DONE_ACTION_ID, str(o.id), form=form)


def prep_button(o: OneOnOne) -> Button:
    """The "Prep card" button: this 1:1's prep card for its lead (answered by on_action)."""
    return Button("Prep card", PREP_ACTION_ID, str(o.id))
