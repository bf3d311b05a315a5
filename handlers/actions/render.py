"""How items look in chat: references, due dates, buttons, the owner's DM and the item card.

Everything here is pure: the callers fetch what is shown.
"""

from __future__ import annotations

import datetime as dt

from domain.dates import format_day
from domain.fmt import fmt_goal
from domain.items import ActionStatus
from domain.localtime import local_now
from domain.types import (
    Block,
    Button,
    Buttons,
    Context,
    Fields,
    Form,
    FormField,
    Header,
    Reply,
    Table,
    Text,
)
from handlers.actions.text import NOTE_MAX
from storage import actions as store
from storage.models import ActionItem, Metric, Person

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
    "due_proposed": "asked for a new date",
    "cancel_requested": "asked to cancel",
    "proposal_declined": "request declined",
    "reminder_sent": "reminder sent",
    "nudge_sent": "overdue nudge sent",
    "escalated": "escalated",
    "close_offered": "close offered",
    "summarized": "in weekly summary",
}


def item_ref(item: ActionItem) -> str:
    """`#12`: how every message names an item."""
    return f"#{item.id}"


def goal_line(metric: Metric, op: str, target: float) -> str:
    """`Average handle time <= 5:00`: a metric with its target."""
    return f"{metric.name} {fmt_goal(metric.unit, op, target)}"


def person_name(person: Person | None) -> str:
    """A person's display name, or a placeholder once they left the roster."""
    return person.display_name if person else "someone who left"


def due_text(item: ActionItem, *, today: dt.date) -> str:
    """`Wed 18 Nov (overdue)`, `today (today)`... or `no due date`."""
    if item.due_date is None:
        return "no due date"
    text = format_day(item.due_date, today=today)
    if item.status in store.OPEN_STATUSES:
        if item.due_date < today:
            text += " (overdue)"
        elif item.due_date == today:
            text += " (today)"
    return text


def local_stamp(when: dt.datetime, tz: str, today: dt.date) -> str:
    """`Tue 17 Nov 10:00` in the viewer's zone."""
    local = local_now(when, tz)
    return f"{format_day(local.date(), today=today)} {local:%H:%M}"


def plain(text: str) -> Reply:
    """A one-paragraph answer (bold in the blocks, plain in the fallback)."""
    return Reply(blocks=[Text(text)], text=text.replace("*", ""))


def _help_form(item: ActionItem, value: str) -> Form:
    return Form(
        title=f"Help with {item_ref(item)}",
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
    )


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
        buttons.append(Button("Need help", "action.help", value, form=_help_form(item, value)))
    return Buttons(tuple(buttons))


def close_offer_buttons(item: ActionItem) -> Buttons:
    """`Close as achieved` and `Show the trail`, offered when the evidence holds."""
    return Buttons(
        (
            Button("Close as achieved", "action.achieved", str(item.id), "primary"),
            Button("Show the trail", "action.show", str(item.id)),
        )
    )


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
    text = f"*{person_name(assigner)}* {verb} {item_ref(item)}: *{item.title}*"
    pairs = [("Due", due_text(item, today=today))]
    if metric_line:
        pairs.append(("Metric", metric_line))
    if item.source != "manual":
        pairs.append(("From", SOURCE_NAMES.get(item.source, item.source)))
    blocks: list[Block] = [
        Header(f"Action item {item_ref(item)}"),
        Text(text),
        Fields(tuple(pairs)),
    ]
    buttons = item_buttons(item, for_owner=True)
    if buttons:
        blocks.append(buttons)
    blocks.append(Context(f"Or type `/action done {item.id} [note]` when it's done."))
    fallback = (
        f"{person_name(assigner)} {verb} action item {item_ref(item)}: {item.title} ({pairs[0][1]})"
    )
    return Reply(blocks=blocks, text=fallback)


def note_reply(header: str, text: str, item: ActionItem) -> Reply:
    """A short notice about a change, pointing at the item's trail."""
    return Reply(
        blocks=[Text(text), Context(f"`/action show {item.id}` for the whole trail.")],
        text=f"{header}: {text}".replace("*", ""),
    )


def closed_explained(item: ActionItem, closer: Person | None, tz: str, today: dt.date) -> str:
    """Why a closed item can't change: who closed it, and when."""
    when = local_stamp(item.closed_at, tz, today) if item.closed_at else "earlier"
    by = f" by {closer.display_name}" if closer else ""
    what = "done" if item.status is ActionStatus.done else "cancelled"
    return f"{item_ref(item)} is already {what} (closed{by} on {when}). Nothing was changed."


def item_card(
    item: ActionItem,
    pairs: list[tuple[str, str]],
    trail: tuple[tuple[str, str, str, str], ...],
    *,
    for_owner: bool,
    extra: Buttons | None = None,
) -> Reply:
    """An item with its fields, its whole trail, and the buttons the viewer may use
    (`extra`: Approve / Decline for whoever decides a pending request)."""
    blocks: list[Block] = [
        Header(f"{item_ref(item)} {item.title}"),
        Fields(tuple(pairs)),
        Table(("when", "who", "what", "detail"), trail),
    ]
    if extra is not None:
        blocks.append(extra)
    buttons = item_buttons(item, for_owner=for_owner)
    if buttons:
        blocks.append(buttons)
    due = dict(pairs)["Due"]
    text = f"{item_ref(item)} {item.title} ({STATUS_NAMES[item.status]}, {due})\n" + "\n".join(
        f"{r[0]} {r[1]}: {r[2]} {r[3]}".rstrip() for r in trail
    )
    return Reply(blocks=blocks, text=text)
