"""`/action`: owned action items with a due date, a trail, follow-ups and evidence.

Every item has exactly one owner. A lead or manager assigns items within the teams they
lead or manage; anyone may create items for themselves. Only the owner, the person who
assigned it, and the owner's lead or manager may change an item.

Buttons (action ids under the `action` prefix; `value` is always validated on press):

- `action.accept`, `action.done`, `action.help`: value `"<item id>"`, on the owner's DM.
- `action.achieved`: value `"<item id>"`, the one-click close offered on evidence.
- `action.show`: value `"<item id>"`, the item with its trail.
- `action.create`: value `"<source>:<ref>:<owner person id>"`, e.g.
  `"one_on_one:<oneonone id>:<agent person id>"`, `"pulse:<round id>:<owner person id>"`
  or `"meeting:<free ref>:<owner person id>"`. Pressed, it opens a form (title, due);
  submitted, it creates the item with that source. Other features put one on their cards
  with `create_button(...)`.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from domain.dates import DateError, format_day, parse_date
from domain.errors import NotAllowed, NotFound, UsageError, UserError
from domain.fmt import fmt_goal, fmt_value
from domain.items import ActionStatus
from domain.localtime import local_now
from domain.parsing import Args, token_text
from domain.roles import LEADERS, Role
from domain.shifts import is_working_day, next_working_moment
from domain.types import (
    Action,
    Actor,
    Block,
    Button,
    Buttons,
    Command,
    Context,
    Fields,
    Form,
    FormField,
    Header,
    Mention,
    Reply,
    Table,
    Text,
    Token,
    UnresolvedMention,
)
from handlers.core.access import require_person_view, visible_team_ids
from handlers.core.context import ActionSpec, CommandSpec, HandlerContext
from handlers.core.notify import person_message
from storage import actions as store
from storage import catalogue, people
from storage.models import ActionItem, ActionItemEvent, Metric, Person
from storage.outbox import OutboxNew

TITLE_MAX = 300
NOTE_MAX = 500
LIST_LIMIT = 50
DONE_DAYS = 14
SOURCES = ("one_on_one", "pulse", "meeting")
SOURCE_NAMES = {
    "manual": "typed in chat",
    "one_on_one": "a 1:1",
    "pulse": "a pulse result",
    "meeting": "a meeting",
}
STATUS_NAMES = {
    ActionStatus.open: "open",
    ActionStatus.in_progress: "accepted",
    ActionStatus.done: "done",
    ActionStatus.cancelled: "cancelled",
}
EVENT_NAMES = {
    "created": "created",
    "accepted": "accepted",
    "done": "done",
    "cancelled": "cancelled",
    "due_changed": "due date changed",
    "reassigned": "reassigned",
    "help_requested": "asked for help",
    "reminder_sent": "reminder sent",
    "nudge_sent": "overdue nudge sent",
    "escalated": "escalated",
    "close_offered": "close offered",
    "summarized": "in weekly summary",
}
_OPS = {"<=": "<=", "=<": "<=", "≤": "<=", ">=": ">=", "=>": ">=", "≥": ">=", "<": "<", ">": ">"}
_CLAUSE_RE = re.compile(r"^([a-z][a-z0-9_]*)\s*(<=|>=|=<|=>|≤|≥|<|>)\s*(\S.*)$", re.IGNORECASE)
_ID_RE = re.compile(r"^#?(\d{1,12})$")
_NUM = r"(\d+(?:\.\d+)?)"


# --- metric links ------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricLink:
    """An item's success condition: `aht <= 300` (in the metric's own unit)."""

    key: str
    op: str
    target: float


def met(value: float, op: str, target: float) -> bool:
    """True when `value` meets `op target`."""
    if op == "<=":
        return value <= target
    if op == "<":
        return value < target
    if op == ">=":
        return value >= target
    return value > target


def parse_target(text: str, metric: Metric) -> float:
    """A target in the metric's unit: `300`, `300s`, `5:00`, `5m` (seconds); `85`, `85%`
    (percent); `30`, `+30`, `30pts` (NPS points). UsageError says what was expected."""
    t = text.strip().lower().replace(" ", "")
    value: float | None = None
    if metric.unit == "s":
        if m := re.fullmatch(r"(\d{1,4}):([0-5]\d)", t):
            value = int(m.group(1)) * 60 + int(m.group(2))
        elif m := re.fullmatch(_NUM + r"(s|sec|secs|seconds)?", t):
            value = float(m.group(1))
        elif m := re.fullmatch(_NUM + r"(m|min|mins|minutes)", t):
            value = float(m.group(1)) * 60
        example = "300s or 5:00"
    elif metric.unit == "%":
        if m := re.fullmatch(_NUM + r"%?", t):
            value = float(m.group(1))
        example = "85%"
    elif metric.unit == "pts":
        if m := re.fullmatch(r"([+-]?\d+(?:\.\d+)?)(pts?|points?)?", t):
            value = float(m.group(1))
        example = "30 or +30pts"
    else:
        if m := re.fullmatch(r"([+-]?\d+(?:\.\d+)?)", t):
            value = float(m.group(1))
        example = "a number"
    if value is None or value != value or value in (float("inf"), float("-inf")):
        raise UsageError(
            f"{text!r} isn't a target for {metric.name} (unit {metric.unit}: {example})."
        )
    if metric.min_value is not None and value < metric.min_value:
        raise UsageError(
            f"A {metric.name} target can't be below {fmt_value(metric.unit, metric.min_value)}."
        )
    if metric.max_value is not None and value > metric.max_value:
        raise UsageError(
            f"A {metric.name} target can't be above {fmt_value(metric.unit, metric.max_value)}."
        )
    return value


async def parse_metric_clause(ctx: HandlerContext, text: str) -> tuple[MetricLink, Metric]:
    """`aht <= 300s` into a link, checked against the KPI catalogue."""
    m = _CLAUSE_RE.match(text.strip())
    if not m:
        raise UsageError(
            f"I couldn't read {text!r} as a metric target: use e.g. `metric aht <= 300s`."
        )
    key, op, target_text = m.group(1).lower(), _OPS[m.group(2)], m.group(3)
    metric = await catalogue.get_metric(ctx.db, key=key)
    if metric is None:
        keys = ", ".join(x.key for x in await catalogue.list_metrics(ctx.db))
        raise NotFound(f"There is no metric {key!r}. Known metrics: {keys}.")
    if metric.higher_is_better and op in ("<", "<="):
        raise UsageError(
            f"Higher {metric.name} is better, so aim with `>=` (e.g. `metric {metric.key} >= ...`)."
        )
    if not metric.higher_is_better and op in (">", ">="):
        raise UsageError(
            f"Lower {metric.name} is better, so aim with `<=` (e.g. `metric {metric.key} <= ...`)."
        )
    return MetricLink(metric.key, op, parse_target(target_text, metric)), metric


# --- evidence ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """The owner's latest daily value and how many working days in a row met the target."""

    latest_day: dt.date | None
    latest_value: float | None
    streak: int

    def line(self, metric: Metric, op: str, target: float, *, today: dt.date) -> str:
        goal = fmt_goal(metric.unit, op, target)
        if self.latest_day is None or self.latest_value is None:
            return f"{metric.name}: no figures yet (target {goal})."
        ok = "on target" if met(self.latest_value, op, target) else "not yet on target"
        text = (
            f"{metric.name}: {fmt_value(metric.unit, self.latest_value)} on "
            f"{format_day(self.latest_day, today=today)}, {ok} (target {goal})"
        )
        if self.streak >= 2:
            text += f"; on target {self.streak} working days in a row"
        return text + "."


