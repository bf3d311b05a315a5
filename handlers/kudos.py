"""`/kudos`: recognition shout-outs, leaderboards, the values list, and the KPI suggestions'
Post / Dismiss buttons."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Sequence

from domain.errors import NotAllowed, NotFound, UsageError, UserError
from domain.localtime import local_to_utc, zone
from domain.parsing import Args
from domain.roles import Role, require_role
from domain.types import (
    Action,
    Actor,
    Block,
    Button,
    Buttons,
    Command,
    Context,
    Form,
    FormField,
    Header,
    Mention,
    Reply,
    Table,
    Text,
    Visibility,
)
from handlers.core import notify
from handlers.core.access import visible_team_ids
from handlers.core.context import ActionSpec, CommandSpec, HandlerContext
from storage import kudos as store
from storage import people
from storage.catalogue import list_value_tags
from storage.models import Person, Recognition, ValueTag
from storage.outbox import OutboxNew

MAX_MESSAGE = 1000
PERIODS = ("week", "month", "quarter")
_KEY_RE = re.compile(r"[^a-z0-9]+")


def value_key(name: str) -> str:
    """How a value is written after `#`: lower case, words joined by dashes."""
    return _KEY_RE.sub("-", name.strip().lstrip("#").lower()).strip("-")[:32]


def _tz(name: str) -> str:
    try:
        return zone(name).key
    except ValueError:
        return "UTC"


def local_day_start(now: dt.datetime, tz: str) -> dt.datetime:
    """Midnight (UTC) of the local day `now` falls on in `tz`."""
    z = zone(_tz(tz))
    return local_to_utc(now.astimezone(z).date(), dt.time(0, 0), z)


def period_start(now: dt.datetime, tz: str, period: str) -> tuple[dt.datetime, str]:
    """Start (UTC) of the current local week/month/quarter and a label for it."""
    z = zone(_tz(tz))
    today = now.astimezone(z).date()
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
    return local_to_utc(day, dt.time(0, 0), z), label


def shout_out(
    giver_name: str, receiver_names: Sequence[str], value: ValueTag | None, message: str
) -> Reply:
    """The channel post for one kudos."""
    who = _join(receiver_names)
    head = f"🎉 *{giver_name}* recognised *{who}*"
    if value is not None:
        head += f" for *{value.name}*"
    blocks: list[Block] = [
        Text(head),
        Text(f"> {message}"),
        Context("Give kudos with `/kudos @name #value message`"),
    ]
    return Reply(
        blocks=blocks,
        text=f"{giver_name} recognised {who}: {message}",
        visibility=Visibility.channel,
    )


def _join(names: Sequence[str]) -> str:
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


async def _valid_values(ctx: HandlerContext) -> list[ValueTag]:
    return await list_value_tags(ctx.db)


def _values_hint(values: Sequence[ValueTag]) -> str:
    return ", ".join(f"#{v.key}" for v in values) or "(none configured)"


# --- /kudos ----------------------------------------------------------------------------


async def kudos(cmd: Command, ctx: HandlerContext) -> Reply:
    args = Args(cmd.args)
    if not args:
        return await _recent(cmd.actor, ctx)
    sub = args.take_if("top", "mine", "values", "recent")
    if sub == "top":
        return await _top(cmd.actor, args, ctx)
    if sub == "mine":
        args.expect_end()
        return await _mine(cmd.actor, ctx)
    if sub == "values":
        return await _values(cmd.actor, args, ctx)
    if sub == "recent":
        args.expect_end()
        return await _recent(cmd.actor, ctx)
    return await _give(cmd.actor, args, ctx)


async def _give(actor: Actor, args: Args, ctx: HandlerContext) -> Reply:
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
    words = [str(t) for t in args.rest()]
    values = await _valid_values(ctx)
    by_key = {v.key: v for v in values}
    tag: ValueTag | None = None
    # The value goes right after the names, or at the very end ("... great save #ownership").
    for idx in (0, len(words) - 1):
        if words and 0 <= idx < len(words) and words[idx].startswith("#") and len(words[idx]) > 1:
            key = value_key(words[idx])
            if key not in by_key:
                raise UsageError(
                    f"{words[idx]} isn't one of our values. Use one of: {_values_hint(values)}."
                )
            tag = by_key[key]
            del words[idx]
            break
    message = " ".join(words).strip()
    if not message:
        raise UsageError(
            "Say what they did, e.g. `/kudos @maria.lopez #ownership took the outage`."
        )
    if len(message) > MAX_MESSAGE:
        raise UsageError(f"Please keep it under {MAX_MESSAGE} characters ({len(message)} now).")

    by_id = await people.get_people(ctx.db, person_ids=[r.person_id for r in receivers])
    found: list[Person] = []
    for r in receivers:
        p = by_id.get(r.person_id)
        if p is None or not p.active:
            raise NotFound(f"I can't find {r.name} on the roster any more.")
        found.append(p)

    now = ctx.now()
    limit = ctx.settings.kudos_daily_limit
    day_start = local_day_start(now, actor.timezone)
    group_key = uuid.uuid4().hex
    giver = await people.get_person(ctx.db, person_id=actor.person_id)
    giver_name = giver.display_name if giver else actor.name
    post = shout_out(giver_name, [p.display_name for p in found], tag, message)
    team_ids: list[int] = []
    for p in found:
        tid = p.team_id if p.team_id is not None else actor.team_id
        if tid is not None and tid not in team_ids:
            team_ids.append(tid)
    msgs: list[OutboxNew] = [
        notify.team_message(tid, post, dedupe_key=f"kudos:{group_key}:team:{tid}")
        for tid in team_ids
    ]
    for p in found:
        others = [q.display_name for q in found if q.id != p.id]
        with_ = f" (together with {_join(others)})" if others else ""
        dm_text = f"🎉 *{giver_name}* gave you kudos{with_}"
        if tag is not None:
            dm_text += f" for *{tag.name}*"
        dm = Reply(
            blocks=[Text(dm_text), Text(f"> {message}"), Context("See yours with `/kudos mine`.")],
            text=f"{giver_name} gave you kudos: {message}",
        )
        msgs.append(notify.person_message(ctx, p, dm, dedupe_key=f"kudos:{group_key}:dm:{p.id}"))
    written = await store.record(
        ctx.db,
        giver_id=actor.person_id,
        receivers=[
            store.NewRecognition(p.id or 0, p.team_id if p.team_id is not None else actor.team_id)
            for p in found
        ],
        message=message,
        value_tag=tag.key if tag else None,
        group_key=group_key,
        at=now,
        messages=msgs,
        daily_limit=limit,
        day_start=day_start,
    )
    if written is None:
        assert limit is not None
        given = await store.count_given_since(ctx.db, giver_id=actor.person_id, since=day_start)
        left = max(limit - given, 0)
        if left == 0:
            text = (
                f"You've given all {limit} of today's kudos. Thank you for spreading the "
                "appreciation! Your allowance refreshes tomorrow."
            )
        else:
            text = (
                f"You have {left} kudos left today, not enough for {len(found)} people. "
                "Pick fewer people, or save some for tomorrow."
            )
        raise UserError(text)
    names = _join([p.display_name for p in found])
    text = f"Kudos sent to {names}" + (f" for {tag.name}" if tag else "") + "."
    blocks: list[Block] = [Text(text), Context("The shout-out is posted in the team channel.")]
    if limit is not None:
        given = await store.count_given_since(ctx.db, giver_id=actor.person_id, since=day_start)
        blocks.append(Context(f"{max(limit - given, 0)} of your {limit} daily kudos left."))
    return Reply(blocks=blocks, text=text)


async def _scope(actor: Actor, ctx: HandlerContext) -> list[int]:
    """Teams whose kudos the actor sees: their own; a manager's, those under them."""
    ids = set(await visible_team_ids(ctx, actor))
    if actor.team_id is not None:
        ids.add(actor.team_id)
    return sorted(ids)


