"""Every change to an existing item: accept, ask for help, move the due date, reassign,
done and cancel. Each checks who may, records the change with its trail event and queues
the notices in one transaction; a change that lost a race changes nothing and says so.
"""

from __future__ import annotations

import datetime as dt

from domain.dates import format_day
from domain.errors import NotAllowed, NotFound, UserError
from domain.items import ActionStatus
from domain.localtime import local_today
from domain.types import Actor, Block, Context, Header, Mention, Reply, Text
from handlers.actions.notices import messages_to, working_hours_dm
from handlers.actions.permissions import (
    bound_owner,
    decider_for,
    get_person,
    load_item,
    refuse_closed,
    require_can_assign,
    require_open,
)
from handlers.actions.proposals import propose_cancel, propose_due
from handlers.actions.render import (
    assigned_reply,
    due_text,
    goal_line,
    item_buttons,
    item_ref,
    note_reply,
    person_name,
    plain,
)
from handlers.actions.text import clean_note
from handlers.core.access import leader_for
from handlers.core.context import HandlerContext
from storage import actions as store
from storage import catalogue
from storage.models import ActionItem, ActionItemEvent, Person
from storage.outbox import OutboxNew

_CHANGED_MEANWHILE = "{} changed meanwhile; nothing was changed."
# The same request for help again within this time is one press sent twice (a double
# click, a form submitted twice); two genuine requests are minutes apart.
HELP_REPEAT_WINDOW = dt.timedelta(seconds=60)


async def _metric_line(ctx: HandlerContext, item: ActionItem) -> str | None:
    if not (item.metric_key and item.metric_op and item.metric_target is not None):
        return None
    metric = await catalogue.get_metric(ctx.db, key=item.metric_key)
    return goal_line(metric, item.metric_op, item.metric_target) if metric else None


async def _close(
    ctx: HandlerContext,
    actor: Actor,
    item_id: int,
    status: ActionStatus,
    detail: str,
    pending: list[OutboxNew],
) -> None:
    """Close an open item (done or cancelled) with its notices, or refuse if it was closed."""
    result = await store.change(
        ctx.db,
        item_id=item_id,
        actor_id=actor.person_id,
        kind=status.value,
        detail=detail,
        allowed_from=store.OPEN_STATUSES,
        updates={"status": status, "closed_at": ctx.now()},
        now=ctx.now(),
        withdraw_followups=True,
        withdraw_proposals=True,
        messages=lambda _i, _e: pending,
    )
    if not result.applied:
        assert result.item is not None
        raise await refuse_closed(ctx, actor, result.item)


async def mark_done(
    ctx: HandlerContext, actor: Actor, item_id: int, note: str = "", *, achieved: str = ""
) -> Reply:
    """Close an item as done (the command, the Done button, Close as achieved)."""
    item = await load_item(ctx, actor, item_id)
    await require_open(ctx, actor, item)
    note = clean_note(note)
    detail = achieved or note
    text = f"*{actor.name}* marked {item_ref(item)} done: *{item.title}*" + (
        f" ({detail})" if detail else ""
    )
    notice = note_reply(f"Action item {item_ref(item)} done", text, item)
    # Whoever assigned it hears (or the owner's lead, once the assigner no longer leads
    # them); the owner hears when someone else closed it.
    decider = await decider_for(ctx, item, await get_person(ctx, item.owner_id))
    pending = await messages_to(
        ctx,
        actor,
        [decider.id if decider else None, item.owner_id],
        notice,
        f"action:{item.id}:done",
    )
    await _close(ctx, actor, item_id, ActionStatus.done, detail, pending)
    done = f"Done: {item_ref(item)} *{item.title}*." + (" Closed as achieved." if achieved else "")
    return Reply(blocks=[Text(done)], text=done.replace("*", ""), replace_original=True)


async def cancel(ctx: HandlerContext, actor: Actor, item_id: int, reason: str) -> Reply:
    """Cancel an open item, telling its owner and its assigner. The owner of an item
    someone else assigned asks for the cancellation instead (proposals.py)."""
    item = await load_item(ctx, actor, item_id)
    await require_open(ctx, actor, item)
    if bound_owner(actor, item):
        return await propose_cancel(ctx, actor, item, reason)
    decider = await decider_for(ctx, item, await get_person(ctx, item.owner_id))
    notice = note_reply(
        f"Action item {item_ref(item)} cancelled",
        f"*{actor.name}* cancelled {item_ref(item)}: *{item.title}*"
        + (f" ({reason})" if reason else ""),
        item,
    )
    pending = await messages_to(
        ctx,
        actor,
        [item.owner_id, decider.id if decider else None],
        notice,
        f"action:{item.id}:cancelled",
    )
    await _close(ctx, actor, item_id, ActionStatus.cancelled, reason, pending)
    return plain(f"Cancelled {item_ref(item)} *{item.title}*.")