def compute_evidence(
    values: list[tuple[dt.date, float]],
    *,
    op: str,
    target: float,
    work_hours: str,
    since: dt.date,
    today: dt.date,
) -> Evidence:
    """Walk back from the latest day with a figure (not after `today`): a day on target adds
    one, a day off target or a working day without a figure ends the streak; days before
    `since` (the item's creation) don't count, nor do days off without figures."""
    by_day = {d: v for d, v in values if d <= today}
    if not by_day:
        return Evidence(None, None, 0)
    latest = max(by_day)
    streak = 0
    day = latest
    while day >= since:
        value = by_day.get(day)
        if value is not None:
            if not met(value, op, target):
                break
            streak += 1
        else:
            try:
                working = is_working_day(work_hours, day)
            except ValueError:
                working = True
            if working:
                break
        day -= dt.timedelta(days=1)
    return Evidence(latest, by_day[latest], streak)


async def evidence_for(ctx: HandlerContext, item: ActionItem, owner: Person) -> Evidence | None:
    """The owner's evidence for an item linked to a metric (None when it isn't)."""
    if item.metric_key is None or item.metric_op is None or item.metric_target is None:
        return None
    assert owner.id is not None
    today = _today(ctx, owner.timezone)
    since = today - dt.timedelta(days=max(14, 3 * ctx.settings.action_evidence_days))
    values = await store.person_values(ctx.db, pairs=[(owner.id, item.metric_key)], since=since)
    return compute_evidence(
        values.get((owner.id, item.metric_key), []),
        op=item.metric_op,
        target=item.metric_target,
        work_hours=owner.work_hours,
        since=_local_date(item.created_at, owner.timezone),
        today=today,
    )


# --- small helpers -----------------------------------------------------------------------


def _today(ctx: HandlerContext, tz: str) -> dt.date:
    try:
        return local_now(ctx.now(), tz).date()
    except ValueError:
        return local_now(ctx.now(), ctx.settings.default_timezone).date()


def _local_date(when: dt.datetime, tz: str) -> dt.date:
    try:
        return local_now(when, tz).date()
    except ValueError:
        return when.astimezone(dt.UTC).date()


def _local_stamp(when: dt.datetime, tz: str, today: dt.date) -> str:
    try:
        local = local_now(when, tz)
    except ValueError:
        local = when.astimezone(dt.UTC)
    return f"{format_day(local.date(), today=today)} {local:%H:%M}"


def clean_text(text: str) -> str:
    """Control characters out, white space collapsed (titles and notes go to chat)."""
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Cf") else c for c in text)
    return " ".join(text.split())


def _clean_title(text: str) -> str:
    title = clean_text(text)
    if not title:
        raise UsageError(
            "Say what needs doing, e.g. `/action @maria.lopez call back the Smith account`."
        )
    if len(title) > TITLE_MAX:
        raise UsageError(f"That title is {len(title)} characters; {TITLE_MAX} at most.")
    return title


def _clean_note(text: str, what: str = "note") -> str:
    note = clean_text(text)
    if len(note) > NOTE_MAX:
        raise UsageError(f"That {what} is {len(note)} characters; {NOTE_MAX} at most.")
    return note


def parse_item_id(text: str) -> int:
    """`12` or `#12`; UsageError otherwise."""
    m = _ID_RE.match(text.strip())
    if not m:
        raise UsageError(f"{text!r} isn't an action item number (they look like #12).")
    return int(m.group(1))


def due_text(item: ActionItem, *, today: dt.date) -> str:
    if item.due_date is None:
        return "no due date"
    text = format_day(item.due_date, today=today)
    if item.status in store.OPEN_STATUSES:
        if item.due_date < today:
            text += " (overdue)"
        elif item.due_date == today:
            text += " (today)"
    return text


def ref(item: ActionItem) -> str:
    return f"#{item.id}"


def _name(person: Person | None) -> str:
    return person.display_name if person else "someone who left"


def _working_moment(ctx: HandlerContext, person: Person) -> dt.datetime:
    """Now, or the start of the person's next shift (leads and managers too)."""
    try:
        return next_working_moment(person.work_hours, person.timezone, ctx.now())
    except ValueError:
        return ctx.now()


def dm(ctx: HandlerContext, person: Person, reply: Reply, *, key: str) -> OutboxNew:
    """A DM through the outbox, held until the person's working hours."""
    return person_message(ctx, person, reply, dedupe_key=key, at=_working_moment(ctx, person))


