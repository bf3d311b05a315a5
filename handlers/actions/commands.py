"""The `/action` sub-command handlers (`list` is in listing.py): each reads its words and
calls the operation in service.py or changes.py.

The root handler creates an item: `/action @owner TEXT [due DATE] [metric METRIC OP TARGET]`
(`me` for yourself). The last `due` and the last `metric` start the clauses, so a title
that contains either word goes in quotes.
"""

from __future__ import annotations

import datetime as dt

from domain.dates import DateError, format_day, parse_date
from domain.errors import UsageError
from domain.localtime import local_today
from domain.parsing import Args, token_text
from domain.roles import Role
from domain.shifts import is_working_day
from domain.types import (
    Actor,
    Block,
    Command,
    Context,
    Mention,
    Reply,
    Text,
    Token,
    UnresolvedMention,
)
from handlers.actions.changes import accept, cancel, change_due, mark_done, reassign
from handlers.actions.notices import working_moment
from handlers.actions.permissions import get_person, load_item
from handlers.actions.proposals import decide
from handlers.actions.render import due_text, goal_line, item_ref, person_name
from handlers.actions.service import create_item, show_reply
from handlers.actions.targets import MetricLink, parse_metric_clause
from handlers.actions.text import clean_note, clean_title, parse_item_id
from handlers.core.context import HandlerContext
from storage import catalogue
from storage.models import ActionItem, Person

_ME = ("@me", "@myself", "me", "myself")
_QUOTE_HINT = " (If `{}` is part of the title, put the title in quotes.)"


# --- create (the root handler) ----------------------------------------------------------


def _owner_id(first: Token, actor: Actor) -> int:
    if str(first).lower() in _ME:
        return actor.person_id
    if isinstance(first, UnresolvedMention):
        raise UsageError(f"I don't know {first.text}: {first.reason}.")
    if isinstance(first, Mention):
        return first.person_id
    # Not unknown_subcommand: the user most likely forgot the owner, so say that.
    raise UsageError(
        f"I don't know `/action {token_text(first)}`. Start with who owns the item "
        "(`/action @maria.lopez ...`, or `/action me ...` for yourself)."
    )


def _split_clauses(
    tokens: list[Token],
) -> tuple[list[Token], list[Token] | None, list[Token] | None]:
    """(title tokens, due clause, metric clause): the last `due` and the last `metric`."""
    marks: dict[str, int] = {}
    for i, tok in enumerate(tokens):
        if isinstance(tok, str) and tok.lower() in ("due", "metric"):
            marks[tok.lower()] = i
    ordered = sorted(marks.items(), key=lambda kv: kv[1])
    clauses: dict[str, list[Token]] = {}
    for n, (word, start) in enumerate(ordered):
        end = ordered[n + 1][1] if n + 1 < len(ordered) else len(tokens)
        clauses[word] = tokens[start + 1 : end]
    title_end = ordered[0][1] if ordered else len(tokens)
    return tokens[:title_end], clauses.get("due"), clauses.get("metric")


def _due(tokens: list[Token] | None, today: dt.date) -> dt.date | None:
    if tokens is None:
        return None
    try:
        return parse_date(tokens, today=today)
    except DateError as exc:
        raise DateError(exc.message + _QUOTE_HINT.format("due")) from None


async def _link(ctx: HandlerContext, tokens: list[Token] | None) -> MetricLink | None:
    if tokens is None:
        return None
    try:
        link, _metric = await parse_metric_clause(ctx, " ".join(token_text(t) for t in tokens))
    except UsageError as exc:
        raise UsageError(exc.message + _QUOTE_HINT.format("metric")) from None
    return link


def _created_text(
    ctx: HandlerContext, actor: Actor, item: ActionItem, owner: Person | None, today: dt.date
) -> str:
    due = due_text(item, today=today)
    if item.owner_id == actor.person_id:
        return f"Added {item_ref(item)} for you: *{item.title}*, {due}."
    assert owner is not None
    held = ""
    if owner.role is Role.agent and working_moment(ctx, owner) > ctx.now():
        held = " (they're off shift now; I'll message them when their shift starts)"
    return (
        f"Assigned {item_ref(item)} to *{person_name(owner)}*: *{item.title}*, "
        f"{due}. I've told them{held}."
    )


