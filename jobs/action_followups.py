"""Follow-ups on action items: one global sweep (every 5 minutes) that decides, per owner in
their own zone and working hours, what is due now.

- Due reminder: on the owner's working day before the due date, once they are on shift
  (not when the item was created or its date set on or after that day: they were just told).
- Overdue nudge: each working morning (owner's shift) while the item is overdue.
- Escalation: to the assigner (or the owner's lead when they assigned it themselves, or
  once the assigner no longer leads the owner) once the item has been overdue for more
  than `action_escalate_after_days` working days; once per due date. An owner's request
  for a new date changes nothing here until it is approved: escalation runs from the
  original date.
- Evidence: an item linked to a metric whose owner met the target for
  `action_evidence_days` working days in a row offers the assigner "Close as achieved", once.
- Weekly summary: to every team's current lead and manager, on the first working day of
  their week at the start of their shift: open, done in the last 7 days, overdue by owner.

Who leads whom is read at each sweep (handlers/core/access.py): a lead moved or demoted
gets no escalation, close offer or summary about their old team.

Nothing is sent for done or cancelled items (checked again in the same transaction that
enqueues), nothing twice (deterministic outbox dedupe keys), and nothing outside the
recipient's working hours (messages are held until their next working moment).
Every follow-up is recorded as an ActionItemEvent.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass

from domain.dates import format_day
from domain.fmt import fmt_goal
from domain.items import ActionStatus
from domain.localtime import local_date
from domain.roles import Role
from domain.shifts import first_shift_start, is_working, is_working_day, previous_working_day
from domain.types import Block, Context, Fields, Header, Reply, Table, Text
from handlers.actions import (
    Evidence,
    close_offer_buttons,
    compute_evidence,
    item_buttons,
    item_ref,
    working_hours_dm,
)
from handlers.core.access import Standing, standings_of, team_leaders
from handlers.core.context import HandlerContext
from jobs.spec import Cron, JobRunInfo, JobSpec
from storage import actions as store
from storage import catalogue, people
from storage.actions import FollowUp
from storage.models import ActionItem, Metric, Person, Team
from storage.outbox import OutboxNew

log = logging.getLogger(__name__)

LOOKAHEAD_DAYS = 9  # a due reminder can fall a week before the due day (one shift a week)


def overdue_working_days(work_hours: str, due: dt.date, today: dt.date) -> int:
    """Working days strictly after `due`, up to and including `today`."""
    n = 0
    day = due + dt.timedelta(days=1)
    while day <= today and n < 400:
        if is_working_day(work_hours, day):
            n += 1
        day += dt.timedelta(days=1)
    return n


def _evidence_text(
    ev: Evidence | None, item: ActionItem, metrics: dict[str, Metric], today: dt.date
) -> str | None:
    if ev is None or item.metric_key is None or item.metric_key not in metrics:
        return None
    assert item.metric_op is not None
    assert item.metric_target is not None
    return ev.line(metrics[item.metric_key], item.metric_op, item.metric_target, today=today)


def _item_message(
    ctx: HandlerContext,
    item: ActionItem,
    owner: Person,
    *,
    header: str,
    text: str,
    evidence: str | None,
    key: str,
) -> OutboxNew:
    blocks: list[Block] = [Header(header), Text(text)]
    if evidence:
        blocks.append(Context(evidence))
    buttons = item_buttons(item, for_owner=True)
    if buttons:
        blocks.append(buttons)
    reply = Reply(blocks=blocks, text=text.replace("*", ""))
    return working_hours_dm(ctx, owner, reply, key=key)


Leaders = dict[int, tuple[Person | None, Person | None]]  # team id -> (lead, manager) now


@dataclass(frozen=True)
class _Org:
    """Who leads whom now: everyone's standing and each team's current lead and manager."""

    standings: dict[int, Standing]
    leaders: Leaders

    def acts_on(self, who: Person | None, owner: Person) -> bool:
        s = self.standings.get(who.id or 0) if who is not None else None
        return s is not None and s.may_act_on(owner)


def _escalation_target(
    item: ActionItem, owner: Person, persons: dict[int, Person], org: _Org
) -> Person | None:
    """The assigner while they still lead the owner; else the owner's lead (then manager)
    now. Never someone who no longer leads the owner (a lead moved or demoted)."""
    assigner = persons.get(item.assigned_by_id or 0)
    if assigner is not None and assigner.id != owner.id and org.acts_on(assigner, owner):
        return assigner
    lead, manager = org.leaders.get(owner.team_id or 0, (None, None))
    for p in (lead, manager):
        if p is not None and p.id != owner.id and org.acts_on(p, owner):
            return p
    return None


async def _item_followups(
    ctx: HandlerContext,
    items: list[ActionItem],
    persons: dict[int, Person],
    org: _Org,
    metrics: dict[str, Metric],
) -> list[FollowUp]:
    now = ctx.now()
    cfg = ctx.settings
    item_ids = [i.id for i in items if i.id is not None]
    last = await store.last_events(
        ctx.db, item_ids=item_ids, kinds=("created", "due_changed", "escalated", "reassigned")
    )
    pairs = {
        (i.owner_id, i.metric_key)
        for i in items
        if i.owner_id is not None and i.metric_key is not None
    }
    since = now.date() - dt.timedelta(days=max(21, 3 * cfg.action_evidence_days))
    values = await store.person_values(ctx.db, pairs=pairs, since=since)
    # Every key a follow-up could have today, so that messages already sent aren't built.
    possible: list[str] = []
    for item in items:
        owner = persons.get(item.owner_id or 0)
        if owner is None or item.id is None:
            continue
        today = local_date(now, owner.timezone)
        possible += [f"action:{item.id}:nudge:{today.isoformat()}", f"action:{item.id}:close_offer"]
        if item.due_date is not None:
            possible += [
                f"action:{item.id}:due:{item.due_date.isoformat()}",
                f"action:{item.id}:escalated:{item.due_date.isoformat()}",
            ]
    sent = await store.existing_keys(ctx.db, keys=possible)
    out: list[FollowUp] = []
    for item in items:
        owner = persons.get(item.owner_id or 0)
        if owner is None or not owner.active or item.id is None:
            continue
        try:
            out.extend(_for_item(ctx, item, owner, persons, org, metrics, last, values, now, sent))
        except ValueError:  # a bad shift pattern or zone: skip this owner, keep sweeping
            log.warning("action follow-up skipped item=%s owner=%s", item.id, owner.id)
    return out


def _for_item(
    ctx: HandlerContext,
    item: ActionItem,
    owner: Person,
    persons: dict[int, Person],
    org: _Org,
    metrics: dict[str, Metric],
    last: dict[tuple[int, str], dt.datetime],
    values: dict[tuple[int, str], list[tuple[dt.date, float]]],
    now: dt.datetime,
    sent: set[str],
) -> list[FollowUp]:
    cfg = ctx.settings
    assert item.id is not None
    tz, wh = owner.timezone, owner.work_hours
    today = local_date(now, tz)
    working_now = is_working(wh, tz, now)
    evidence: Evidence | None = None
    if item.metric_key is not None and item.metric_op and item.metric_target is not None:
        evidence = compute_evidence(
            values.get((owner.id or 0, item.metric_key), []),
            op=item.metric_op,
            target=item.metric_target,
            work_hours=wh,
            since=local_date(item.created_at, tz),
            today=today,
        )
    ev_text = _evidence_text(evidence, item, metrics, today)
    out: list[FollowUp] = []
    due = item.due_date
    if due is not None:
        due_set = max(
            (t for k in ("created", "due_changed", "reassigned") if (t := last.get((item.id, k)))),
            default=item.created_at,
        )
        remind_day = previous_working_day(wh, due)
        key = f"action:{item.id}:due:{due.isoformat()}"
        if (
            key not in sent
            and remind_day <= today < due
            and working_now
            and local_date(due_set, tz) < remind_day
        ):
            when = (
                "tomorrow" if due - today == dt.timedelta(days=1) else format_day(due, today=today)
            )
            out.append(
                FollowUp(
                    item.id,
                    "reminder_sent",
                    f"reminder to {owner.display_name}: due {due.isoformat()}",
                    _item_message(
                        ctx,
                        item,
                        owner,
                        header=f"Due {when}: {item_ref(item)}",
                        text=f"Reminder: {item_ref(item)} *{item.title}* is due {when}.",
                        evidence=ev_text,
                        key=key,
                    ),
                )
            )
        key = f"action:{item.id}:nudge:{today.isoformat()}"
        if key not in sent and today > due and working_now and is_working_day(wh, today):
            start = first_shift_start(wh, tz, today)
            if start is not None and now >= start:
                days = overdue_working_days(wh, due, today)
                out.append(
                    FollowUp(
                        item.id,
                        "nudge_sent",
                        f"nudge to {owner.display_name}: {days} working day(s) overdue",
                        _item_message(
                            ctx,
                            item,
                            owner,
                            header=f"Overdue: {item_ref(item)}",
                            text=(
                                f"{item_ref(item)} *{item.title}* was due "
                                f"{format_day(due, today=today)}. Done? Press Done, or ask for "
                                "help, or agree a new date with whoever assigned it."
                            ),
                            evidence=ev_text,
                            key=key,
                        ),
                    )
                )
        days_over = overdue_working_days(wh, due, today) if today > due else 0
        escalated = last.get((item.id, "escalated"))
        # Decided at the owner's shift start, with that morning's nudge.
        key = f"action:{item.id}:escalated:{due.isoformat()}"
        if (
            key not in sent
            and working_now
            and days_over > cfg.action_escalate_after_days
            and (escalated is None or escalated < due_set)
        ):
            target = _escalation_target(item, owner, persons, org)
            if target is not None:
                t_today = local_date(now, target.timezone)
                text = (
                    f"{item_ref(item)} *{item.title}*, owned by *{owner.display_name}*, is "
                    f"{days_over} working days overdue (due {format_day(due, today=t_today)})."
                )
                blocks: list[Block] = [Header(f"Overdue: {item_ref(item)}"), Text(text)]
                if ev_text:
                    blocks.append(Context(ev_text))
                buttons = item_buttons(item, for_owner=False)
                if buttons:
                    blocks.append(buttons)
                blocks.append(
                    Context(
                        f"`/action due {item.id} DATE` to agree a new date, "
                        f"`/action reassign {item.id} @person`, or `/action cancel {item.id}`."
                    )
                )
                out.append(
                    FollowUp(
                        item.id,
                        "escalated",
                        f"to {target.display_name}: {days_over} working days overdue",
                        working_hours_dm(
                            ctx,
                            target,
                            Reply(blocks=blocks, text=text.replace("*", "")),
                            key=key,
                        ),
                    )
                )
    if (
        evidence is not None
        and item.close_offered_at is None
        and f"action:{item.id}:close_offer" not in sent
        and item.metric_key in metrics
        and evidence.holds(cfg.action_evidence_days, today)
    ):
        target = _escalation_target(item, owner, persons, org)
        if target is None:  # nobody else: offer it to the owner
            target = owner
        metric = metrics[item.metric_key]
        goal = fmt_goal(metric.unit, item.metric_op or "", item.metric_target or 0)
        text = (
            f"{owner.display_name}'s {metric.name} has met {goal} for {evidence.streak} "
            f"working days in a row. Close {item_ref(item)} *{item.title}* as achieved?"
        )
        reply = Reply(
            blocks=[
                Header(f"Achieved? {item_ref(item)}"),
                Text(text),
                Context(ev_text or ""),
                close_offer_buttons(item),
            ],
            text=text.replace("*", ""),
        )
        out.append(
            FollowUp(
                item.id,
                "close_offered",
                f"to {target.display_name}: {metric.name} {goal} "
                f"for {evidence.streak} working days",
                working_hours_dm(ctx, target, reply, key=f"action:{item.id}:close_offer"),
                offer_close=True,
            )
        )
    return out


def _week_key(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _first_working_day_of_week(work_hours: str, today: dt.date) -> bool:
    if not is_working_day(work_hours, today):
        return False
    monday = today - dt.timedelta(days=today.weekday())
    day = monday
    while day < today:
        if is_working_day(work_hours, day):
            return False
        day += dt.timedelta(days=1)
    return True


def _teams_by_leader(team_list: list[Team], leaders: Leaders) -> dict[int, set[int]]:
    """Each current lead's and manager's person id, with the ids of the teams they lead or
    manage now (a lead moved away gets no summary of their old team)."""
    by_leader: dict[int, set[int]] = defaultdict(set)
    for t in team_list:
        for p in leaders.get(t.id or 0, (None, None)):
            if p is not None and p.id is not None and t.id is not None:
                by_leader[p.id].add(t.id)
    return by_leader


def _summary_time(leader: Person, now: dt.datetime) -> bool:
    """An active lead or manager, on shift on the first working day of their week."""
    if not leader.active or leader.role not in (Role.lead, Role.manager):
        return False
    today = local_date(now, leader.timezone)
    try:
        return _first_working_day_of_week(leader.work_hours, today) and is_working(
            leader.work_hours, leader.timezone, now
        )
    except ValueError:  # a bad shift pattern: no summary for them, keep sweeping
        return False


def _overdue_rows(
    overdue: list[ActionItem], owners: dict[int, Person], today: dt.date
) -> tuple[tuple[str, str, str, str], ...]:
    """One row per owner with overdue items, the most overdue items first."""
    by_owner: dict[int, list[ActionItem]] = defaultdict(list)
    for i in overdue:
        by_owner[i.owner_id or 0].append(i)
    return tuple(
        (
            owners[o].display_name if o in owners else "someone who left",
            str(len(lst)),
            format_day(min(i.due_date for i in lst if i.due_date), today=today),
            " ".join(item_ref(i) for i in lst[:8]) + (" …" if len(lst) > 8 else ""),
        )
        for o, lst in sorted(by_owner.items(), key=lambda kv: -len(kv[1]))
    )


def _summary_reply(
    today: dt.date,
    open_items: list[ActionItem],
    overdue: list[ActionItem],
    done: list[ActionItem],
    rows: tuple[tuple[str, str, str, str], ...],
    team_text: str,
) -> Reply:
    blocks: list[Block] = [
        Header(f"Action items, week of {format_day(today, today=today)}"),
        Fields(
            (
                ("Open", str(len(open_items))),
                ("Overdue", str(len(overdue))),
                ("Done in the last 7 days", str(len(done))),
                ("Teams", team_text),
            )
        ),
    ]
    if rows:
        blocks.append(Text("*Overdue by owner*"))
        blocks.append(
            Table(("owner", "overdue", "oldest due", "items"), rows, ("l", "r", "l", "l"))
        )
    else:
        blocks.append(Text("Nothing is overdue. 🎉"))
    blocks.append(Context("`/action list team` for every open item; `/action list overdue`."))
    text = (
        f"Action items this week: {len(open_items)} open, {len(overdue)} overdue, "
        f"{len(done)} done in the last 7 days."
    )
    return Reply(blocks=blocks, text=text)


async def _summary(
    ctx: HandlerContext, leader: Person, team_ids: set[int], team_text: str, key: str
) -> bool:
    """Send one leader their weekly summary (unless there is nothing to say); True if sent."""
    now = ctx.now()
    today = local_date(now, leader.timezone)
    open_items = await store.list_items(ctx.db, team_ids=team_ids, limit=5000)
    done = await store.list_items(
        ctx.db,
        team_ids=team_ids,
        statuses=(ActionStatus.done,),
        closed_since=now - dt.timedelta(days=7),
        limit=5000,
    )
    if not open_items and not done:
        return False
    owners = await people.get_people(
        ctx.db, person_ids=[i.owner_id for i in open_items if i.owner_id]
    )
    overdue = [i for i in open_items if i.due_date is not None and i.due_date < today]
    rows = _overdue_rows(overdue, owners, today)
    reply = _summary_reply(today, open_items, overdue, done, rows, team_text)
    msg = working_hours_dm(ctx, leader, reply, key=key)
    notes = [
        (i.id, f"listed as overdue in the weekly summary to {leader.display_name}")
        for i in overdue
        if i.id is not None
    ]
    return await store.record_summary(ctx.db, message=msg, item_events=notes, now=now)


async def _summaries(ctx: HandlerContext, team_list: list[Team], leaders: Leaders) -> int:
    """The weekly summaries due now, each once per leader and week; how many were sent."""
    now = ctx.now()
    by_leader = _teams_by_leader(team_list, leaders)
    people_now = await people.get_people(ctx.db, person_ids=list(by_leader))
    due = {
        f"action:summary:{pid}:{_week_key(local_date(now, leader.timezone))}": leader
        for pid, leader in people_now.items()
        if _summary_time(leader, now)
    }
    if not due:
        return 0
    done_keys = await store.existing_keys(ctx.db, keys=list(due))
    names = {t.id: t.name for t in team_list}
    sent = 0
    for key, leader in due.items():
        if key in done_keys:
            continue
        assert leader.id is not None
        team_ids = by_leader[leader.id]
        team_text = ", ".join(sorted(names.get(t) or "" for t in team_ids))
        if await _summary(ctx, leader, team_ids, team_text, key):
            sent += 1
    return sent


async def sweep(ctx: HandlerContext) -> int:
    """One pass: enqueue every follow-up due now; returns how many were recorded."""
    now = ctx.now()
    items = await store.sweep_candidates(
        ctx.db, due_until=now.date() + dt.timedelta(days=LOOKAHEAD_DAYS)
    )
    team_list = await people.list_teams(ctx.db)
    ids: set[int] = set()
    for i in items:
        ids.update(p for p in (i.owner_id, i.assigned_by_id) if p is not None)
    for t in team_list:
        ids.update(p for p in (t.lead_id, t.manager_id) if p is not None)
    persons = await people.get_people(ctx.db, person_ids=list(ids))
    leaders = await team_leaders(ctx, team_list, persons)
    everyone = {**persons, **{p.id: p for pair in leaders.values() for p in pair if p and p.id}}
    org = _Org(standings_of(everyone.values(), team_list), leaders)
    metrics = {m.key: m for m in await catalogue.list_metrics(ctx.db)}
    followups = await _item_followups(ctx, items, persons, org, metrics)
    existing = await store.existing_keys(ctx.db, keys=[f.message.dedupe_key for f in followups])
    pending = [f for f in followups if f.message.dedupe_key not in existing]
    recorded = await store.record_followups(ctx.db, followups=pending, now=now)
    recorded += await _summaries(ctx, team_list, leaders)
    return recorded


async def run(ctx: HandlerContext, info: JobRunInfo) -> None:
    """One sweep per fire (every 5 minutes)."""
    n = await sweep(ctx)
    if n:
        log.info("action follow-ups: %d recorded (fire time %s)", n, info.fire_time.isoformat())


SPEC = JobSpec(
    id="action_followups",
    description=(
        "Action items: due reminders, overdue nudges, escalations, evidence close offers and "
        "weekly summaries, each in the recipient's own zone and working hours"
    ),
    run=run,
    cron=Cron(minute="*/5"),
)
