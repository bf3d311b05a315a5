"""The owner's requests: a new due date, or a cancellation, of an item someone else
assigned them; the assigner (or the owner's lead) approves or declines.

`/action due ID DATE` and `/action cancel ID [reason]` by such an owner record a request
and DM whoever decides, with Approve and Decline buttons (`action.approve`,
`action.decline`, value `"<item id>:<request id>"`; also `/action approve ID` and
`/action decline ID [reason]`). The item is unchanged until it is approved: its
reminders, nudges and escalation run from the original date. The owner hears the
decision. A newer request replaces a pending one; a leader moving the date, closing or
handing on the item withdraws it.
"""

from __future__ import annotations

import datetime as dt

from domain.dates import format_day
from domain.errors import NotAllowed, NotFound, UserError
from domain.localtime import local_today
from domain.types import (
    Actor,
    Block,
    Button,
    Buttons,
    Context,
    Form,
    FormField,
    Header,
    Reply,
    Text,
)
from handlers.actions.notices import working_hours_dm
from handlers.actions.permissions import (
    bound_owner,
    decider_for,
    get_person,
    load_item,
    no_such_item,
    refuse_closed,
    require_open,
)
from handlers.actions.render import item_ref, plain
from handlers.actions.text import NOTE_MAX, clean_note
from handlers.core.access import may_act_on
from handlers.core.context import HandlerContext
from storage import actions as store
from storage.models import ActionItem, ActionProposal, Person
from storage.outbox import OutboxNew

APPROVE_ACTION_ID = "action.approve"
DECLINE_ACTION_ID = "action.decline"
_NOBODY = (
    "There's nobody who can approve that now: your team has no lead or manager on the "
    "roster. Ask your admin. Nothing was changed."
)


def _day(day: dt.date | None, today: dt.date) -> str:
    return format_day(day, today=today) if day else "no due date"


def asked_text(p: ActionProposal, today: dt.date) -> str:
    """`move it from Tue 17 Nov to Fri 20 Nov` / `cancel it (reason)`."""
    if p.kind == "due":
        return f"move it from {_day(p.from_due, today)} to {_day(p.due_date, today)}"
    return "cancel it" + (f" ({p.reason})" if p.reason else "")


def decision_buttons(item: ActionItem, p: ActionProposal) -> Buttons:
    """Approve, and Decline with an optional reason (checked again on press)."""
    value = f"{item.id}:{p.id}"
    form = Form(
        title=f"Decline for {item_ref(item)}",
        action_id=DECLINE_ACTION_ID,
        value=value,
        fields=(FormField("reason", "Why? (they'll see it)", multiline=True, max_length=NOTE_MAX),),
        submit_label="Decline",
    )
    return Buttons(
        (
            Button("Approve", APPROVE_ACTION_ID, value, "primary"),
            Button("Decline", DECLINE_ACTION_ID, value, form=form),
        )
    )


def _request_dm(item: ActionItem, p: ActionProposal, owner: Actor, today: dt.date) -> Reply:
    text = f"*{owner.name}* asks to {asked_text(p, today)}: {item_ref(item)} *{item.title}*."
    blocks: list[Block] = [
        Header(f"Request: {item_ref(item)}"),
        Text(text),
        decision_buttons(item, p),
        Context(
            f"Or `/action approve {item.id}` / `/action decline {item.id} REASON`. Until you "
            f"approve, it stays due {_day(item.due_date, today)} and follow-ups carry on."
        ),
    ]
    return Reply(blocks=blocks, text=text.replace("*", ""))


async def _propose(
    ctx: HandlerContext, actor: Actor, item: ActionItem, p: ActionProposal, detail: str
) -> Reply:
    owner = await get_person(ctx, item.owner_id)
    decider = await decider_for(ctx, item, owner)
    if decider is None:
        raise UserError(_NOBODY)
    to: Person = decider
    today = local_today(ctx.now(), to.timezone)

    def messages(current: ActionItem, new: ActionProposal) -> list[OutboxNew]:
        reply = _request_dm(current, new, actor, today)
        return [working_hours_dm(ctx, to, reply, key=f"action:{current.id}:proposal:{new.id}")]

    result = await store.propose(
        ctx.db, proposal=p, now=ctx.now(), detail=detail, messages=messages
    )
    if not result.applied:
        raise await refuse_closed(ctx, actor, result.item or item)
    mine = local_today(ctx.now(), actor.timezone)
    text = (
        f"I've asked {to.display_name} to {asked_text(p, mine)}: {item_ref(item)} "
        f"*{item.title}*. Until they approve, it stays due {_day(item.due_date, mine)}."
    )
    if result.replaced is not None:
        text += " (This replaces your earlier request.)"
    return plain(text)