async def _top(actor: Actor, args: Args, ctx: HandlerContext) -> Reply:
    period = args.take_if(*PERIODS) or "month"
    args.expect_end()
    team_ids = await _scope(actor, ctx)
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
    person_rows = []
    rank = 0
    last = -1
    for i, (pid, n) in enumerate(board.by_person[:10]):
        if n != last:
            rank, last = i + 1, n
        p = names.get(pid)
        person_rows.append((str(rank), p.display_name if p else "(removed)", str(n)))
    value_rows = tuple(
        (tags.get(k, k) if k else "(no value)", str(n), f"{100 * n / board.total:.0f} %")
        for k, n in board.by_value
    )
    blocks: list[Block] = [
        Header(title),
        Context(f"{scope} · {board.total} kudos to {len(board.by_person)} people"),
        Table(("#", "person", "kudos"), tuple(person_rows), ("r", "l", "r")),
        Text("*By value*"),
        Table(("value", "kudos", "share"), value_rows, ("l", "r", "r")),
    ]
    text = f"{title}\n" + "\n".join(f"{r[0]}. {r[1]}: {r[2]}" for r in person_rows)
    return Reply(blocks=blocks, text=text)


async def _mine(actor: Actor, ctx: HandlerContext) -> Reply:
    now = ctx.now()
    since = now - dt.timedelta(days=90)
    received = await store.in_range(ctx.db, person_id=actor.person_id, since=since)
    given = await store.in_range(ctx.db, giver_id=actor.person_id, since=since)
    ids = {r.giver_id for r in received if r.giver_id} | {
        g.receiver_id for g in given if g.receiver_id
    }
    names = await people.get_people(ctx.db, person_ids=list(ids))
    tags = {v.key: v.name for v in await store.all_value_tags(ctx.db)}
    tz = zone(_tz(actor.timezone))

    def name(pid: int | None) -> str:
        p = names.get(pid or 0)
        return p.display_name if p else "someone"

    blocks: list[Block] = [Header("Your kudos (last 90 days)")]
    if received:
        by_value: dict[str, int] = {}
        for r in received:
            key = tags.get(r.value_tag or "", "") if r.value_tag else ""
            if key:
                by_value[key] = by_value.get(key, 0) + 1
        summary = f"*Received: {len(received)}*"
        if by_value:
            summary += " · " + ", ".join(f"{k} {n}" for k, n in sorted(by_value.items()))
        blocks.append(Text(summary))
        blocks.append(
            Table(
                ("when", "from", "value", "message"),
                tuple(
                    (
                        f"{r.created_at.astimezone(tz):%d %b}",
                        name(r.giver_id),
                        tags.get(r.value_tag or "", "-") if r.value_tag else "-",
                        _short(r.message),
                    )
                    for r in received[:10]
                ),
            )
        )
    else:
        blocks.append(Text("*Received: 0* (yet!)"))
    # One kudos to several people counts once in "given".
    groups: dict[str, list[Recognition]] = {}
    for g in given:
        groups.setdefault(g.group_key or str(g.id), []).append(g)
    if groups:
        blocks.append(Text(f"*Given: {len(groups)}*"))
        blocks.append(
            Table(
                ("when", "to", "message"),
                tuple(
                    (
                        f"{rs[0].created_at.astimezone(tz):%d %b}",
                        _join([name(r.receiver_id) for r in sorted(rs, key=_rid)]),
                        _short(rs[0].message),
                    )
                    for rs in list(groups.values())[:10]
                ),
            )
        )
    else:
        blocks.append(Text("*Given: 0*. Recognise someone with `/kudos @name #value message`."))
    text = f"You received {len(received)} and gave {len(groups)} kudos in the last 90 days."
    return Reply(blocks=blocks, text=text)


