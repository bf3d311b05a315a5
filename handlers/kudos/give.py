"""`/kudos @person [@person2 ...] [#value] MESSAGE`: one shout-out in each receiver's team
channel and a DM to each receiver, recorded with them in one transaction, within the
giver's daily allowance (counted per local day)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from domain.errors import NotFound, UsageError, UserError
from domain.localtime import local_midnight
from domain.parsing import Args
from domain.types import Actor, Block, Command, Context, Mention, Reply, Text
from handlers.core import notify
from handlers.core.context import HandlerContext
from handlers.kudos.render import MAX_MESSAGE, join_names, shout_out, value_key, values_hint
from storage import kudos as store
from storage import outbox, people
from storage.catalogue import list_value_tags
from storage.models import Person, ValueTag
from storage.outbox import OutboxNew


async def give(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """Recognise the mentioned people (the root form of `/kudos`)."""
    actor = cmd.actor
    receivers = _receivers(actor, args)
    words = [str(t) for t in args.rest()]
    tag = _take_value(words, await list_value_tags(ctx.db))
    message = _message(words)
    found = await _on_roster(ctx, receivers)
    now = ctx.now()
    limit = ctx.settings.kudos_daily_limit
    day_start = local_midnight(now, actor.timezone)
    group_key = uuid.uuid4().hex
    giver = await people.get_person(ctx.db, person_id=actor.person_id)
    giver_name = giver.display_name if giver else actor.name
    written = await store.record(
        ctx.db,
        giver_id=actor.person_id,
        receivers=[store.NewRecognition(p.id or 0, _team_of(p, actor)) for p in found],
        message=message,
        value_tag=tag.key if tag else None,
        group_key=group_key,
        at=now,
        messages=_messages(ctx, actor, giver_name, found, tag, message, group_key),
        daily_limit=limit,
        day_start=day_start,
    )
    if written is None:
        assert limit is not None
        raise UserError(await _over_allowance(ctx, actor, limit, day_start, len(found)))
    names = join_names([p.display_name for p in found])
    text = f"Kudos sent to {names}" + (f" for {tag.name}" if tag else "") + "."
    blocks: list[Block] = [Text(text), Context(await _where_posted(ctx, actor, found))]
    if limit is not None:
        given = await store.count_given_since(ctx.db, giver_id=actor.person_id, since=day_start)
        blocks.append(Context(f"{max(limit - given, 0)} of your {limit} daily kudos left."))
    return Reply(blocks=blocks, text=text)


async def _where_posted(ctx: HandlerContext, actor: Actor, found: list[Person]) -> str:
    """Where the shout-out goes, truthfully: each team's linked channel, and a DM to
    each receiver (a team with no channel linked gets no post)."""
    names = join_names([p.display_name for p in found])
    posted: list[str] = []
    unlinked: list[str] = []
    for tid in dict.fromkeys(t for t in (_team_of(p, actor) for p in found) if t is not None):
        team = await people.get_team(ctx.db, team_id=tid)
        if team is None:
            continue
        linked = await outbox.team_has_channel(ctx.db, team_id=tid)
        (posted if linked else unlinked).append(team.name)
    parts = []
    if posted:
        parts.append(f"The shout-out is posted in {join_names(posted)}'s channel")
    if unlinked:
        parts.append(
            f"{join_names(unlinked)} {'has' if len(unlinked) == 1 else 'have'} no channel "
            "linked, so there is no shout-out post there (`/leadbot link` in the team's "
            "channel sets one)"
        )
    return "; ".join([*parts, f"{names} got it by DM."])


def _receivers(actor: Actor, args: Args) -> list[Mention]:
    """The mentions the command starts with, each once; never the giver."""
    mentions = args.take_mentions()
    if not mentions:
        raise UsageError("Start with the person to recognise, e.g. `/kudos @maria.lopez ...`.")
    receivers: list[Mention] = []
    for m in mentions:
        if m.person_id not in {r.person_id for r in receivers}:
            receivers.append(m)
    if any(r.person_id == actor.person_id for r in receivers):
        raise UserError(
            "Kudos are for recognising others, so you can't give them to yourself. "
            "Is there someone who helped you this week?"
        )
    return receivers


def _take_value(words: list[str], values: Sequence[ValueTag]) -> ValueTag | None:
    """Remove the `#value` from `words` and return its tag (None when there is none)."""
    by_key = {v.key: v for v in values}
    # The value goes right after the names, or at the very end ("... great save #ownership").
    for idx in (0, len(words) - 1):
        if words and 0 <= idx < len(words) and words[idx].startswith("#") and len(words[idx]) > 1:
            key = value_key(words[idx])
            if key not in by_key:
                raise UsageError(
                    f"{words[idx]} isn't one of our values. Use one of: {values_hint(values)}."
                )
            del words[idx]
            return by_key[key]
    return None


def _message(words: list[str]) -> str:
    message = " ".join(words).strip()
    if not message:
        raise UsageError(
            "Say what they did, e.g. `/kudos @maria.lopez #ownership took the outage`."
        )
    if len(message) > MAX_MESSAGE:
        raise UsageError(f"Please keep it under {MAX_MESSAGE} characters ({len(message)} now).")
    return message


async def _on_roster(ctx: HandlerContext, receivers: list[Mention]) -> list[Person]:
    by_id = await people.get_people(ctx.db, person_ids=[r.person_id for r in receivers])
    found: list[Person] = []
    for r in receivers:
        p = by_id.get(r.person_id)
        if p is None or not p.active:
            raise NotFound(f"I can't find {r.name} on the roster any more.")
        found.append(p)
    return found


def _team_of(p: Person, actor: Actor) -> int | None:
    """The team a kudos counts for: the receiver's, else (no team) the giver's."""
    return p.team_id if p.team_id is not None else actor.team_id


def _messages(
    ctx: HandlerContext,
    actor: Actor,
    giver_name: str,
    found: list[Person],
    tag: ValueTag | None,
    message: str,
    group_key: str,
) -> list[OutboxNew]:
    """One shout-out per team the receivers are in, and a DM to each receiver."""
    post = shout_out(giver_name, [p.display_name for p in found], tag, message)
    team_ids: list[int] = []
    for p in found:
        tid = _team_of(p, actor)
        if tid is not None and tid not in team_ids:
            team_ids.append(tid)
    msgs: list[OutboxNew] = [
        notify.team_message(tid, post, dedupe_key=f"kudos:{group_key}:team:{tid}")
        for tid in team_ids
    ]
    for p in found:
        others = [q.display_name for q in found if q.id != p.id]
        with_ = f" (together with {join_names(others)})" if others else ""
        dm_text = f"🎉 *{giver_name}* gave you kudos{with_}"
        if tag is not None:
            dm_text += f" for *{tag.name}*"
        dm = Reply(
            blocks=[Text(dm_text), Text(f"> {message}"), Context("See yours with `/kudos mine`.")],
            text=f"{giver_name} gave you kudos: {message}",
        )
        msgs.append(notify.person_message(ctx, p, dm, dedupe_key=f"kudos:{group_key}:dm:{p.id}"))
    return msgs


async def _over_allowance(
    ctx: HandlerContext, actor: Actor, limit: int, day_start: dt.datetime, wanted: int
) -> str:
    """Why the kudos was refused: the allowance is used up, or too small for `wanted`."""
    given = await store.count_given_since(ctx.db, giver_id=actor.person_id, since=day_start)
    left = max(limit - given, 0)
    if left == 0:
        return (
            f"You've given all {limit} of today's kudos. Thank you for spreading the "
            "appreciation! Your allowance refreshes tomorrow."
        )
    return (
        f"You have {left} kudos left today, not enough for {wanted} people. "
        "Pick fewer people, or save some for tomorrow."
    )