def item_buttons(item: ActionItem, *, for_owner: bool) -> Buttons | None:
    """Accept / Done / Need help for the owner; Done for the others who may act."""
    if item.status not in store.OPEN_STATUSES:
        return None
    value = str(item.id)
    buttons: list[Button] = []
    if for_owner and item.status is ActionStatus.open:
        buttons.append(Button("Accept", "action.accept", value, "primary"))
    buttons.append(Button("Done", "action.done", value, None if for_owner else "primary"))
    if for_owner:
        buttons.append(
            Button(
                "Need help",
                "action.help",
                value,
                form=Form(
                    title=f"Help with {ref(item)}",
                    action_id="action.help",
                    value=value,
                    fields=(
                        FormField(
                            "message",
                            "What do you need?",
                            multiline=True,
                            optional=True,
                            max_length=NOTE_MAX,
                        ),
                    ),
                    submit_label="Ask",
                ),
            )
        )
    return Buttons(tuple(buttons))


def assigned_reply(
    item: ActionItem,
    *,
    assigner: Person | None,
    owner: Person,
    metric_line: str | None,
    today: dt.date,
    reassigned: bool = False,
) -> Reply:
    """The owner's DM: what, by when, and the buttons."""
    verb = "handed you" if reassigned else "assigned you"
    text = f"*{_name(assigner)}* {verb} {ref(item)}: *{item.title}*"
    pairs = [("Due", due_text(item, today=today))]
    if metric_line:
        pairs.append(("Metric", metric_line))
    if item.source != "manual":
        pairs.append(("From", SOURCE_NAMES.get(item.source, item.source)))
    blocks: list[Block] = [Header(f"Action item {ref(item)}"), Text(text), Fields(tuple(pairs))]
    buttons = item_buttons(item, for_owner=True)
    if buttons:
        blocks.append(buttons)
    blocks.append(Context(f"Or type `/action done {item.id} [note]` when it's done."))
    fallback = f"{_name(assigner)} {verb} action item {ref(item)}: {item.title} ({pairs[0][1]})"
    return Reply(blocks=blocks, text=fallback)


def _note_reply(header: str, text: str, item: ActionItem) -> Reply:
    return Reply(
        blocks=[Text(text), Context(f"`/action show {item.id}` for the whole trail.")],
        text=f"{header}: {text}".replace("*", ""),
    )


# --- who may do what -------------------------------------------------------------------


async def _get_person(ctx: HandlerContext, person_id: int | None) -> Person | None:
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
    owner = await _get_person(ctx, item.owner_id)
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


def _closed_explained(item: ActionItem, closer: Person | None, tz: str, today: dt.date) -> str:
    when = _local_stamp(item.closed_at, tz, today) if item.closed_at else "earlier"
    by = f" by {closer.display_name}" if closer else ""
    what = "done" if item.status is ActionStatus.done else "cancelled"
    return f"{ref(item)} is already {what} (closed{by} on {when}). Nothing was changed."


async def _closer(ctx: HandlerContext, item: ActionItem) -> Person | None:
    trail = await store.events(ctx.db, item_id=item.id or 0)
    closing = [e for e in trail if e.kind in ("done", "cancelled")]
    return await _get_person(ctx, closing[-1].actor_id) if closing else None


async def _close(
    ctx: HandlerContext,
    actor: Actor,
    item_id: int,
    status: ActionStatus,
    detail: str,
    pending: list[OutboxNew],
) -> None:
    """Close an open item (done or cancelled) with its notices, or refuse if it was closed."""
    result = await store.change(
        ctx.db,
        item_id=item_id,
        actor_id=actor.person_id,
        kind=status.value,
        detail=detail,
        allowed_from=store.OPEN_STATUSES,
        updates={"status": status, "closed_at": ctx.now()},
        now=ctx.now(),
        withdraw_followups=True,
        messages=lambda _i, _e: pending,
    )
    if not result.applied:
        assert result.item is not None
        raise await _refuse_closed(ctx, actor, result.item)


async def _refuse_closed(ctx: HandlerContext, actor: Actor, item: ActionItem) -> UserError:
    today = _today(ctx, actor.timezone)
    return UserError(_closed_explained(item, await _closer(ctx, item), actor.timezone, today))


# --- create --------------------------------------------------------------------------------


