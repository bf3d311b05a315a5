"""Every `action.*` button and form (the value is always checked again on press).

- `action.accept`, `action.done`, `action.help`: value `"<item id>"`, on the owner's DM.
- `action.achieved`: value `"<item id>"`, the one-click close offered on evidence.
- `action.show`: value `"<item id>"`, the item with its trail.
- `action.approve`, `action.decline` (with an optional reason): value
  `"<item id>:<request id>"`, on the DM asking whoever decides an owner's request.
- `action.create` (handlers/core/followups.py): value `"<source>:<ref>:<owner person id>"`.
  Pressed, it opens the form (title, due); submitted, it creates the item with that source.
"""

from __future__ import annotations

import datetime as dt

from domain.dates import DateError, parse_date
from domain.errors import NotFound, UsageError, UserError
from domain.fmt import fmt_goal
from domain.localtime import local_today
from domain.types import Action, Actor, Reply
from handlers.actions.changes import accept, ask_help, mark_done
from handlers.actions.evidence import evidence_for
from handlers.actions.permissions import get_person, load_item, require_can_assign
from handlers.actions.proposals import decide
from handlers.actions.render import due_text, item_ref, plain
from handlers.actions.service import create_item, show_reply
from handlers.actions.text import clean_text, parse_item_id
from handlers.core import followups
from handlers.core.access import visible_team_ids
from handlers.core.context import HandlerContext
from storage import actions as store
from storage import catalogue

_INVALID = "That button isn't valid any more. Nothing was changed."
_NO_SOURCE = "That button's 1:1 or pulse round isn't one you can see. Nothing was changed."


# --- action.create ----------------------------------------------------------------------


async def _check_source(ctx: HandlerContext, actor: Actor, value: str) -> followups.FollowupSource:
    """The seam checks the value's shape; this checks the 1:1 or pulse round behind it
    still exists and that the presser may act on it."""
    source = followups.parse_value(value)
    # One answer whether the 1:1 or round doesn't exist or isn't the presser's: ids
    # reveal nothing. Who may then create the item is require_can_assign's to say.
    if source.source == "one_on_one":
        o = await store.get_one_on_one(ctx.db, one_on_one_id=int(source.ref))
        if o is None or o.agent_id != source.owner_id:
            raise NotFound(_NO_SOURCE)
    elif source.source == "pulse":
        r = await store.get_pulse_round(ctx.db, round_id=int(source.ref))
        if r is None or r.team_id not in await visible_team_ids(ctx, actor):
            raise NotFound(_NO_SOURCE)
    return source


def _read_form(form: dict[str, str], today: dt.date) -> tuple[str, dt.date | None, dict[str, str]]:
    """(title, due, errors by field) from a submitted form."""
    errors: dict[str, str] = {}
    title = clean_text(form.get("title", ""))
    if not title:
        errors["title"] = "Say what needs doing."
    elif len(title) > followups.TITLE_MAX:
        errors["title"] = f"{followups.TITLE_MAX} characters at most."
    due: dt.date | None = None
    due_raw = form.get("due", "").strip()
    if due_raw:
        try:
            due = parse_date(due_raw, today=today)
        except DateError as exc:
            errors["due"] = exc.message
    return title, due, errors


async def _create_from_form(action: Action, ctx: HandlerContext) -> Reply:
    # Who may create the item first, then the source: a 1:1 or round of someone the
    # presser may not act on reveals nothing.
    owner = await get_person(ctx, followups.parse_value(action.value).owner_id)
    if owner is None:
        raise NotFound("That person isn't on the roster. Nothing was changed.")
    await require_can_assign(ctx, action.actor, owner)
    source = await _check_source(ctx, action.actor, action.value)
    if not action.form:
        return Reply(form=followups.create_form(action.value), text="New action item")
    today = local_today(ctx.now(), action.actor.timezone)
    title, due, errors = _read_form(action.form, today)
    if errors:
        return Reply(errors=errors, ok=False, text="; ".join(errors.values()))
    item = await create_item(
        ctx,
        actor=action.actor,
        owner_id=source.owner_id,
        title=title,
        due=due,
        source=source.source,
        source_ref=source.ref,
    )
    who = "you" if source.owner_id == action.actor.person_id else owner.display_name
    return plain(
        f"Created {item_ref(item)} for {who}: *{item.title}*, {due_text(item, today=today)}."
    )


# --- the item buttons -------------------------------------------------------------------


def _button_item_id(value: str) -> int:
    try:
        return parse_item_id(value)
    except UsageError:
        raise UserError(_INVALID) from None


def _pair(value: str) -> tuple[int, int]:
    """`"<item id>:<request id>"` from an approve/decline button."""
    item, _, proposal = value.partition(":")
    return _button_item_id(item), _button_item_id(proposal)


async def _achieved(ctx: HandlerContext, actor: Actor, item_id: int) -> Reply:
    """Close as achieved, only while the evidence still holds (checked again now: a
    button pressed later, or a value sent by hand, closes nothing early)."""
    item = await load_item(ctx, actor, item_id)
    if item.metric_key is None:
        raise UserError(f"{item_ref(item)} isn't linked to a metric. Nothing was changed.")
    metric = await catalogue.get_metric(ctx.db, key=item.metric_key)
    owner = await get_person(ctx, item.owner_id)
    evidence = await evidence_for(ctx, item, owner) if owner is not None else None
    today = local_today(ctx.now(), owner.timezone if owner else actor.timezone)
    days = ctx.settings.action_evidence_days
    if evidence is None or metric is None or not evidence.holds(days, today):
        line = (
            evidence.line(metric, item.metric_op or "", item.metric_target or 0, today=today)
            if evidence is not None and metric is not None
            else "no figures yet."
        )
        raise UserError(
            f"{item_ref(item)} isn't achieved yet: it needs its target met for {days} working "
            f"days in a row. {line} Nothing was changed."
        )
    name = metric.name
    goal = fmt_goal(metric.unit, item.metric_op or "", item.metric_target or 0)
    return await mark_done(
        ctx,
        actor,
        item_id,
        achieved=f"closed as achieved: {name} {goal} for "
        f"{ctx.settings.action_evidence_days} working days in a row",
    )


async def _show(ctx: HandlerContext, actor: Actor, item_id: int) -> Reply:
    return await show_reply(ctx, actor, await load_item(ctx, actor, item_id))


async def action_button(action: Action, ctx: HandlerContext) -> Reply:
    """Every `action.*` button and form."""
    if action.action_id == followups.CREATE_ACTION_ID:
        return await _create_from_form(action, ctx)
    kind = action.action_id.removeprefix("action.")
    actor = action.actor
    if kind in ("approve", "decline"):
        item_id, proposal_id = _pair(action.value)
        return await decide(
            ctx,
            actor,
            item_id,
            approve=kind == "approve",
            proposal_id=proposal_id,
            reason=action.form.get("reason", ""),
        )
    if kind not in ("accept", "done", "help", "achieved", "show"):
        raise UserError(_INVALID)
    item_id = _button_item_id(action.value)
    if kind == "accept":
        return await accept(ctx, actor, item_id)
    if kind == "done":
        return await mark_done(ctx, actor, item_id)
    if kind == "help":
        return await ask_help(ctx, actor, item_id, action.form.get("message", ""))
    if kind == "show":
        return await _show(ctx, actor, item_id)
    return await _achieved(ctx, actor, item_id)