async def _recent(actor: Actor, ctx: HandlerContext) -> Reply:
    team_ids = await _scope(actor, ctx)
    recent = await store.in_range(ctx.db, team_ids=team_ids, limit=30) if team_ids else []
    values = await _valid_values(ctx)
    blocks: list[Block] = [Header("Kudos")]
    if recent:
        ids = {r.giver_id for r in recent if r.giver_id} | {
            r.receiver_id for r in recent if r.receiver_id
        }
        names = await people.get_people(ctx.db, person_ids=list(ids))
        tags = {v.key: v.name for v in await store.all_value_tags(ctx.db)}
        tz = zone(_tz(actor.timezone))
        groups: dict[str, list[Recognition]] = {}
        for r in recent:
            groups.setdefault(r.group_key or str(r.id), []).append(r)
        rows = []
        for rs in list(groups.values())[:8]:
            r = rs[0]
            giver = names.get(r.giver_id or 0)
            rows.append(
                (
                    f"{r.created_at.astimezone(tz):%a %d %b}",
                    giver.display_name if giver else "leadbot",
                    _join(
                        [
                            n.display_name
                            for x in sorted(rs, key=_rid)
                            if (n := names.get(x.receiver_id or 0))
                        ]
                    ),
                    tags.get(r.value_tag or "", "-") if r.value_tag else "-",
                    _short(r.message, 60),
                )
            )
        blocks.append(Text("*Latest shout-outs in your team*"))
        blocks.append(Table(("when", "from", "to", "value", "message"), tuple(rows)))
    else:
        blocks.append(Text("No kudos in your team yet."))
    blocks.append(
        Context(
            "Give kudos: `/kudos @name [@name2] #value message` · values: "
            + _values_hint(values)
            + " · `/kudos top`, `/kudos mine`"
        )
    )
    return Reply(blocks=blocks, text="Kudos: give with /kudos @name #value message")


