"""Creating and showing items. Commands and buttons parse; this checks who may, records
the item with its first trail event and queues the owner's DM, in one transaction.
(Every later change is in handlers/actions/changes.py.)
"""

from __future__ import annotations

import datetime as dt

from domain.dates import DateError, format_day
from domain.errors import NotFound, UsageError
from domain.items import ActionStatus
from domain.localtime import local_today
from domain.types import Actor, Buttons, Reply
from handlers.actions.evidence import evidence_for
from handlers.actions.notices import working_hours_dm
from handlers.actions.permissions import get_person, require_can_assign
from handlers.actions.proposals import asked_text, decision_buttons
from handlers.actions.render import (
    EVENT_NAMES,
    SOURCE_NAMES,
    STATUS_NAMES,
    assigned_reply,
    due_text,
    goal_line,
    item_card,
    local_stamp,
    person_name,
)
from handlers.actions.targets import MetricLink
from handlers.actions.text import clean_title
from handlers.core.access import may_act_on
from handlers.core.context import HandlerContext
from handlers.core.followups import SOURCES
from storage import actions as store
from storage import catalogue, people
from storage.models import ActionItem, ActionItemEvent, Metric, Person
from storage.outbox import OutboxNew

# --- create ---------------------------------------------------------------------------


async def _checked_metric(ctx: HandlerContext, metric: MetricLink | None) -> Metric | None:
    if metric is None:
        return None
    row = await catalogue.get_metric(ctx.db, key=metric.key)
    if row is None:
        raise NotFound(f"There is no metric {metric.key!r}.")
    return row


def _created_detail(
    owner: Person, title: str, due: dt.date | None, metric_line: str | None, source: str
) -> str:
    detail = f"for {owner.display_name}: {title}"
    if due:
        detail += f"; due {due.isoformat()}"
    if metric_line:
        detail += f"; metric {metric_line}"
    if source != "manual":
        detail += f"; from {SOURCE_NAMES[source]}"
    return detail


async def create_item(
    ctx: HandlerContext,
    *,
    actor: Actor,
    owner_id: int,
    title: str,
    due: dt.date | None = None,
    source: str = "manual",
    source_ref: str | None = None,
    metric: MetricLink | None = None,
) -> ActionItem:
    """Create an item for `owner_id`, check who may, record it and tell the owner.

    `/action @owner ...` and the `action.create` button create items through this.
    Raises UsageError/NotAllowed/NotFound before writing anything.
    """
    owner = await get_person(ctx, owner_id)
    if owner is None:
        raise NotFound("That person isn't on the roster.")
    await require_can_assign(ctx, actor, owner)
    clean = clean_title(title)
    if due is not None and due < local_today(ctx.now(), actor.timezone):
        raise DateError(f"{format_day(due)} is in the past; give a date from today on.")
    if source != "manual" and source not in SOURCES:
        raise UsageError(f"Unknown source {source!r}.")
    metric_row = await _checked_metric(ctx, metric)
    assigner = await get_person(ctx, actor.person_id)
    owner_today = local_today(ctx.now(), owner.timezone)
    item = ActionItem(
        title=clean,
        owner_id=owner.id,
        assigned_by_id=actor.person_id,
        team_id=owner.team_id,
        due_date=due,
        status=ActionStatus.open,
        source=source,
        source_ref=source_ref[:64] if source_ref else None,
        metric_key=metric.key if metric else None,
        metric_op=metric.op if metric else None,
        metric_target=metric.target if metric else None,
    )
    metric_line = goal_line(metric_row, metric.op, metric.target) if metric and metric_row else None

    def messages(new: ActionItem, _event: ActionItemEvent) -> list[OutboxNew]:
        if owner.id == actor.person_id:
            return []
        reply = assigned_reply(
            new, assigner=assigner, owner=owner, metric_line=metric_line, today=owner_today
        )
        return [working_hours_dm(ctx, owner, reply, key=f"action:{new.id}:assigned")]

    return await store.create(
        ctx.db,
        item=item,
        actor_id=actor.person_id,
        detail=_created_detail(owner, clean, due, metric_line, source),
        now=ctx.now(),
        messages=messages,
    )


# --- show -----------------------------------------------------------------------------


async def _request(
    ctx: HandlerContext, actor: Actor, item: ActionItem, owner: Person | None, today: dt.date
) -> tuple[tuple[str, str] | None, Buttons | None]:
    """The owner's pending request as a field, and Approve / Decline for whoever decides."""
    p = await store.pending_proposal(ctx.db, item_id=item.id or 0)
    if p is None or item.status not in store.OPEN_STATUSES:
        return None, None
    may_decide = owner is not None and await may_act_on(ctx, actor, owner)
    field = ("Requested", f"{asked_text(p, today)} (waiting for a decision)")
    return field, decision_buttons(item, p) if may_decide else None


async def show_reply(ctx: HandlerContext, actor: Actor, item: ActionItem) -> Reply:
    """An item with its whole trail, and the buttons the viewer may use."""
    today = local_today(ctx.now(), actor.timezone)
    owner = await get_person(ctx, item.owner_id)
    assigner = await get_person(ctx, item.assigned_by_id)
    team = await people.get_team(ctx.db, team_id=item.team_id) if item.team_id else None
    pairs = [
        ("Owner", person_name(owner)),
        ("Assigned by", person_name(assigner)),
        ("Status", STATUS_NAMES[item.status]),
        ("Due", due_text(item, today=today)),
        ("Team", team.name if team else "-"),
        ("From", SOURCE_NAMES.get(item.source, item.source)),
    ]
    if item.metric_key and item.metric_op and item.metric_target is not None and owner:
        metric = await catalogue.get_metric(ctx.db, key=item.metric_key)
        evidence = await evidence_for(ctx, item, owner)
        if metric is not None and evidence is not None:
            pairs.append(
                ("Metric", evidence.line(metric, item.metric_op, item.metric_target, today=today))
            )
    request, decision = await _request(ctx, actor, item, owner, today)
    if request is not None:
        pairs.append(request)
    events = await store.events(ctx.db, item_id=item.id or 0)
    who = await people.get_people(ctx.db, person_ids=[e.actor_id for e in events if e.actor_id])
    trail = tuple(
        (
            local_stamp(e.created_at, actor.timezone, today),
            who[e.actor_id].display_name if e.actor_id in who else "leadbot",
            EVENT_NAMES.get(e.kind, e.kind),
            e.detail,
        )
        for e in events
    )
    return item_card(item, pairs, trail, for_owner=actor.person_id == item.owner_id, extra=decision)
