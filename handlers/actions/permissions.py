"""Who may do what with an item, and the refusal for an item that is already closed.

Every item has one owner. Leads and managers assign to the people they may act on
(handlers/core/access.py: a lead to the agents of their team, a manager to the agents and
leads of the teams they manage); anyone may create items for themselves. An item may be
seen and changed by its owner and by whoever may act on the owner *now*: a lead moved
away or demoted loses their old team's items at once, whoever assigned them.

The owner of an item someone else assigned is bound by it: they may accept it, finish
it, ask for help, and *ask* for a new date or a cancellation, which the assigner (or the
owner's lead) decides. Items the owner assigned themselves stay theirs to change.

An item that doesn't exist and one the asker may not see get the same answer, so item
numbers reveal nothing.
"""

from __future__ import annotations

from domain.errors import NotAllowed, NotFound, UserError
from domain.localtime import local_today
from domain.roles import Role
from domain.types import Actor
from handlers.actions.render import closed_explained
from handlers.core.access import leader_for, may_act_on, standing
from handlers.core.context import HandlerContext
from storage import actions as store
from storage import people
from storage.models import ActionItem, Person


async def get_person(ctx: HandlerContext, person_id: int | None) -> Person | None:
    """The person with this id (None for none, or for someone no longer on the roster)."""
    if person_id is None or not 0 < person_id <= store.MAX_ID:
        return None
    return await people.get_person(ctx.db, person_id=person_id)


def no_such_item(item_id: int) -> NotFound:
    """The one answer for an item that doesn't exist and one the asker may not see."""
    return NotFound(
        f"There is no action item #{item_id} that you can see. Nothing was changed. "
        "`/action list` shows yours."
    )


async def may_change(ctx: HandlerContext, actor: Actor, item: ActionItem) -> bool:
    """The owner, or whoever may act on the owner now (their team's lead, its manager).
    An item whose owner left (or was switched off) is looked after by the leaders of the
    team it was in."""
    if actor.person_id == item.owner_id:
        return True
    owner = await get_person(ctx, item.owner_id)
    if owner is not None and owner.active:
        return await may_act_on(ctx, actor, owner)
    s = await standing(ctx, actor)
    return s.role in (Role.lead, Role.manager) and s.leads_team(item.team_id)


async def visible_items(
    ctx: HandlerContext, actor: Actor, items: list[ActionItem]
) -> list[ActionItem]:
    """The items of a list the actor may see (may_change), in their order, in one pass:
    a team's list never shows a manager's own items to the lead, nor a moved lead the
    items of the team they left."""
    s = await standing(ctx, actor)
    owners = await people.get_people(
        ctx.db, person_ids=[i.owner_id for i in items if i.owner_id is not None]
    )

    def ok(item: ActionItem) -> bool:
        if item.owner_id == actor.person_id:
            return True
        owner = owners.get(item.owner_id or 0)
        if owner is not None and owner.active:
            return s.may_act_on(owner)
        return s.role in (Role.lead, Role.manager) and s.leads_team(item.team_id)

    return [i for i in items if ok(i)]


async def load_item(ctx: HandlerContext, actor: Actor, item_id: int) -> ActionItem:
    """The item, when it exists and the actor may see (and so change) it."""
    item = await store.get(ctx.db, item_id=item_id)
    if item is None or not await may_change(ctx, actor, item):
        raise no_such_item(item_id)
    return item


def self_assigned(item: ActionItem) -> bool:
    """An item its owner created for themselves: theirs to move or cancel freely."""
    return item.assigned_by_id is not None and item.assigned_by_id == item.owner_id


def bound_owner(actor: Actor, item: ActionItem) -> bool:
    """The actor owns an item someone else assigned them: a new date or a cancellation is
    a request for the assigner (or their lead) to decide."""
    return actor.person_id == item.owner_id and not self_assigned(item)


async def decider_for(ctx: HandlerContext, item: ActionItem, owner: Person | None) -> Person | None:
    """Who decides the owner's requests and hears how the item goes: whoever assigned it
    while they may still act on the owner, else the owner's lead (then manager) now;
    nobody for an item the owner assigned themselves."""
    if owner is None or self_assigned(item):
        return None
    assigner = await get_person(ctx, item.assigned_by_id)
    if assigner is not None and assigner.id != owner.id and await may_act_on(ctx, assigner, owner):
        return assigner
    return await leader_for(ctx, owner)


async def require_can_assign(ctx: HandlerContext, actor: Actor, owner: Person) -> None:
    """Anyone may own their own items; leads and managers assign to the people they may
    act on (handlers/core/access.py)."""
    if not owner.active:
        raise NotFound(f"{owner.display_name} is no longer active on the roster.")
    if owner.id == actor.person_id:
        return
    s = await standing(ctx, actor)
    if s.role is Role.agent:
        raise NotAllowed(
            "Agents can create action items for themselves only (`/action me call back ...`)."
        )
    if s.role not in (Role.lead, Role.manager):
        raise NotAllowed("Action items are assigned by leads and managers.")
    if not s.may_act_on(owner):
        raise NotAllowed(s.refusal(owner))


async def _closer(ctx: HandlerContext, item: ActionItem) -> Person | None:
    trail = await store.events(ctx.db, item_id=item.id or 0)
    closing = [e for e in trail if e.kind in ("done", "cancelled")]
    return await get_person(ctx, closing[-1].actor_id) if closing else None


async def refuse_closed(ctx: HandlerContext, actor: Actor, item: ActionItem) -> UserError:
    """The error for a change to a closed item: who closed it and when (to raise)."""
    today = local_today(ctx.now(), actor.timezone)
    return UserError(closed_explained(item, await _closer(ctx, item), actor.timezone, today))


async def require_open(ctx: HandlerContext, actor: Actor, item: ActionItem) -> None:
    """Refuse (explained) a change to an item that is done or cancelled."""
    if item.status not in store.OPEN_STATUSES:
        raise await refuse_closed(ctx, actor, item)