async def _values(actor: Actor, args: Args, ctx: HandlerContext) -> Reply:
    op = args.take_if("add", "remove", "list")
    if op in (None, "list"):
        args.expect_end()
        values = await _valid_values(ctx)
        rows = tuple((f"#{v.key}", v.name) for v in values)
        blocks: list[Block] = [Header("Our values"), Table(("tag", "value"), rows)]
        if actor.role is Role.admin:
            blocks.append(Context("Admins: `/kudos values add NAME`, `/kudos values remove NAME`"))
        text = "Values: " + _values_hint(values)
        return Reply(blocks=blocks, text=text)
    require_role(actor, Role.admin, doing="change the values list")
    name = " ".join(str(t) for t in args.rest()).strip().lstrip("#").strip()
    key = value_key(name)
    if not key:
        raise UsageError("Name the value, e.g. `/kudos values add Customer first`.")
    if op == "add":
        if len(name) > 60:
            raise UsageError("A value name can be 60 characters at most.")
        current = {v.key for v in await _valid_values(ctx)}
        if key in current:
            raise UserError(f"#{key} is already one of our values.")
        display = name[0].upper() + name[1:]
        await store.add_value_tag(ctx.db, key=key, name=display)
        text = f"Added the value *{display}* (tag it with #{key})."
        return Reply(blocks=[Text(text)], text=text)
    if not await store.remove_value_tag(ctx.db, key=key):
        values = await _valid_values(ctx)
        raise NotFound(f"#{key} isn't one of our values ({_values_hint(values)}).")
    text = f"Removed #{key}. Kudos already given with it keep it."
    return Reply(blocks=[Text(text)], text=text)


def _rid(r: Recognition) -> int:
    return r.id or 0