async def accept(ctx: HandlerContext, actor: Actor, item_id: int) -> Reply:
    """The owner accepts an open item; the assigner is told."""
    item = await load_item(ctx, actor, item_id)
    if item.owner_id != actor.person_id:
        raise NotAllowed(f"Only the owner of {item_ref(item)} can accept it. Nothing was changed.")
    if item.status is ActionStatus.in_progress:
        raise UserError(f"You already accepted {item_ref(item)}.")
    await require_open(ctx, actor, item)
    notice = note_reply(
        f"Action item {item_ref(item)} accepted",
        f"*{actor.name}* accepted {item_ref(item)}: *{item.title}*",
        item,
    )
    pending = await messages_to(
        ctx, actor, [item.assigned_by_id], notice, f"action:{item.id}:accepted"
    )
    result = await store.change(
        ctx.db,
        item_id=item_id,
        actor_id=actor.person_id,
        kind="accepted",
        detail="",
        allowed_from=(ActionStatus.open,),
        updates={"status": ActionStatus.in_progress},
        now=ctx.now(),
        messages=lambda _i, _e: pending,
        expect_owner_id=actor.person_id,
    )
    if not result.applied:
        raise UserError(
            f"{item_ref(item)} changed meanwhile; nothing was changed. "
            f"See `/action show {item_id}`."
        )
    text = f"Accepted {item_ref(item)}: *{item.title}*. Press Done when it's done."
    blocks: list[Block] = [Text(text)]
    assert result.item is not None
    buttons = item_buttons(result.item, for_owner=True)
    if buttons:
        blocks.append(buttons)
    return Reply(blocks=blocks, text=text.replace("*", ""), replace_original=True)


async def _helper(ctx: HandlerContext, item: ActionItem) -> Person | None:
    """Whom to ask: whoever assigned it (while they still lead the owner), else the
    owner's lead (then manager) now."""
    owner = await get_person(ctx, item.owner_id)
    helper = await decider_for(ctx, item, owner)
    if helper is None and owner is not None:
        helper = await leader_for(ctx, owner)
    return helper


async def ask_help(ctx: HandlerContext, actor: Actor, item_id: int, message: str) -> Reply:
    """The owner asks whoever assigned the item (or their lead) for help, once per
    request: the same request sent twice (a double press) asks once."""
    item = await load_item(ctx, actor, item_id)
    if item.owner_id != actor.person_id:
        raise NotAllowed(f"Only the owner of {item_ref(item)} can ask for help with it.")
    await require_open(ctx, actor, item)
    message = clean_note(message, "message")
    helper = await _helper(ctx, item)
    if helper is None or helper.id == actor.person_id:
        raise UserError("There's nobody to ask: your team has no lead or manager on the roster.")
    text = f"*{actor.name}* asks for help with {item_ref(item)}: *{item.title}*" + (
        f"\n> {message}" if message else ""
    )
    reply = Reply(
        blocks=[
            Header(f"Help needed: {item_ref(item)}"),
            Text(text),
            Context(f"`/action show {item.id}` for its trail."),
        ],
        text=text.replace("*", ""),
    )
    result = await store.request_help(
        ctx.db,
        item_id=item_id,
        actor_id=actor.person_id,
        detail=f"asked {helper.display_name}" + (f": {message}" if message else ""),
        now=ctx.now(),
        repeat_within=HELP_REPEAT_WINDOW,
        messages=lambda event: [
            working_hours_dm(ctx, helper, reply, key=f"action:{item.id}:help:{event.id}")
        ],
    )
    if result.event is None:
        raise await refuse_closed(ctx, actor, await store.get(ctx.db, item_id=item_id) or item)
    done = f"I've asked {helper.display_name} to help with {item_ref(item)}."
    if result.repeat:
        done = f"I've already asked {helper.display_name} to help with {item_ref(item)}."
    return Reply(blocks=[Text(done)], text=done)


