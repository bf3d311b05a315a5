"""The action-items section of the home view."""

from __future__ import annotations

from domain.localtime import local_today
from domain.roles import LEADERS
from domain.types import Actor, Block, Context, Header, Text
from handlers.actions.permissions import visible_items
from handlers.actions.render import due_text, item_buttons, item_ref
from handlers.core.access import visible_team_ids
from handlers.core.context import HandlerContext
from storage import actions as store

HOME_LIMIT = 10


async def _team_line(ctx: HandlerContext, actor: Actor) -> str | None:
    """For leads and managers: their teams' open and overdue totals (None when none open)."""
    if actor.role not in LEADERS:
        return None
    teams = await visible_team_ids(ctx, actor)
    today = local_today(ctx.now(), actor.timezone)
    items = await visible_items(ctx, actor, await store.list_items(ctx.db, team_ids=teams))
    n_open = len(items)
    n_overdue = sum(1 for i in items if i.due_date is not None and i.due_date < today)
    if not n_open:
        return None
    return f"Your teams: {n_open} open action items, {n_overdue} overdue. `/action list team`"


async def home_section(actor: Actor, ctx: HandlerContext) -> list[Block]:
    """The user's open items with their buttons (and, for leads, the team's totals)."""
    items = await store.list_items(ctx.db, owner_id=actor.person_id, limit=HOME_LIMIT + 1)
    team_line = await _team_line(ctx, actor)
    if not items and team_line is None:
        return []
    today = local_today(ctx.now(), actor.timezone)
    blocks: list[Block] = [Header("Your action items")]
    if not items:
        blocks.append(Text("You have no open action items."))
    for item in items[:HOME_LIMIT]:
        blocks.append(Text(f"*{item_ref(item)}* {item.title} · {due_text(item, today=today)}"))
        buttons = item_buttons(item, for_owner=True)
        if buttons:
            blocks.append(buttons)
    if len(items) > HOME_LIMIT:
        blocks.append(Context("More: `/action list mine`."))
    if team_line:
        blocks.append(Context(team_line))
    return blocks
