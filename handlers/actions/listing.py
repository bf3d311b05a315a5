"""`/action list [mine|team|overdue|done|assigned|@person]`: one table of items."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from domain.dates import format_day
from domain.errors import NotAllowed, NotFound, UsageError
from domain.items import ActionStatus
from domain.localtime import local_today
from domain.parsing import Args
from domain.roles import LEADERS
from domain.types import (
    Actor,
    Block,
    Command,
    Context,
    Header,
    Mention,
    Reply,
    Table,
    Text,
    UnresolvedMention,
)
from handlers.actions.permissions import get_person, visible_items
from handlers.actions.render import STATUS_NAMES, item_ref, person_name
from handlers.core.access import require_person_view, visible_team_ids
from handlers.core.context import HandlerContext
from storage import actions as store
from storage import people
from storage.models import ActionItem, Person

LIST_LIMIT = 50
DONE_DAYS = 14
_SCOPE_WORDS = ("mine", "my", "me", "team", "overdue", "assigned", "all", "done")
_SCOPE_ALIASES = {"my": "mine", "me": "mine", "all": "team"}

Found = tuple[list[ActionItem], str]  # the items (one past the limit, if there are) and a title
_Fetch = Callable[[HandlerContext, Actor, "Person | None", dt.date], Awaitable[Found]]


async def _scope(ctx: HandlerContext, actor: Actor, args: Args) -> tuple[str, Person | None]:
    """Which list, and the person for `@person` (checked: the actor may see them)."""
    tok = args.peek()
    if isinstance(tok, Mention | UnresolvedMention):
        m = args.take_mention()
        person = await get_person(ctx, m.person_id)
        if person is None:
            raise NotFound(f"I don't know {m}.")
        await require_person_view(ctx, actor, person)
        return "person", person
    if tok is None:
        return ("mine" if actor.role not in LEADERS else "team"), None
    word = args.take_if(*_SCOPE_WORDS)
    if word is None:
        raise UsageError(
            f"I can list `mine`, `team`, `overdue`, `done`, `assigned` or `@person`, not {tok!r}."
        )
    return _SCOPE_ALIASES.get(word, word), None


async def _mine(ctx: HandlerContext, actor: Actor, _p: Person | None, _t: dt.date) -> Found:
    items = await store.list_items(ctx.db, owner_id=actor.person_id, limit=LIST_LIMIT + 1)
    return items, "Your open action items"


async def _assigned(ctx: HandlerContext, actor: Actor, _p: Person | None, _t: dt.date) -> Found:
    items = await store.list_items(ctx.db, assigned_by_id=actor.person_id, limit=LIST_LIMIT + 1)
    return items, "Action items you assigned"


async def _person(ctx: HandlerContext, _a: Actor, person: Person | None, _t: dt.date) -> Found:
    assert person is not None
    assert person.id is not None
    items = await store.list_items(ctx.db, owner_id=person.id, limit=LIST_LIMIT + 1)
    return items, f"{person.display_name}'s open action items"


async def _team(ctx: HandlerContext, actor: Actor, _p: Person | None, _t: dt.date) -> Found:
    if actor.role not in LEADERS:
        raise NotAllowed("Agents see their own items: try `/action list mine`.")
    teams = await visible_team_ids(ctx, actor)
    items = await store.list_items(ctx.db, team_ids=teams, limit=LIST_LIMIT + 1)
    return items, "Your team's open action items"


async def _done(ctx: HandlerContext, actor: Actor, _p: Person | None, _t: dt.date) -> Found:
    since = ctx.now() - dt.timedelta(days=DONE_DAYS)
    done = (ActionStatus.done,)
    if actor.role in LEADERS:
        teams = await visible_team_ids(ctx, actor)
        items = await store.list_items(
            ctx.db, team_ids=teams, statuses=done, closed_since=since, limit=LIST_LIMIT + 1
        )
    else:
        items = await store.list_items(
            ctx.db,
            owner_id=actor.person_id,
            statuses=done,
            closed_since=since,
            limit=LIST_LIMIT + 1,
        )
    return items, f"Done in the last {DONE_DAYS} days"


async def _overdue(ctx: HandlerContext, actor: Actor, _p: Person | None, today: dt.date) -> Found:
    """The actor's own overdue items, and for leaders their teams' as well."""
    mine = await store.list_items(
        ctx.db, owner_id=actor.person_id, due_before=today, limit=LIST_LIMIT + 1
    )
    if actor.role not in LEADERS:
        return mine, "Overdue action items"
    teams = await visible_team_ids(ctx, actor)
    items = await store.list_items(ctx.db, team_ids=teams, due_before=today, limit=LIST_LIMIT + 1)
    seen = {i.id for i in items}
    return items + [i for i in mine if i.id not in seen], "Overdue action items"


_FETCH: dict[str, _Fetch] = {
    "mine": _mine,
    "assigned": _assigned,
    "person": _person,
    "team": _team,
    "done": _done,
    "overdue": _overdue,
}


def _empty(scope: str, person: Person | None, actor: Actor) -> Reply:
    text = {
        "mine": "You have no open action items.",
        "assigned": "Nothing you assigned is open.",
        "person": f"{person_name(person)} has no open action items.",
        "team": "Your teams have no open action items.",
        "overdue": "Nothing is overdue.",
        "done": f"Nothing was done in the last {DONE_DAYS} days.",
    }[scope]
    hint = (
        "Create one with `/action @person what due DATE`."
        if actor.role in LEADERS
        else "Set yourself one with `/action me what due DATE`."
    )
    return Reply(blocks=[Text(text), Context(hint)], text=text)


def _is_overdue(item: ActionItem, today: dt.date) -> bool:
    return (
        item.status in store.OPEN_STATUSES and item.due_date is not None and item.due_date < today
    )


def _row(item: ActionItem, owner: Person | None, today: dt.date) -> tuple[str, ...]:
    return (
        item_ref(item),
        item.title if len(item.title) <= 60 else item.title[:59] + "…",
        person_name(owner),
        format_day(item.due_date, today=today) if item.due_date else "-",
        "overdue" if _is_overdue(item, today) else STATUS_NAMES[item.status],
    )


async def _table(
    ctx: HandlerContext, scope: str, title: str, found: list[ActionItem], today: dt.date
) -> Reply:
    items = found[:LIST_LIMIT]
    names = await people.get_people(ctx.db, person_ids=[i.owner_id for i in items if i.owner_id])
    rows = tuple(_row(i, names.get(i.owner_id or 0), today) for i in items)
    overdue = sum(_is_overdue(i, today) for i in items)
    blocks: list[Block] = [
        Header(title),
        Table(("#", "item", "owner", "due", "status"), rows, ("r", "l", "l", "l", "l")),
    ]
    summary = f"{len(items)} " + ("done" if scope == "done" else "open")
    summary += f", {overdue} overdue" if overdue else ""
    if len(found) > LIST_LIMIT:
        summary += f" (showing the first {LIST_LIMIT})"
    blocks.append(Context(summary + ". `/action show ID` for an item's trail."))
    text = title + ":\n" + "\n".join(f"{r[0]} {r[1]} ({r[2]}, due {r[3]}, {r[4]})" for r in rows)
    return Reply(blocks=blocks, text=text)


async def list_items(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/action list [mine|team|overdue|done|assigned|@person]` (leaders default to team)."""
    actor = cmd.actor
    scope, person = await _scope(ctx, actor, args)
    args.expect_end()
    today = local_today(ctx.now(), actor.timezone)
    items, title = await _FETCH[scope](ctx, actor, person, today)
    items = await visible_items(ctx, actor, items)
    if not items:
        return _empty(scope, person, actor)
    return await _table(ctx, scope, title, items, today)
