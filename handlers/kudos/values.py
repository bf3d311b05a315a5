"""`/kudos values [list|add|remove]`: the company values a kudos can be tagged with;
admins change the list (kudos already given keep a removed value)."""

from __future__ import annotations

from domain.errors import NotFound, UsageError, UserError
from domain.parsing import Args
from domain.roles import Role, require_role
from domain.types import Block, Command, Context, Header, Reply, Table, Text
from handlers.core.context import HandlerContext
from handlers.kudos.render import value_key, values_hint
from storage import kudos as store
from storage.catalogue import list_value_tags


async def values_list(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/kudos values` (or `values list`): the tags one can use."""
    args.expect_end()
    values = await list_value_tags(ctx.db)
    rows = tuple((f"#{v.key}", v.name) for v in values)
    blocks: list[Block] = [Header("Our values"), Table(("tag", "value"), rows)]
    if cmd.actor.role is Role.admin:
        blocks.append(Context("Admins: `/kudos values add NAME`, `/kudos values remove NAME`"))
    return Reply(blocks=blocks, text="Values: " + values_hint(values))


def _named_value(cmd: Command, args: Args) -> tuple[str, str]:
    """(the name as typed, its tag key) for an admin's add or remove."""
    require_role(cmd.actor, Role.admin, doing="change the values list")
    name = " ".join(str(t) for t in args.rest()).strip().lstrip("#").strip()
    key = value_key(name)
    if not key:
        raise UsageError("Name the value, e.g. `/kudos values add Customer first`.")
    return name, key


async def values_add(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/kudos values add NAME` (admins)."""
    name, key = _named_value(cmd, args)
    if len(name) > 60:
        raise UsageError("A value name can be 60 characters at most.")
    if key in {v.key for v in await list_value_tags(ctx.db)}:
        raise UserError(f"#{key} is already one of our values.")
    display = name[0].upper() + name[1:]
    await store.add_value_tag(ctx.db, key=key, name=display)
    text = f"Added the value *{display}* (tag it with #{key})."
    return Reply(blocks=[Text(text)], text=text)


async def values_remove(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/kudos values remove NAME` (admins); kudos already given keep the value."""
    _name, key = _named_value(cmd, args)
    if not await store.remove_value_tag(ctx.db, key=key):
        values = await list_value_tags(ctx.db)
        raise NotFound(f"#{key} isn't one of our values ({values_hint(values)}).")
    text = f"Removed #{key}. Kudos already given with it keep it."
    return Reply(blocks=[Text(text)], text=text)
