"""Who may do what with an item, and the refusal for an item that is already closed.

Every item has one owner. Leads and managers assign within the teams they lead or
manage; anyone may create items for themselves. Only the owner, the person who assigned
it, and the owner's lead or manager may see or change an item.
"""

from __future__ import annotations

from domain.errors import NotAllowed, NotFound, UserError
from domain.localtime import local_today
from domain.roles import LEADERS, Role
from domain.types import Actor
from handlers.actions.render import closed_explained
from handlers.core.access import visible_team_ids
from handlers.core.context import HandlerContext
from storage import actions as store
from storage import people
from storage.models import ActionItem, Person


async def get_person(ctx: HandlerContext, person_id: int | None) -> Person | None:
    """The person with this id (None for none, or for someone no longer on the roster)."""
    if person_id is None:
        return None
    return await people.get_person(ctx.db, person_id=person_id)


async def may_change(ctx: HandlerContext, actor: Actor, item: ActionItem) -> bool:
    """The owner, the assigner, or a lead/manager of the item's (or owner's) team."""
    if actor.person_id in (item.owner_id, item.assigned_by_id):
        return True
    if actor.role not in LEADERS:
        return False
    teams = await visible_team_ids(ctx, actor)
    if item.team_id is not None and item.team_id in teams:
        return True
    owner = await get_person(ctx, item.owner_id)
    return owner is not None and owner.team_id is not None and owner.team_id in teams


async def load_item(ctx: HandlerContext, actor: Actor, item_id: int) -> ActionItem:
    """The item, when it exists and the actor may see (and so change) it."""
    item = await store.get(ctx.db, item_id=item_id)
    if item is None:
        raise NotFound(f"There is no action item #{item_id}.")
    if not await may_change(ctx, actor, item):
        raise NotAllowed(
            f"#{item_id} isn't yours: only its owner, the person who assigned it, and the "
            "owner's lead or manager can see or change it. Nothing was changed."
        )
    return item


async def require_can_assign(ctx: HandlerContext, actor: Actor, owner: Person) -> None:
    """Anyone may own their own items; leads and managers assign within their teams."""
    if not owner.active:
        raise NotFound(f"{owner.display_name} is no longer active on the roster.")
    if owner.id == actor.person_id:
        return
    if actor.role is Role.agent:
        raise NotAllowed(
            "Agents can create action items for themselves only (`/action me call back ...`)."
        )
    if actor.role not in LEADERS:
        raise NotAllowed("Action items are assigned by leads and managers.")
    if owner.team_id is None or owner.team_id not in await visible_team_ids(ctx, actor):
        raise NotAllowed(f"{owner.display_name} isn't in a team you lead or manage.")


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
