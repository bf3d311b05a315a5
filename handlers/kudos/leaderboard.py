"""`/kudos top [week|month|quarter]`: who was recognised most, and for which values, in
the teams the actor sees, over the current calendar period in their time zone."""

from __future__ import annotations

import datetime as dt

from domain.errors import UserError
from domain.localtime import local_to_utc, local_today
from domain.parsing import Args
from domain.types import Actor, Block, Command, Context, Header, Reply, Table, Text
from handlers.core.access import visible_team_ids
from handlers.core.context import HandlerContext
from storage import kudos as store
from storage import people
from storage.kudos import Leaderboard
from storage.models import Person

PERIODS = ("week", "month", "quarter")


def period_start(now: dt.datetime, tz: str, period: str) -> tuple[dt.datetime, str]:
    """Start (UTC) of the current local week/month/quarter and a label for it."""
    today = local_today(now, tz)
    if period == "week":
        day = today - dt.timedelta(days=today.weekday())
        label = f"week of {day:%d %b}"
    elif period == "quarter":
        first_month = 3 * ((today.month - 1) // 3) + 1
        day = today.replace(month=first_month, day=1)
        label = f"Q{(today.month - 1) // 3 + 1} {today.year}"
    else:
        day = today.replace(day=1)
        label = f"{today:%B %Y}"
    return local_to_utc(day, dt.time(0, 0), tz), label


async def team_scope(actor: Actor, ctx: HandlerContext) -> list[int]:
    """Teams whose kudos the actor sees: their own; a manager's, those under them."""
    ids = set(await visible_team_ids(ctx, actor))
    if actor.team_id is not None:
        ids.add(actor.team_id)
    return sorted(ids)


async def top(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/kudos top [week|month|quarter]` (this month by default)."""
    actor = cmd.actor
    period = args.take_if(*PERIODS) or "month"
    args.expect_end()
    team_ids = await team_scope(actor, ctx)
    if not team_ids:
        raise UserError("You aren't in a team yet, so there is no leaderboard to show.")
    now = ctx.now()
    since, label = period_start(now, actor.timezone, period)
    board = await store.leaderboard(ctx.db, team_ids=team_ids, since=since, until=now)
    teams = [await people.get_team(ctx.db, team_id=t) for t in team_ids]
    scope = ", ".join(t.name for t in teams if t is not None)
    title = f"Kudos leaderboard: {label}"
    if board.total == 0:
        text = f"No kudos yet this {period} in {scope}. Be the first: `/kudos @name #value ...`"
        return Reply(blocks=[Header(title), Text(text)], text=text)
    names = await people.get_people(ctx.db, person_ids=[pid for pid, _ in board.by_person])
    tags = {v.key: v.name for v in await store.all_value_tags(ctx.db)}
    person_rows = _ranked(board, names)
    value_rows = tuple(
        (tags.get(k, k) if k else "(no value)", str(n), f"{100 * n / board.total:.0f} %")
        for k, n in board.by_value
    )
    blocks: list[Block] = [
        Header(title),
        Context(f"{scope} · {board.total} kudos to {len(board.by_person)} people"),
        Table(("#", "person", "kudos"), person_rows, ("r", "l", "r")),
        Text("*By value*"),
        Table(("value", "kudos", "share"), value_rows, ("l", "r", "r")),
    ]
    text = f"{title}\n" + "\n".join(f"{r[0]}. {r[1]}: {r[2]}" for r in person_rows)
    return Reply(blocks=blocks, text=text)


def _ranked(board: Leaderboard, names: dict[int, Person]) -> tuple[tuple[str, str, str], ...]:
    """The top ten as (rank, name, count); people with the same count share a rank."""
    rows = []
    rank = 0
    last = -1
    for i, (pid, n) in enumerate(board.by_person[:10]):
        if n != last:
            rank, last = i + 1, n
        p = names.get(pid)
        rows.append((str(rank), p.display_name if p else "(removed)", str(n)))
    return tuple(rows)