def _short(text: str, n: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


# --- suggestions: Post / Dismiss ------------------------------------------------------------


def suggestion_reply(
    sid: int, person_name: str, detail: str, value: ValueTag | None, team_name: str
) -> Reply:
    """The DM to a lead proposing a recognition found in the KPIs."""
    text = f"💡 *{person_name}* might deserve a shout-out: {detail}."
    blocks: list[Block] = [
        Header("Kudos suggestion"),
        Text(text),
    ]
    if value is not None:
        blocks.append(Context(f"Suggested value: {value.name}"))
    message = f"{detail[0].upper()}{detail[1:]}. Great work!"
    blocks.append(
        Buttons(
            (
                Button("Post", "kudos.suggest.post", str(sid), "primary"),
                Button(
                    "Edit & post",
                    "kudos.suggest.post",
                    str(sid),
                    form=Form(
                        title="Kudos",
                        action_id="kudos.suggest.post",
                        value=str(sid),
                        fields=(
                            FormField(
                                "message",
                                f"Message to {person_name}",
                                multiline=True,
                                optional=False,
                                max_length=MAX_MESSAGE,
                                initial=message,
                            ),
                        ),
                        submit_label="Post",
                    ),
                ),
                Button("Dismiss", "kudos.suggest.dismiss", str(sid)),
            )
        )
    )
    blocks.append(Context(f"Only you see this. Posting shares it in {team_name}'s channel."))
    return Reply(blocks=blocks, text=f"Kudos suggestion: {person_name}, {detail}")


async def on_suggestion(action: Action, ctx: HandlerContext) -> Reply:
    """Post or dismiss a suggestion; forged or stale values change nothing."""
    verb = action.action_id.rsplit(".", 1)[-1]
    if verb not in ("post", "dismiss") or not action.value.isdigit():
        raise UserError("That button is no longer valid.")
    sug = await store.get_suggestion(ctx.db, suggestion_id=int(action.value))
    if sug is None:
        raise UserError("That suggestion no longer exists.")
    if action.actor.role not in (Role.lead, Role.manager) or sug.team_id not in (
        await visible_team_ids(ctx, action.actor)
    ):
        raise NotAllowed("Only the team's lead or manager can act on this suggestion.")
    if sug.status != "pending":
        return Reply(
            blocks=[Text(f"This suggestion was already {sug.status}.")],
            text=f"Already {sug.status}.",
            replace_original=True,
        )
    person = await people.get_person(ctx.db, person_id=sug.person_id)
    if person is None:
        raise UserError("That person is no longer on the roster.")
    if verb == "dismiss":
        await store.resolve_suggestion(ctx.db, suggestion_id=sug.id or 0, status="dismissed")
        text = f"Dismissed the suggestion for {person.display_name}."
        return Reply(blocks=[Text(text)], text=text, replace_original=True)
    message = (action.form.get("message") or "").strip()
    if not message:
        message = f"{sug.detail[0].upper()}{sug.detail[1:]}. Great work!"
    if len(message) > MAX_MESSAGE:
        return Reply(errors={"message": f"At most {MAX_MESSAGE} characters."}, ok=False)
    tags = {v.key: v for v in await _valid_values(ctx)}
    tag = tags.get(sug.value_tag or "")
    group_key = f"suggestion-{sug.id}"
    giver = await people.get_person(ctx.db, person_id=action.actor.person_id)
    giver_name = giver.display_name if giver else action.actor.name
    post = shout_out(giver_name, [person.display_name], tag, message)
    dm = Reply(
        blocks=[Text(f"🎉 *{giver_name}* gave you kudos"), Text(f"> {message}")],
        text=f"{giver_name} gave you kudos: {message}",
    )
    msgs = [
        notify.team_message(sug.team_id, post, dedupe_key=f"kudos:{group_key}:team"),
        notify.person_message(ctx, person, dm, dedupe_key=f"kudos:{group_key}:dm:{person.id}"),
    ]
    now = ctx.now()
    rec = Recognition(
        giver_id=action.actor.person_id,
        receiver_id=person.id,
        team_id=sug.team_id,
        message=message,
        value_tag=tag.key if tag else None,
        group_key=group_key,
        source="suggested",
        created_at=now,
    )
    if not await store.resolve_suggestion(
        ctx.db, suggestion_id=sug.id or 0, status="posted", recognition=rec, messages=msgs
    ):
        return Reply(blocks=[Text("This suggestion was already handled.")], replace_original=True)
    text = f"Posted kudos for {person.display_name}."
    return Reply(blocks=[Text(text)], text=text, replace_original=True)


COMMAND = CommandSpec(
    verb="kudos",
    summary="Recognise a colleague, see the leaderboard and your kudos",
    usage=(
        "/kudos @person [@person2 ...] [#value] MESSAGE",
        "/kudos top [week|month|quarter]",
        "/kudos mine",
        "/kudos values",
        "/kudos values add|remove NAME   (admins)",
    ),
    handler=lambda cmd, _args, ctx: kudos(cmd, ctx),  # TEMP shim
    examples=(
        "/kudos @maria.lopez #ownership stayed on to clear the callback queue",
        "/kudos @sam @lee #partnership great handover on the outage",
        "/kudos top quarter",
    ),
)

BUTTONS = ActionSpec(prefix="kudos.suggest", handler=on_suggestion)