async def create_item(
    ctx: HandlerContext,
    *,
    actor: Actor,
    owner_id: int,
    title: str,
    due: dt.date | None = None,
    source: str = "manual",
    source_ref: str | None = None,
    metric: MetricLink | None = None,
) -> ActionItem:
    """Create an item for `owner_id`, check who may, record it and tell the owner.

    Public: 1:1 prep cards and pulse results create items through this (or through the
    `action.create` button). Raises UsageError/NotAllowed/NotFound before writing anything.
    """
    owner = await _get_person(ctx, owner_id)
    if owner is None:
        raise NotFound("That person isn't on the roster.")
    await require_can_assign(ctx, actor, owner)
    clean = _clean_title(title)
    if due is not None and due < _today(ctx, actor.timezone):
        raise DateError(f"{format_day(due)} is in the past; give a date from today on.")
    if source != "manual" and source not in SOURCES:
        raise UsageError(f"Unknown source {source!r}.")
    metric_row: Metric | None = None
    if metric is not None:
        metric_row = await catalogue.get_metric(ctx.db, key=metric.key)
        if metric_row is None:
            raise NotFound(f"There is no metric {metric.key!r}.")
    assigner = await _get_person(ctx, actor.person_id)
    owner_today = _today(ctx, owner.timezone)
    item = ActionItem(
        title=clean,
        owner_id=owner.id,
        assigned_by_id=actor.person_id,
        team_id=owner.team_id,
        due_date=due,
        status=ActionStatus.open,
        source=source,
        source_ref=source_ref[:64] if source_ref else None,
        metric_key=metric.key if metric else None,
        metric_op=metric.op if metric else None,
        metric_target=metric.target if metric else None,
    )
    metric_line = (
        f"{metric_row.name} {fmt_goal(metric_row.unit, metric.op, metric.target)}"
        if metric and metric_row
        else None
    )
    detail = f"for {owner.display_name}: {clean}"
    if due:
        detail += f"; due {due.isoformat()}"
    if metric_line:
        detail += f"; metric {metric_line}"
    if source != "manual":
        detail += f"; from {SOURCE_NAMES[source]}"

    def messages(new: ActionItem, _event: ActionItemEvent) -> list[OutboxNew]:
        if owner.id == actor.person_id:
            return []
        reply = assigned_reply(
            new, assigner=assigner, owner=owner, metric_line=metric_line, today=owner_today
        )
        return [dm(ctx, owner, reply, key=f"action:{new.id}:assigned")]

    return await store.create(
        ctx.db, item=item, actor_id=actor.person_id, detail=detail, now=ctx.now(), messages=messages
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


async def _create_command(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    first = args.next()
    if str(first).lower() in ("@me", "@myself", "me", "myself"):
        owner_id = cmd.actor.person_id
    elif isinstance(first, UnresolvedMention):
        raise UsageError(f"I don't know {first.text}: {first.reason}.")
    elif isinstance(first, Mention):
        owner_id = first.person_id
    else:
        raise UsageError(
            f"I don't know `/action {token_text(first)}`. Start with who owns the item "
            "(`/action @maria.lopez ...`, or `/action me ...` for yourself)."
        )
    title_toks, due_toks, metric_toks = _split_clauses(args.rest())
    title = _clean_title(" ".join(token_text(t) for t in title_toks))
    due: dt.date | None = None
    if due_toks is not None:
        try:
            due = parse_date(due_toks, today=_today(ctx, cmd.actor.timezone))
        except DateError as exc:
            raise DateError(
                exc.message + " (If `due` is part of the title, put the title in quotes.)"
            ) from None
    link: MetricLink | None = None
    if metric_toks is not None:
        try:
            link, _metric = await parse_metric_clause(
                ctx, " ".join(token_text(t) for t in metric_toks)
            )
        except UsageError as exc:
            raise UsageError(
                exc.message + " (If `metric` is part of the title, put the title in quotes.)"
            ) from None
    item = await create_item(
        ctx, actor=cmd.actor, owner_id=owner_id, title=title, due=due, metric=link
    )
    owner = await _get_person(ctx, owner_id)
    today = _today(ctx, cmd.actor.timezone)
    if owner_id == cmd.actor.person_id:
        text = f"Added {ref(item)} for you: *{item.title}*, {due_text(item, today=today)}."
    else:
        held = ""
        assert owner is not None
        if owner.role is Role.agent and _working_moment(ctx, owner) > ctx.now():
            held = " (they're off shift now; I'll message them when their shift starts)"
        text = (
            f"Assigned {ref(item)} to *{_name(owner)}*: *{item.title}*, "
            f"{due_text(item, today=today)}. I've told them{held}."
        )
    blocks: list[Block] = [Text(text)]
    if due is not None and owner is not None:
        try:
            off = not is_working_day(owner.work_hours, due)
        except ValueError:
            off = False
        if off:
            blocks.append(
                Context(
                    f"Note: {format_day(due, today=today)} is a day off for {owner.display_name}."
                )
            )
    if link is not None:
        metric = await catalogue.get_metric(ctx.db, key=link.key)
        if metric is not None:
            blocks.append(
                Context(
                    f"Linked to {metric.name} {fmt_goal(metric.unit, link.op, link.target)}: "
                    f"I'll offer to close it when that holds for "
                    f"{ctx.settings.action_evidence_days} working days in a row."
                )
            )
    blocks.append(Context(f"`/action show {item.id}` shows its trail; `/action list` your items."))
    return Reply(blocks=blocks, text=text.replace("*", ""))


# --- list and show -------------------------------------------------------------------------


async def _list(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    actor = cmd.actor
    tok = args.peek()
    scope = "mine" if actor.role not in LEADERS else "team"
    person: Person | None = None
    if isinstance(tok, Mention | UnresolvedMention):
        m = args.take_mention()
        person = await _get_person(ctx, m.person_id)
        if person is None:
            raise NotFound(f"I don't know {m}.")
        await require_person_view(ctx, actor, person)
        scope = "person"
    elif tok is not None:
        word = args.take_if("mine", "my", "me", "team", "overdue", "assigned", "all", "done")
        if word is None:
            raise UsageError(
                f"I can list `mine`, `team`, `overdue`, `done`, `assigned` or `@person`, "
                f"not {tok!r}."
            )
        scope = {"my": "mine", "me": "mine", "all": "team"}.get(word, word)
    args.expect_end()
    today = _today(ctx, actor.timezone)
    title: str
    if scope == "mine":
        items = await store.list_items(ctx.db, owner_id=actor.person_id, limit=LIST_LIMIT + 1)
        title = "Your open action items"
    elif scope == "assigned":
        items = await store.list_items(ctx.db, assigned_by_id=actor.person_id, limit=LIST_LIMIT + 1)
        title = "Action items you assigned"
    elif scope == "person":
        assert person is not None
        assert person.id is not None
        items = await store.list_items(ctx.db, owner_id=person.id, limit=LIST_LIMIT + 1)
        title = f"{person.display_name}'s open action items"
    elif scope == "team":
        if actor.role not in LEADERS:
            raise NotAllowed("Agents see their own items: try `/action list mine`.")
        teams = await visible_team_ids(ctx, actor)
        items = await store.list_items(ctx.db, team_ids=teams, limit=LIST_LIMIT + 1)
        title = "Your team's open action items"
    elif scope == "done":
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
        title = f"Done in the last {DONE_DAYS} days"
    else:  # overdue
        if actor.role in LEADERS:
            teams = await visible_team_ids(ctx, actor)
            items = await store.list_items(
                ctx.db, team_ids=teams, due_before=today, limit=LIST_LIMIT + 1
            )
            mine = await store.list_items(
                ctx.db, owner_id=actor.person_id, due_before=today, limit=LIST_LIMIT + 1
            )
            seen = {i.id for i in items}
            items += [i for i in mine if i.id not in seen]
        else:
            items = await store.list_items(
                ctx.db, owner_id=actor.person_id, due_before=today, limit=LIST_LIMIT + 1
            )
        title = "Overdue action items"
    if not items:
        empty = {
            "mine": "You have no open action items.",
            "assigned": "Nothing you assigned is open.",
            "person": f"{_name(person)} has no open action items.",
            "team": "Your teams have no open action items.",
            "overdue": "Nothing is overdue.",
            "done": f"Nothing was done in the last {DONE_DAYS} days.",
        }[scope]
        return Reply(
            blocks=[
                Text(empty),
                Context(
                    "Create one with `/action @person what due DATE`."
                    if actor.role in LEADERS
                    else "Set yourself one with `/action me what due DATE`."
                ),
            ],
            text=empty,
        )
    more = len(items) > LIST_LIMIT
    items = items[:LIST_LIMIT]
    names = await people.get_people(ctx.db, person_ids=[i.owner_id for i in items if i.owner_id])
    rows = []
    overdue = 0
    for i in items:
        is_overdue = (
            i.status in store.OPEN_STATUSES and i.due_date is not None and i.due_date < today
        )
        overdue += is_overdue
        status = "overdue" if is_overdue else STATUS_NAMES[i.status]
        owner = names.get(i.owner_id or 0)
        rows.append(
            (
                ref(i),
                i.title if len(i.title) <= 60 else i.title[:59] + "…",
                _name(owner),
                format_day(i.due_date, today=today) if i.due_date else "-",
                status,
            )
        )
    blocks: list[Block] = [
        Header(title),
        Table(("#", "item", "owner", "due", "status"), tuple(rows), ("r", "l", "l", "l", "l")),
    ]
    summary = f"{len(items)} " + ("done" if scope == "done" else "open")
    summary += f", {overdue} overdue" if overdue else ""
    if more:
        summary += f" (showing the first {LIST_LIMIT})"
    blocks.append(Context(summary + ". `/action show ID` for an item's trail."))
    text = title + ":\n" + "\n".join(f"{r[0]} {r[1]} ({r[2]}, due {r[3]}, {r[4]})" for r in rows)
    return Reply(blocks=blocks, text=text)


async def show_reply(ctx: HandlerContext, actor: Actor, item: ActionItem) -> Reply:
    """An item with its whole trail, and the buttons the viewer may use."""
    today = _today(ctx, actor.timezone)
    owner = await _get_person(ctx, item.owner_id)
    assigner = await _get_person(ctx, item.assigned_by_id)
    team = await people.get_team(ctx.db, team_id=item.team_id) if item.team_id else None
    pairs = [
        ("Owner", _name(owner)),
        ("Assigned by", _name(assigner)),
        ("Status", STATUS_NAMES[item.status]),
        ("Due", due_text(item, today=today)),
        ("Team", team.name if team else "-"),
        ("From", SOURCE_NAMES.get(item.source, item.source)),
    ]
    blocks: list[Block] = [Header(f"{ref(item)} {item.title}")]
    if item.metric_key and item.metric_op and item.metric_target is not None and owner:
        metric = await catalogue.get_metric(ctx.db, key=item.metric_key)
        evidence = await evidence_for(ctx, item, owner)
        if metric is not None and evidence is not None:
            pairs.append(
                ("Metric", evidence.line(metric, item.metric_op, item.metric_target, today=today))
            )
    blocks.append(Fields(tuple(pairs)))
    trail = await store.events(ctx.db, item_id=item.id or 0)
    who = await people.get_people(ctx.db, person_ids=[e.actor_id for e in trail if e.actor_id])
    rows = tuple(
        (
            _local_stamp(e.created_at, actor.timezone, today),
            who[e.actor_id].display_name if e.actor_id in who else "leadbot",
            EVENT_NAMES.get(e.kind, e.kind),
            e.detail,
        )
        for e in trail
    )
    blocks.append(Table(("when", "who", "what", "detail"), rows))
    buttons = item_buttons(item, for_owner=actor.person_id == item.owner_id)
    if buttons:
        blocks.append(buttons)
    text = f"{ref(item)} {item.title} ({STATUS_NAMES[item.status]}, {pairs[3][1]})\n" + "\n".join(
        f"{r[0]} {r[1]}: {r[2]} {r[3]}".rstrip() for r in rows
    )
    return Reply(blocks=blocks, text=text)


# --- changes ---------------------------------------------------------------------------------


async def _messages_to(
    ctx: HandlerContext,
    actor: Actor,
    item: ActionItem,
    recipients: list[int | None],
    reply: Reply,
    key: str,
) -> list[OutboxNew]:
    """The same note to each recipient who isn't the actor (each once)."""
    out: list[OutboxNew] = []
    seen: set[int] = set()
    for pid in recipients:
        if pid is None or pid == actor.person_id or pid in seen:
            continue
        seen.add(pid)
        person = await _get_person(ctx, pid)
        if person is not None and person.active:
            out.append(dm(ctx, person, reply, key=f"{key}:{pid}"))
    return out


async def mark_done(
    ctx: HandlerContext, actor: Actor, item_id: int, note: str = "", *, achieved: str = ""
) -> Reply:
    """Close an item as done (the command, the Done button, Close as achieved)."""
    item = await load_item(ctx, actor, item_id)
    if item.status not in store.OPEN_STATUSES:
        raise await _refuse_closed(ctx, actor, item)
    note = _clean_note(note)
    detail = achieved or note
    text = f"*{actor.name}* marked {ref(item)} done: *{item.title}*" + (
        f" ({detail})" if detail else ""
    )
    notice = _note_reply(f"Action item {ref(item)} done", text, item)
    pending = await _messages_to(
        ctx, actor, item, [item.assigned_by_id, item.owner_id], notice, f"action:{item.id}:done"
    )
    await _close(ctx, actor, item_id, ActionStatus.done, detail, pending)
    done = f"Done: {ref(item)} *{item.title}*." + (" Closed as achieved." if achieved else "")
    return Reply(blocks=[Text(done)], text=done.replace("*", ""), replace_original=True)


async def _done(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    item_id = parse_item_id(args.take_word("the item number"))
    return await mark_done(ctx, cmd.actor, item_id, args.rest_text())


async def accept(ctx: HandlerContext, actor: Actor, item_id: int) -> Reply:
    item = await load_item(ctx, actor, item_id)
    if item.owner_id != actor.person_id:
        raise NotAllowed(f"Only the owner of {ref(item)} can accept it. Nothing was changed.")
    if item.status is ActionStatus.in_progress:
        raise UserError(f"You already accepted {ref(item)}.")
    if item.status not in store.OPEN_STATUSES:
        raise await _refuse_closed(ctx, actor, item)
    notice = _note_reply(
        f"Action item {ref(item)} accepted",
        f"*{actor.name}* accepted {ref(item)}: *{item.title}*",
        item,
    )
    pending = await _messages_to(
        ctx, actor, item, [item.assigned_by_id], notice, f"action:{item.id}:accepted"
    )
    result = await store.change(
        ctx.db,
        item_id=item_id,
        actor_id=actor.person_id,
        kind="accepted",
        detail="",
        allowed_from=(ActionStatus.open,),
        updates={"status": ActionStatus.in_progress},
        now=ctx.now(),
        messages=lambda _i, _e: pending,
        expect_owner_id=actor.person_id,
    )
    if not result.applied:
        raise UserError(
            f"{ref(item)} changed meanwhile; nothing was changed. See `/action show {item_id}`."
        )
    text = f"Accepted {ref(item)}: *{item.title}*. Press Done when it's done."
    blocks: list[Block] = [Text(text)]
    assert result.item is not None
    buttons = item_buttons(result.item, for_owner=True)
    if buttons:
        blocks.append(buttons)
    return Reply(blocks=blocks, text=text.replace("*", ""), replace_original=True)


async def ask_help(ctx: HandlerContext, actor: Actor, item_id: int, message: str) -> Reply:
    item = await load_item(ctx, actor, item_id)
    if item.owner_id != actor.person_id:
        raise NotAllowed(f"Only the owner of {ref(item)} can ask for help with it.")
    if item.status not in store.OPEN_STATUSES:
        raise await _refuse_closed(ctx, actor, item)
    message = _clean_note(message, "message")
    helper_id = item.assigned_by_id
    if helper_id in (None, actor.person_id):
        owner = await _get_person(ctx, item.owner_id)
        team = (
            await people.get_team(ctx.db, team_id=owner.team_id)
            if owner and owner.team_id
            else None
        )
        helper_id = (team.lead_id if team and team.lead_id != actor.person_id else None) or (
            team.manager_id if team else None
        )
    helper = await _get_person(ctx, helper_id)
    if helper is None or helper.id == actor.person_id:
        raise UserError("There's nobody to ask: your team has no lead or manager on the roster.")
    text = f"*{actor.name}* asks for help with {ref(item)}: *{item.title}*" + (
        f"\n> {message}" if message else ""
    )
    reply = Reply(
        blocks=[
            Header(f"Help needed: {ref(item)}"),
            Text(text),
            Context(f"`/action show {item.id}` for its trail."),
        ],
        text=text.replace("*", ""),
    )
    key = f"action:{item.id}:help:{int(ctx.now().timestamp())}"
    await store.add_event(
        ctx.db,
        item_id=item_id,
        actor_id=actor.person_id,
        kind="help_requested",
        detail=f"asked {helper.display_name}" + (f": {message}" if message else ""),
        now=ctx.now(),
        messages=[dm(ctx, helper, reply, key=key)],
    )
    done = f"I've asked {helper.display_name} to help with {ref(item)}."
    return Reply(blocks=[Text(done)], text=done)


async def _due(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    actor = cmd.actor
    item_id = parse_item_id(args.take_word("the item number"))
    rest = args.rest()
    if not rest:
        raise UsageError("Give the new due date, e.g. `/action due 12 friday`.")
    clear = len(rest) == 1 and isinstance(rest[0], str) and rest[0].lower() in ("none", "never")
    new_due = None if clear else parse_date(rest, today=_today(ctx, actor.timezone))
    item = await load_item(ctx, actor, item_id)
    if item.status not in store.OPEN_STATUSES:
        raise await _refuse_closed(ctx, actor, item)
    if item.due_date == new_due:
        if new_due is None:
            raise UserError(f"{ref(item)} has no due date already.")
        raise UserError(
            f"{ref(item)} is already due {due_text(item, today=_today(ctx, actor.timezone))}."
        )
    old = item.due_date.isoformat() if item.due_date else "none"
    new = new_due.isoformat() if new_due else "none"
    owner = await _get_person(ctx, item.owner_id)
    owner_today = _today(ctx, owner.timezone if owner else actor.timezone)
    shown = format_day(new_due, today=owner_today) if new_due else "no due date"
    notice = _note_reply(
        f"Action item {ref(item)} due date",
        f"*{actor.name}* moved {ref(item)} *{item.title}* to {shown}.",
        item,
    )

    def messages(_i: ActionItem, event: ActionItemEvent) -> list[OutboxNew]:
        if owner is None or owner.id == actor.person_id:
            return []
        return [dm(ctx, owner, notice, key=f"action:{item.id}:due_changed:{event.id}")]

    result = await store.change(
        ctx.db,
        item_id=item_id,
        actor_id=actor.person_id,
        kind="due_changed",
        detail=f"{old} → {new}",
        allowed_from=store.OPEN_STATUSES,
        updates={"due_date": new_due},
        now=ctx.now(),
        withdraw_followups=True,
        messages=messages,
    )
    if not result.applied:
        raise UserError(f"{ref(item)} changed meanwhile; nothing was changed.")
    text = f"{ref(item)} *{item.title}* is now due {shown if new_due else 'whenever'}."
    if new_due is None:
        text = f"{ref(item)} *{item.title}* no longer has a due date."
    return Reply(blocks=[Text(text)], text=text.replace("*", ""))


async def _reassign(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    actor = cmd.actor
    item_id = parse_item_id(args.take_word("the item number"))
    args.take_if("to")
    who = args.take_mention("the new owner (@name)")
    args.expect_end()
    item = await load_item(ctx, actor, item_id)
    if item.status not in store.OPEN_STATUSES:
        raise await _refuse_closed(ctx, actor, item)
    new_owner = await _get_person(ctx, who.person_id)
    if new_owner is None:
        raise NotFound(f"I don't know {who}.")
    if new_owner.id == item.owner_id:
        raise UserError(f"{new_owner.display_name} already owns {ref(item)}.")
    await require_can_assign(ctx, actor, new_owner)
    old_owner = await _get_person(ctx, item.owner_id)
    assigner = await _get_person(ctx, actor.person_id)
    new_today = _today(ctx, new_owner.timezone)
    metric_line: str | None = None
    if item.metric_key and item.metric_op and item.metric_target is not None:
        metric = await catalogue.get_metric(ctx.db, key=item.metric_key)
        if metric is not None:
            metric_line = (
                f"{metric.name} {fmt_goal(metric.unit, item.metric_op, item.metric_target)}"
            )
    fyi = _note_reply(
        f"Action item {ref(item)} reassigned",
        f"*{actor.name}* handed {ref(item)} *{item.title}* to {new_owner.display_name}.",
        item,
    )

    def messages(updated: ActionItem, event: ActionItemEvent) -> list[OutboxNew]:
        out: list[OutboxNew] = []
        if new_owner.id != actor.person_id:
            reply = assigned_reply(
                updated,
                assigner=assigner,
                owner=new_owner,
                metric_line=metric_line,
                today=new_today,
                reassigned=True,
            )
            out.append(dm(ctx, new_owner, reply, key=f"action:{item.id}:assigned:{event.id}"))
        if old_owner is not None and old_owner.id != actor.person_id and old_owner.active:
            out.append(dm(ctx, old_owner, fyi, key=f"action:{item.id}:unassigned:{event.id}"))
        return out

    result = await store.change(
        ctx.db,
        item_id=item_id,
        actor_id=actor.person_id,
        kind="reassigned",
        detail=f"{_name(old_owner)} → {new_owner.display_name}",
        allowed_from=store.OPEN_STATUSES,
        updates={
            "owner_id": new_owner.id,
            "team_id": new_owner.team_id,
            "assigned_by_id": actor.person_id,
            "status": ActionStatus.open,
            "close_offered_at": None,
        },
        now=ctx.now(),
        withdraw_followups=True,
        messages=messages,
        expect_owner_id=item.owner_id,
    )
    if not result.applied:
        raise UserError(f"{ref(item)} changed meanwhile; nothing was changed.")
    text = f"{ref(item)} *{item.title}* now belongs to {new_owner.display_name}; I've told them."
    if new_owner.id == actor.person_id:
        text = f"{ref(item)} *{item.title}* is now yours."
    return Reply(blocks=[Text(text)], text=text.replace("*", ""))


async def _cancel(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    actor = cmd.actor
    item_id = parse_item_id(args.take_word("the item number"))
    reason = _clean_note(args.rest_text(), "reason")
    item = await load_item(ctx, actor, item_id)
    if item.status not in store.OPEN_STATUSES:
        raise await _refuse_closed(ctx, actor, item)
    notice = _note_reply(
        f"Action item {ref(item)} cancelled",
        f"*{actor.name}* cancelled {ref(item)}: *{item.title}*"
        + (f" ({reason})" if reason else ""),
        item,
    )
    pending = await _messages_to(
        ctx,
        actor,
        item,
        [item.owner_id, item.assigned_by_id],
        notice,
        f"action:{item.id}:cancelled",
    )
    await _close(ctx, actor, item_id, ActionStatus.cancelled, reason, pending)
    text = f"Cancelled {ref(item)} *{item.title}*."
    return Reply(blocks=[Text(text)], text=text.replace("*", ""))


async def _show(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    item_id = parse_item_id(args.take_word("the item number"))
    args.expect_end()
    item = await load_item(ctx, cmd.actor, item_id)
    return await show_reply(ctx, cmd.actor, item)


async def _accept_cmd(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    item_id = parse_item_id(args.take_word("the item number"))
    args.expect_end()
    return await accept(ctx, cmd.actor, item_id)


async def action_command(cmd: Command, ctx: HandlerContext) -> Reply:
    """`/action ...`: create, list, show, accept, done, due, reassign, cancel."""
    args = Args(cmd.args)
    if not args:
        raise UsageError("Say who owns the item and what it is, or `list`.")
    sub = args.take_if("list", "ls", "show", "accept", "done", "due", "reassign", "cancel")
    if sub in ("list", "ls"):
        return await _list(cmd, args, ctx)
    if sub == "show":
        return await _show(cmd, args, ctx)
    if sub == "accept":
        return await _accept_cmd(cmd, args, ctx)
    if sub == "done":
        return await _done(cmd, args, ctx)
    if sub == "due":
        return await _due(cmd, args, ctx)
    if sub == "reassign":
        return await _reassign(cmd, args, ctx)
    if sub == "cancel":
        return await _cancel(cmd, args, ctx)
    return await _create_command(cmd, args, ctx)


# --- buttons and forms --------------------------------------------------------------------


def create_form(value: str, *, title: str = "", due: str = "") -> Form:
    """The form behind `action.create` (title + due)."""
    return Form(
        title="New action item",
        action_id="action.create",
        value=value,
        fields=(
            FormField(
                "title", "What needs doing?", optional=False, max_length=TITLE_MAX, initial=title
            ),
            FormField(
                "due",
                "Due (e.g. friday, next week, 2026-12-01)",
                optional=True,
                max_length=40,
                initial=due,
            ),
        ),
        submit_label="Create",
    )


def create_button(
    *, source: str, source_ref: str, owner_id: int, label: str = "Add action item", title: str = ""
) -> Button:
    """A button for other features' cards: opens the form, then creates an item with this
    source (`one_on_one`, `pulse`, `meeting`), e.g. on a 1:1 prep card
    `create_button(source="one_on_one", source_ref=str(oneonone.id), owner_id=agent.id)`."""
    value = f"{source}:{source_ref}:{owner_id}"
    return Button(label, "action.create", value, form=create_form(value, title=title))


async def _check_source(ctx: HandlerContext, actor: Actor, value: str) -> tuple[str, str, int]:
    """Validate an `action.create` value; (source, ref, owner id) or a refusal."""
    parts = value.split(":")
    if len(parts) != 3 or parts[0] not in SOURCES or not parts[2].isdigit() or len(parts[2]) > 10:
        raise UserError("That button isn't valid any more. Nothing was changed.")
    source, source_ref, owner_id = parts[0], parts[1], int(parts[2])
    if source in ("one_on_one", "pulse") and not (source_ref.isdigit() and len(source_ref) <= 10):
        raise UserError("That button isn't valid any more. Nothing was changed.")
    if source == "one_on_one":
        o = await store.get_one_on_one(ctx.db, one_on_one_id=int(source_ref))
        if o is None or o.agent_id != owner_id:
            raise NotFound("That 1:1 doesn't exist (any more). Nothing was changed.")
        if actor.person_id not in (o.lead_id, o.agent_id) and actor.role not in LEADERS:
            raise NotAllowed("That 1:1 isn't yours. Nothing was changed.")
    elif source == "pulse":
        r = await store.get_pulse_round(ctx.db, round_id=int(source_ref))
        if r is None:
            raise NotFound("That pulse round doesn't exist. Nothing was changed.")
        if r.team_id not in await visible_team_ids(ctx, actor):
            raise NotAllowed("That pulse round isn't from a team of yours. Nothing was changed.")
    elif not re.fullmatch(r"[\w.\-]{1,64}", source_ref):
        raise UserError("That button isn't valid any more. Nothing was changed.")
    return source, source_ref, owner_id


async def _create_from_form(action: Action, ctx: HandlerContext) -> Reply:
    source, source_ref, owner_id = await _check_source(ctx, action.actor, action.value)
    owner = await _get_person(ctx, owner_id)
    if owner is None:
        raise NotFound("That person isn't on the roster. Nothing was changed.")
    await require_can_assign(ctx, action.actor, owner)
    if not action.form:
        return Reply(form=create_form(action.value), text="New action item")
    errors: dict[str, str] = {}
    title = clean_text(action.form.get("title", ""))
    if not title:
        errors["title"] = "Say what needs doing."
    elif len(title) > TITLE_MAX:
        errors["title"] = f"{TITLE_MAX} characters at most."
    due: dt.date | None = None
    due_raw = action.form.get("due", "").strip()
    if due_raw:
        try:
            due = parse_date(due_raw, today=_today(ctx, action.actor.timezone))
        except DateError as exc:
            errors["due"] = exc.message
    if errors:
        return Reply(errors=errors, ok=False, text="; ".join(errors.values()))
    item = await create_item(
        ctx,
        actor=action.actor,
        owner_id=owner_id,
        title=title,
        due=due,
        source=source,
        source_ref=source_ref,
    )
    today = _today(ctx, action.actor.timezone)
    who = "you" if owner_id == action.actor.person_id else owner.display_name
    text = f"Created {ref(item)} for {who}: *{item.title}*, {due_text(item, today=today)}."
    return Reply(blocks=[Text(text)], text=text.replace("*", ""))


def _button_item_id(value: str) -> int:
    try:
        return parse_item_id(value)
    except UsageError:
        raise UserError("That button isn't valid any more. Nothing was changed.") from None


async def action_button(action: Action, ctx: HandlerContext) -> Reply:
    """Every `action.*` button and form."""
    kind = action.action_id.removeprefix("action.")
    if kind == "create":
        return await _create_from_form(action, ctx)
    if kind not in ("accept", "done", "help", "achieved", "show"):
        raise UserError("That button isn't valid any more. Nothing was changed.")
    item_id = _button_item_id(action.value)
    if kind == "accept":
        return await accept(ctx, action.actor, item_id)
    if kind == "done":
        return await mark_done(ctx, action.actor, item_id)
    if kind == "help":
        return await ask_help(ctx, action.actor, item_id, action.form.get("message", ""))
    if kind == "show":
        item = await load_item(ctx, action.actor, item_id)
        return await show_reply(ctx, action.actor, item)
    item = await load_item(ctx, action.actor, item_id)
    if item.metric_key is None:
        raise UserError(f"{ref(item)} isn't linked to a metric. Nothing was changed.")
    metric = await catalogue.get_metric(ctx.db, key=item.metric_key)
    name = metric.name if metric else item.metric_key
    goal = (
        fmt_goal(metric.unit, item.metric_op or "", item.metric_target or 0)
        if metric
        else f"{item.metric_op} {item.metric_target}"
    )
    return await mark_done(
        ctx,
        action.actor,
        item_id,
        achieved=f"closed as achieved: {name} {goal} for "
        f"{ctx.settings.action_evidence_days} working days in a row",
    )


# --- App Home --------------------------------------------------------------------------------

HOME_LIMIT = 10


async def home_section(actor: Actor, ctx: HandlerContext) -> list[Block]:
    """The user's open items with their buttons (and, for leads, the team's totals)."""
    items = await store.list_items(ctx.db, owner_id=actor.person_id, limit=HOME_LIMIT + 1)
    team_line: str | None = None
    if actor.role in LEADERS:
        teams = await visible_team_ids(ctx, actor)
        today = _today(ctx, actor.timezone)
        n_open = await store.count_items(ctx.db, team_ids=teams)
        n_overdue = len(await store.list_items(ctx.db, team_ids=teams, due_before=today))
        if n_open:
            team_line = (
                f"Your teams: {n_open} open action items, {n_overdue} overdue. `/action list team`"
            )
    if not items and team_line is None:
        return []
    today = _today(ctx, actor.timezone)
    blocks: list[Block] = [Header("Your action items")]
    if not items:
        blocks.append(Text("You have no open action items."))
    for item in items[:HOME_LIMIT]:
        blocks.append(Text(f"*{ref(item)}* {item.title} · {due_text(item, today=today)}"))
        buttons = item_buttons(item, for_owner=True)
        if buttons:
            blocks.append(buttons)
    if len(items) > HOME_LIMIT:
        blocks.append(Context("More: `/action list mine`."))
    if team_line:
        blocks.append(Context(team_line))
    return blocks


COMMAND = CommandSpec(
    verb="action",
    summary="Action items: assign, follow up and close owned work",
    usage=(
        "/action @owner TEXT [due DATE] [metric METRIC OP TARGET]",
        "/action list [mine|team|overdue|done|assigned|@person]",
        "/action show ID",
        "/action accept ID",
        "/action done ID [note]",
        "/action due ID DATE|none",
        "/action reassign ID @person",
        "/action cancel ID [reason]",
    ),
    handler=lambda cmd, _args, ctx: action_command(cmd, ctx),  # TEMP shim
    examples=(
        "/action @maria.lopez call back the Smith account due tomorrow",
        "/action @maria.lopez shorten wrap-up due next week metric aht <= 300s",
        "/action list overdue",
        "/action done 12 called, resolved",
    ),
)

BUTTONS = ActionSpec(prefix="action", handler=action_button)