def _day_off_note(item: ActionItem, owner: Person | None, today: dt.date) -> list[Block]:
    if item.due_date is None or owner is None:
        return []
    try:
        off = not is_working_day(owner.work_hours, item.due_date)
    except ValueError:  # a bad shift pattern: no hint rather than a wrong one
        off = False
    if not off:
        return []
    day = format_day(item.due_date, today=today)
    return [Context(f"Note: {day} is a day off for {owner.display_name}.")]


async def _metric_note(ctx: HandlerContext, link: MetricLink | None) -> list[Block]:
    metric = await catalogue.get_metric(ctx.db, key=link.key) if link else None
    if link is None or metric is None:
        return []
    return [
        Context(
            f"Linked to {goal_line(metric, link.op, link.target)}: "
            f"I'll offer to close it when that holds for "
            f"{ctx.settings.action_evidence_days} working days in a row."
        )
    ]


async def create(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/action @owner TEXT [due DATE] [metric METRIC OP TARGET]`."""
    if not args:
        raise UsageError("Say who owns the item and what it is, or `list`.")
    actor = cmd.actor
    owner_id = _owner_id(args.next(), actor)
    title_toks, due_toks, metric_toks = _split_clauses(args.rest())
    title = clean_title(" ".join(token_text(t) for t in title_toks))
    today = local_today(ctx.now(), actor.timezone)
    due = _due(due_toks, today)
    link = await _link(ctx, metric_toks)
    item = await create_item(ctx, actor=actor, owner_id=owner_id, title=title, due=due, metric=link)
    owner = await get_person(ctx, owner_id)
    text = _created_text(ctx, actor, item, owner, today)
    blocks: list[Block] = [Text(text)]
    blocks += _day_off_note(item, owner, today)
    blocks += await _metric_note(ctx, link)
    blocks.append(Context(f"`/action show {item.id}` shows its trail; `/action list` your items."))
    return Reply(blocks=blocks, text=text.replace("*", ""))


# --- one item -------------------------------------------------------------------------


def _item_id(args: Args) -> int:
    return parse_item_id(args.take_word("the item number"))


async def show(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/action show ID`."""
    item_id = _item_id(args)
    args.expect_end()
    item = await load_item(ctx, cmd.actor, item_id)
    return await show_reply(ctx, cmd.actor, item)


async def accept_command(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/action accept ID`."""
    item_id = _item_id(args)
    args.expect_end()
    return await accept(ctx, cmd.actor, item_id)


async def done(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/action done ID [note]`."""
    item_id = _item_id(args)
    return await mark_done(ctx, cmd.actor, item_id, args.rest_text())


async def due(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/action due ID DATE|none`."""
    item_id = _item_id(args)
    rest = args.rest()
    if not rest:
        raise UsageError("Give the new due date, e.g. `/action due 12 friday`.")
    clear = len(rest) == 1 and isinstance(rest[0], str) and rest[0].lower() in ("none", "never")
    today = local_today(ctx.now(), cmd.actor.timezone)
    new_due = None if clear else parse_date(rest, today=today)
    return await change_due(ctx, cmd.actor, item_id, new_due)


async def reassign_command(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/action reassign ID [to] @person`."""
    item_id = _item_id(args)
    args.take_if("to")
    who = args.take_mention("the new owner (@name)")
    args.expect_end()
    return await reassign(ctx, cmd.actor, item_id, who)


async def cancel_command(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/action cancel ID [reason]`."""
    item_id = _item_id(args)
    reason = clean_note(args.rest_text(), "reason")
    return await cancel(ctx, cmd.actor, item_id, reason)


async def approve_command(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/action approve ID`: approve the owner's pending request about the item."""
    item_id = _item_id(args)
    args.expect_end()
    return await decide(ctx, cmd.actor, item_id, approve=True)


async def decline_command(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/action decline ID [reason]`: decline it (the owner sees the reason)."""
    item_id = _item_id(args)
    return await decide(ctx, cmd.actor, item_id, approve=False, reason=args.rest_text())