async def propose_due(
    ctx: HandlerContext, actor: Actor, item: ActionItem, new_due: dt.date | None
) -> Reply:
    """The owner asks for a new due date (None: no due date)."""
    assert item.id is not None
    p = ActionProposal(
        item_id=item.id, kind="due", due_date=new_due, proposed_by_id=actor.person_id
    )
    new = new_due.isoformat() if new_due else "none"
    old = item.due_date.isoformat() if item.due_date else "none"
    return await _propose(ctx, actor, item, p, f"asked to move it: {old} → {new}")


async def propose_cancel(ctx: HandlerContext, actor: Actor, item: ActionItem, reason: str) -> Reply:
    """The owner asks for the item to be cancelled."""
    assert item.id is not None
    p = ActionProposal(
        item_id=item.id, kind="cancel", reason=reason, proposed_by_id=actor.person_id
    )
    return await _propose(
        ctx, actor, item, p, "asked to cancel it" + (f": {reason}" if reason else "")
    )


# --- deciding ---------------------------------------------------------------------------


async def _pending_for(
    ctx: HandlerContext, actor: Actor, item_id: int, proposal_id: int | None
) -> tuple[ActionItem, ActionProposal]:
    """The item and its request the actor may decide. A request id that doesn't exist, or
    is another item's, gets the same answer as an item the actor may not see."""
    item = await load_item(ctx, actor, item_id)
    if proposal_id is None:
        p = await store.pending_proposal(ctx.db, item_id=item_id)
    else:
        p = await store.get_proposal(ctx.db, proposal_id=proposal_id)
        if p is None or p.item_id != item.id:
            raise no_such_item(item_id)
    await require_open(ctx, actor, item)
    if p is None:
        raise UserError(f"Nobody has asked to change {item_ref(item)}; nothing to decide.")
    owner = await get_person(ctx, item.owner_id)
    if bound_owner(actor, item) or owner is None or not await may_act_on(ctx, actor, owner):
        raise NotAllowed(
            f"Only whoever assigned {item_ref(item)} or the owner's lead can decide on it. "
            "Nothing was changed."
        )
    if p.status != "pending":
        raise UserError(f"That request about {item_ref(item)} was {p.status} already.")
    return item, p


def _outcome(p: ActionProposal, approve: bool, today: dt.date) -> str:
    if not approve:
        return "declined your request to " + asked_text(p, today)
    if p.kind == "due":
        return f"approved: it is now due {_day(p.due_date, today)}"
    return "approved: it is cancelled"


async def decide(
    ctx: HandlerContext,
    actor: Actor,
    item_id: int,
    *,
    approve: bool,
    proposal_id: int | None = None,
    reason: str = "",
) -> Reply:
    """Approve or decline the owner's pending request; the owner is told."""
    item, p = await _pending_for(ctx, actor, item_id, proposal_id)
    reason = clean_note(reason, "reason")
    owner = await get_person(ctx, item.owner_id)
    if owner is None:
        raise NotFound("The owner is no longer on the roster.")
    assert p.id is not None
    owner_today = local_today(ctx.now(), owner.timezone)
    told = (
        f"*{actor.name}* {_outcome(p, approve, owner_today)}: {item_ref(item)} *{item.title}*"
        + (f" ({reason})" if reason else "")
        + "."
    )
    notice = Reply(
        blocks=[Text(told), Context(f"`/action show {item.id}` for the whole trail.")],
        text=told.replace("*", ""),
    )
    verb = "approved" if approve else "declined"
    detail = f"{verb} the request to {asked_text(p, owner_today)}" + (
        f": {reason}" if reason else ""
    )

    def messages(current: ActionItem, decided: ActionProposal) -> list[OutboxNew]:
        key = f"action:{current.id}:proposal:{decided.id}:{verb}"
        return [working_hours_dm(ctx, owner, notice, key=key)]

    result = await store.decide(
        ctx.db,
        proposal_id=p.id,
        approve=approve,
        actor_id=actor.person_id,
        now=ctx.now(),
        detail=detail,
        messages=messages,
    )
    if not result.applied:
        raise UserError(f"{item_ref(item)} changed meanwhile; nothing was changed.")
    today = local_today(ctx.now(), actor.timezone)
    text = f"{verb.capitalize()}: {owner.display_name}'s request to {asked_text(p, today)} " + (
        f"({item_ref(item)} *{item.title}*). I've told them."
    )
    return Reply(blocks=[Text(text)], text=text.replace("*", ""), replace_original=True)
