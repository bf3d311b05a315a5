"""`/kudos mine` (received and given in the last 90 days) and `/kudos recent` (the
latest shout-outs in the actor's teams; also plain `/kudos`)."""

from __future__ import annotations

import datetime as dt

from domain.localtime import fmt_local
from domain.parsing import Args
from domain.types import Block, Command, Context, Header, Reply, Table, Text
from handlers.core.context import HandlerContext
from handlers.kudos.leaderboard import team_scope
from handlers.kudos.render import join_names, short, values_hint
from storage import kudos as store
from storage import people
from storage.catalogue import list_value_tags
from storage.models import Person, Recognition

MINE_DAYS = 90


def _rid(r: Recognition) -> int:
    return r.id or 0


def _groups(recs: list[Recognition]) -> list[list[Recognition]]:
    """Recognitions by kudos: one kudos to several people is one group."""
    groups: dict[str, list[Recognition]] = {}
    for r in recs:
        groups.setdefault(r.group_key or str(r.id), []).append(r)
    return list(groups.values())


def _tag_name(tags: dict[str, str], r: Recognition) -> str:
    return tags.get(r.value_tag or "", "-") if r.value_tag else "-"


async def mine(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/kudos mine`: kudos the actor received and gave in the last 90 days."""
    args.expect_end()
    actor = cmd.actor
    since = ctx.now() - dt.timedelta(days=MINE_DAYS)
    received = await store.in_range(ctx.db, person_id=actor.person_id, since=since)
    given = await store.in_range(ctx.db, giver_id=actor.person_id, since=since)
    ids = {r.giver_id for r in received if r.giver_id} | {
        g.receiver_id for g in given if g.receiver_id
    }
    names = await people.get_people(ctx.db, person_ids=list(ids))
    tags = {v.key: v.name for v in await store.all_value_tags(ctx.db)}
    tz = actor.timezone
    blocks: list[Block] = [Header("Your kudos (last 90 days)")]
    blocks += _received(received, names, tags, tz)
    # One kudos to several people counts once in "given".
    groups = _groups(given)
    if groups:
        rows = tuple(
            (
                fmt_local(rs[0].created_at, tz, "%d %b"),
                join_names([_name(names, r.receiver_id) for r in sorted(rs, key=_rid)]),
                short(rs[0].message),
            )
            for rs in groups[:10]
        )
        blocks += [Text(f"*Given: {len(groups)}*"), Table(("when", "to", "message"), rows)]
    else:
        blocks.append(Text("*Given: 0*. Recognise someone with `/kudos @name #value message`."))
    text = f"You received {len(received)} and gave {len(groups)} kudos in the last 90 days."
    return Reply(blocks=blocks, text=text)


def _name(names: dict[int, Person], pid: int | None) -> str:
    p = names.get(pid or 0)
    return p.display_name if p else "someone"


def _received(
    received: list[Recognition], names: dict[int, Person], tags: dict[str, str], tz: str
) -> list[Block]:
    if not received:
        return [Text("*Received: 0* (yet!)")]
    by_value: dict[str, int] = {}
    for r in received:
        key = tags.get(r.value_tag or "", "") if r.value_tag else ""
        if key:
            by_value[key] = by_value.get(key, 0) + 1
    summary = f"*Received: {len(received)}*"
    if by_value:
        summary += " · " + ", ".join(f"{k} {n}" for k, n in sorted(by_value.items()))
    rows = tuple(
        (
            fmt_local(r.created_at, tz, "%d %b"),
            _name(names, r.giver_id),
            _tag_name(tags, r),
            short(r.message),
        )
        for r in received[:10]
    )
    return [Text(summary), Table(("when", "from", "value", "message"), rows)]


async def recent(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/kudos recent` (or plain `/kudos`): the latest shout-outs in the actor's teams."""
    args.expect_end()
    actor = cmd.actor
    team_ids = await team_scope(actor, ctx)
    latest = await store.in_range(ctx.db, team_ids=team_ids, limit=30) if team_ids else []
    values = await list_value_tags(ctx.db)
    blocks: list[Block] = [Header("Kudos")]
    if latest:
        ids = {r.giver_id for r in latest if r.giver_id} | {
            r.receiver_id for r in latest if r.receiver_id
        }
        names = await people.get_people(ctx.db, person_ids=list(ids))
        tags = {v.key: v.name for v in await store.all_value_tags(ctx.db)}
        rows = tuple(_feed_row(rs, names, tags, actor.timezone) for rs in _groups(latest)[:8])
        blocks.append(Text("*Latest shout-outs in your team*"))
        blocks.append(Table(("when", "from", "to", "value", "message"), rows))
    else:
        blocks.append(Text("No kudos in your team yet."))
    blocks.append(
        Context(
            "Give kudos: `/kudos @name [@name2] #value message` · values: "
            + values_hint(values)
            + " · `/kudos top`, `/kudos mine`"
        )
    )
    return Reply(blocks=blocks, text="Kudos: give with /kudos @name #value message")


def _feed_row(
    rs: list[Recognition], names: dict[int, Person], tags: dict[str, str], tz: str
) -> tuple[str, ...]:
    r = rs[0]
    giver = names.get(r.giver_id or 0)
    receivers = [
        n.display_name for x in sorted(rs, key=_rid) if (n := names.get(x.receiver_id or 0))
    ]
    return (
        fmt_local(r.created_at, tz, "%a %d %b"),
        giver.display_name if giver else "leadbot",
        join_names(receivers),
        _tag_name(tags, r),
        short(r.message, 60),
    )
