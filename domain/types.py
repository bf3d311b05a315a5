"""Platform-neutral types: what a user asked (Command, Action) and what we answer (Reply).

Adapters in bot/ turn Slack requests, Teams activities and console lines into these, and
render a Reply into Block Kit, an Adaptive Card or plain text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from domain.roles import Role


class Platform(StrEnum):
    slack = "slack"
    teams = "teams"
    console = "console"


class Visibility(StrEnum):
    ephemeral = "ephemeral"  # only the person who asked sees it
    channel = "channel"  # everyone in the conversation sees it


@dataclass(frozen=True)
class Actor:
    """The person behind a command or a click, resolved by the adapter."""

    person_id: int
    email: str
    name: str
    role: Role
    team_id: int | None
    timezone: str = "UTC"


@dataclass(frozen=True)
class Mention:
    """A mention the adapter resolved to a person."""

    person_id: int
    name: str

    def __str__(self) -> str:
        return f"@{self.name}"


@dataclass(frozen=True)
class UnresolvedMention:
    """A mention that matched nobody (or several people); handlers explain it."""

    text: str
    reason: str = "nobody by that name is on the roster"

    def __str__(self) -> str:
        return self.text


class Quoted(str):
    """A word the user put in quotes: always plain text, never a sub-command or `help`."""

    __slots__ = ()


Token = str | Mention | UnresolvedMention


@dataclass(frozen=True)
class Command:
    actor: Actor
    verb: str
    args: tuple[Token, ...] = ()
    raw: str = ""
    platform: Platform = Platform.console
    channel_team_id: int | None = None  # the team whose channel the command came from
    # The channel the command was typed in, as the adapter stores it on a team it is
    # linked to (`/leadbot link`): a Slack channel id, a Teams channel's conversation
    # reference (JSON). None in a DM or a group chat. channel_name is for people to read.
    channel_ref: str | None = None
    channel_name: str = ""


@dataclass(frozen=True)
class Action:
    """A button press or a form submission."""

    actor: Actor
    action_id: str
    value: str = ""
    form: dict[str, str] = field(default_factory=dict)
    platform: Platform = Platform.console


# --- reply blocks ----------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    text: str
    kind: Literal["header"] = "header"


@dataclass(frozen=True)
class Text:
    """A paragraph; `*bold*` and `_italic_` are understood by every renderer."""

    text: str
    kind: Literal["text"] = "text"


@dataclass(frozen=True)
class Fields:
    pairs: tuple[tuple[str, str], ...]
    kind: Literal["fields"] = "fields"


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    # "l" or "r" per column; numbers read best right-aligned.
    align: tuple[str, ...] = ()
    kind: Literal["table"] = "table"


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    multiline: bool = False
    optional: bool = True
    max_length: int = 500
    placeholder: str = ""
    initial: str = ""


@dataclass(frozen=True)
class Form:
    """A small form (a Slack modal, an Adaptive Card input, console prompts)."""

    title: str
    action_id: str
    value: str
    fields: tuple[FormField, ...]
    submit_label: str = "Submit"


@dataclass(frozen=True)
class Button:
    label: str
    action_id: str
    value: str = ""
    style: Literal["primary", "danger"] | None = None
    form: Form | None = None  # pressing opens this form instead of acting at once


@dataclass(frozen=True)
class Buttons:
    buttons: tuple[Button, ...]
    kind: Literal["buttons"] = "buttons"


@dataclass(frozen=True)
class Context:
    text: str
    kind: Literal["context"] = "context"


@dataclass(frozen=True)
class Image:
    url: str
    alt: str
    kind: Literal["image"] = "image"


@dataclass(frozen=True)
class ChartSeries:
    """One line (or one set of bars) of a chart: a value per label, and each as shown."""

    name: str
    values: tuple[float | None, ...]  # None: no figure for that label (a gap, not zero)
    texts: tuple[str, ...]  # each value as a reader sees it (`5:08`, `87.5%`)


@dataclass(frozen=True)
class Chart:
    """A chart with its own text alternative, drawn by each renderer as it can: a PNG
    (Slack), a native card chart with a table fallback (Teams), a sparkline and a table
    (the console). `alt_text` says what it shows in words, and `table` holds its figures
    as rows: a chart is never the only way to read a figure.
    """

    shape: Literal["line", "bar"]
    title: str
    labels: tuple[str, ...]  # one per point: the x axis (days) or the bars (agents)
    series: tuple[ChartSeries, ...]
    unit: str = ""  # the metric's unit (domain/fmt.py), for the axis
    goal: float | None = None  # drawn as a line across the chart
    goal_text: str = ""  # `≤ 5:00 /day`
    goal_above: bool | None = None  # the goal band: True when values above meet it
    alt_text: str = ""
    table: Table | None = None  # the figures as rows (may be per week where points are days)
    kind: Literal["chart"] = "chart"


Block = Header | Text | Fields | Table | Buttons | Context | Image | Chart


@dataclass
class Reply:
    """What a handler answers: a few blocks, a plain-text fallback, and who sees it."""

    blocks: list[Block] = field(default_factory=list)
    text: str = ""
    visibility: Visibility = Visibility.ephemeral
    replace_original: bool = False  # a button's answer replaces the message it was on
    form: Form | None = None  # open this form (a modal) instead of posting
    errors: dict[str, str] = field(default_factory=dict)  # form field -> what is wrong
    ok: bool = True  # False for a refusal or an error message

    @property
    def fallback(self) -> str:
        """Plain text for notifications and clients that cannot show blocks."""
        if self.text:
            return self.text
        for block in self.blocks:
            if isinstance(block, Header | Text):
                return block.text
            if isinstance(block, Chart):
                return block.alt_text
        return ""

    def to_json(self) -> str:
        return json.dumps(_to_data(self), separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, data: str) -> Reply:
        return _reply_from_data(json.loads(data))


def _to_data(obj: Any) -> Any:
    if isinstance(obj, Reply):
        return {
            "blocks": [_to_data(b) for b in obj.blocks],
            "text": obj.text,
            "visibility": obj.visibility.value,
            "replace_original": obj.replace_original,
            "form": _to_data(obj.form) if obj.form else None,
            "errors": obj.errors,
            "ok": obj.ok,
        }
    if isinstance(obj, tuple | list):
        return [_to_data(x) for x in obj]
    if hasattr(obj, "__dataclass_fields__"):
        return {k: _to_data(getattr(obj, k)) for k in obj.__dataclass_fields__}
    return obj


def _form_from(d: dict[str, Any] | None) -> Form | None:
    if not d:
        return None
    fields = tuple(FormField(**f) for f in d["fields"])
    return Form(d["title"], d["action_id"], d["value"], fields, d.get("submit_label", "Submit"))


def _block_from(d: dict[str, Any]) -> Block:
    kind = d["kind"]
    if kind == "header":
        return Header(d["text"])
    if kind == "text":
        return Text(d["text"])
    if kind == "fields":
        return Fields(tuple((a, b) for a, b in d["pairs"]))
    if kind == "table":
        return _table_from(d)
    if kind == "buttons":
        return Buttons(
            tuple(
                Button(b["label"], b["action_id"], b["value"], b["style"], _form_from(b["form"]))
                for b in d["buttons"]
            )
        )
    if kind == "context":
        return Context(d["text"])
    if kind == "image":
        return Image(d["url"], d["alt"])
    if kind == "chart":
        return _chart_from(d)
    raise ValueError(f"unknown block kind {kind!r}")


def _table_from(d: dict[str, Any]) -> Table:
    return Table(tuple(d["columns"]), tuple(tuple(r) for r in d["rows"]), tuple(d.get("align", ())))


def _chart_from(d: dict[str, Any]) -> Chart:
    return Chart(
        shape=d["shape"],
        title=d["title"],
        labels=tuple(d["labels"]),
        series=tuple(
            ChartSeries(s["name"], tuple(s["values"]), tuple(s["texts"])) for s in d["series"]
        ),
        unit=d.get("unit", ""),
        goal=d.get("goal"),
        goal_text=d.get("goal_text", ""),
        goal_above=d.get("goal_above"),
        alt_text=d.get("alt_text", ""),
        table=_table_from(d["table"]) if d.get("table") else None,
    )


def _reply_from_data(d: dict[str, Any]) -> Reply:
    return Reply(
        blocks=[_block_from(b) for b in d["blocks"]],
        text=d.get("text", ""),
        visibility=Visibility(d.get("visibility", "ephemeral")),
        replace_original=d.get("replace_original", False),
        form=_form_from(d.get("form")),
        errors=dict(d.get("errors", {})),
        ok=d.get("ok", True),
    )


def message(text: str, *, visibility: Visibility = Visibility.ephemeral) -> Reply:
    """A one-paragraph reply."""
    return Reply(blocks=[Text(text)], text=text, visibility=visibility)