async def change_due(
    ctx: HandlerContext, actor: Actor, item_id: int, new_due: dt.date | None
) -> Reply:
    """Move an open item's due date (None clears it); the owner is told. The owner of an
    item someone else assigned asks for the new date instead (proposals.py)."""
    item = await load_item(ctx, actor, item_id)
    await require_open(ctx, actor, item)
    if item.due_date == new_due:
        if new_due is None:
            raise UserError(f"{item_ref(item)} has no due date already.")
        today = local_today(ctx.now(), actor.timezone)
        raise UserError(f"{item_ref(item)} is already due {due_text(item, today=today)}.")
    if bound_owner(actor, item):
        return await propose_due(ctx, actor, item, new_due)
    old = item.due_date.isoformat() if item.due_date else "none"
    new = new_due.isoformat() if new_due else "none"
    owner = await get_person(ctx, item.owner_id)
    owner_today = local_today(ctx.now(), owner.timezone if owner else actor.timezone)
    shown = format_day(new_due, today=owner_today) if new_due else "no due date"
    notice = note_reply(
        f"Action item {item_ref(item)} due date",
        f"*{actor.name}* moved {item_ref(item)} *{item.title}* to {shown}.",
        item,
    )

    def messages(_i: ActionItem, event: ActionItemEvent) -> list[OutboxNew]:
        if owner is None or owner.id == actor.person_id:
            return []
        key = f"action:{item.id}:due_changed:{event.id}"
        return [working_hours_dm(ctx, owner, notice, key=key)]

    result = await store.change(
        ctx.db,
        item_id=item_id,
        actor_id=actor.person_id,
        kind="due_changed",
        detail=f"{old} → {new}",
        allowed_from=store.OPEN_STATUSES,
        updates={"due_date": new_due},
        now=ctx.now(),
        withdraw_followups=True,
        withdraw_proposals=True,
        messages=messages,
    )
    if not result.applied:
        raise UserError(_CHANGED_MEANWHILE.format(item_ref(item)))
    if new_due is None:
        return plain(f"{item_ref(item)} *{item.title}* no longer has a due date.")
    return plain(f"{item_ref(item)} *{item.title}* is now due {shown}.")


async def reassign(ctx: HandlerContext, actor: Actor, item_id: int, who: Mention) -> Reply:
    """Hand an open item to someone else; the new owner and the old one are told."""
    item = await load_item(ctx, actor, item_id)
    await require_open(ctx, actor, item)
    new_owner = await get_person(ctx, who.person_id)
    if new_owner is None:
        raise NotFound(f"I don't know {who}.")
    if new_owner.id == item.owner_id:
        raise UserError(f"{new_owner.display_name} already owns {item_ref(item)}.")
    await require_can_assign(ctx, actor, new_owner)
    if bound_owner(actor, item):
        raise NotAllowed(
            f"{item_ref(item)} was assigned to you: whoever assigned it (or your lead) can "
            f"hand it on. Ask them, or `/action cancel {item.id} REASON` to ask to cancel it."
        )
    old_owner = await get_person(ctx, item.owner_id)
    assigner = await get_person(ctx, actor.person_id)
    new_today = local_today(ctx.now(), new_owner.timezone)
    metric_line = await _metric_line(ctx, item)
    fyi = note_reply(
        f"Action item {item_ref(item)} reassigned",
        f"*{actor.name}* handed {item_ref(item)} *{item.title}* to {new_owner.display_name}.",
        item,
    )

    def messages(updated: ActionItem, event: ActionItemEvent) -> list[OutboxNew]:
        out: list[OutboxNew] = []
        if new_owner.id != actor.person_id:
            reply = assigned_reply(
                updated,
                assigner=assigner,
                owner=new_owner,
                metric_line=metric_line,
                today=new_today,
                reassigned=True,
            )
            key = f"action:{item.id}:assigned:{event.id}"
            out.append(working_hours_dm(ctx, new_owner, reply, key=key))
        if old_owner is not None and old_owner.id != actor.person_id and old_owner.active:
            key = f"action:{item.id}:unassigned:{event.id}"
            out.append(working_hours_dm(ctx, old_owner, fyi, key=key))
        return out

    result = await store.change(
        ctx.db,
        item_id=item_id,
        actor_id=actor.person_id,
        kind="reassigned",
        detail=f"{person_name(old_owner)} → {new_owner.display_name}",
        allowed_from=store.OPEN_STATUSES,
        updates={
            "owner_id": new_owner.id,
            "team_id": new_owner.team_id,
            "assigned_by_id": actor.person_id,
            "status": ActionStatus.open,
            "close_offered_at": None,
        },
        now=ctx.now(),
        withdraw_followups=True,
        withdraw_proposals=True,
        messages=messages,
        expect_owner_id=item.owner_id,
    )
    if not result.applied:
        raise UserError(_CHANGED_MEANWHILE.format(item_ref(item)))
    if new_owner.id == actor.person_id:
        return plain(f"{item_ref(item)} *{item.title}* is now yours.")
    return plain(
        f"{item_ref(item)} *{item.title}* now belongs to {new_owner.display_name}; I've told them."
    )
