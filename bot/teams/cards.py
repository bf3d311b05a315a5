"""A neutral Reply as an Adaptive Card 1.5 (what Teams shows), with a plain-text fallback.

Buttons become `Action.Execute` (Teams sends an `adaptiveCard/action` invoke and shows the
card we answer with, so a pulse card updates in place); older clients get the
`Action.Submit` fallback, which arrives as a message carrying the same data. A button
with a form shows its fields in the card (`Action.ShowCard` with `Input.Text`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from bot.render_text import inline
from domain.types import (
    Block,
    Button,
    Buttons,
    Chart,
    Context,
    Fields,
    Form,
    FormField,
    Header,
    Image,
    Reply,
    Table,
    Text,
)

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"

# Teams refuses (413) a message over 28 KB: the card, its summary and the envelope. The
# card stays under CARD_BUDGET as json.dumps writes it (what the connector client posts,
# non-ASCII as \u escapes), which leaves room for the rest; anything unbounded (a cell,
# a paragraph, a header) is cut to a bound first, and tables are paged.
TEAMS_MESSAGE_LIMIT = 28 * 1024
CARD_BUDGET = 24 * 1024
TEXT_BYTES = 6 * 1024  # one TextBlock; longer text becomes several
ROW_BYTES = 6 * 1024  # one table row
CELL_BYTES = 1024  # one cell, one fact's value
SHORT_BYTES = 1024  # a header, a context line, the fallback text, the summary
PAGER_BYTES = 2 * 1024  # what Previous/More carry; more than this and the card can't page
CHART_BYTES = 16 * 1024  # a chart with its fallback; a longer fallback table is cut

# Teams' own chart colours (Adaptive Card chart colour names); the figures are always in
# the alt text under the chart and in the table fallback too (docs/leads/stats.md).
CHART_LINE_COLOR = "categoricalBlue"
CHART_GOAL_COLOR = "categoricalRed"
_AXIS_TITLES = {"s": "seconds", "%": "%", "pts": "points", "count": "count"}

# The paging buttons' action id (handled by the adapter, not a registered action) and
# the key of the page they ask for.
PAGE_ACTION = "teams.page"
PAGE_KEY = "page"

# Keys of the data every leadbot button carries (Action.Execute and Action.Submit alike).
ACTION_KEY = "leadbot"  # the action id
VALUE_KEY = "value"  # the button's value (validated by the handler on press)
FORM_KEY = "leadbot_form"  # the form's definition, to show it again with errors
INPUT_PREFIX = "f_"  # form inputs are named f_<field>, so they can't clash with the keys above

_BOLD_RE = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")
_LINK_RE = re.compile(r"<(https?://[^|>\s]+)\|([^>]+)>")
_BARE_LINK_RE = re.compile(r"<(https?://[^|>\s]+)>")
_FENCE_RE = re.compile(r"```\n?(.*?)\n?```", re.DOTALL)
_CODE_RE = re.compile(r"`([^`\n]+)`")
_SINGLE_NEWLINE_RE = re.compile(r"(?<!\n)\n(?!\n)")


def markdown(text: str) -> str:
    """Slack-style markup (`*bold*`, `_italic_`, `<url|label>`, `code`) as card markdown.

    Adaptive Cards understand `**bold**`, `_italic_` and `[label](url)`; they have no inline
    code, so backticks are dropped and the words kept.
    """
    text = _LINK_RE.sub(lambda m: f"[{m.group(2)}]({m.group(1)})", text)
    text = _BARE_LINK_RE.sub(lambda m: m.group(1), text)
    text = _BOLD_RE.sub(lambda m: f"**{m.group(1)}**", text)
    text = _CODE_RE.sub(lambda m: m.group(1), text)
    # A single newline is not a line break in card markdown; two are a paragraph.
    return _SINGLE_NEWLINE_RE.sub("\n\n", text)


def _text_block(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **extra}


def _paragraph(text: str) -> list[dict[str, Any]]:
    """A Text block: prose as TextBlocks, ``` fences as monospace blocks."""
    out: list[dict[str, Any]] = []
    pos = 0
    for m in _FENCE_RE.finditer(text):
        before = text[pos : m.start()].strip("\n")
        if before.strip():
            out.append(_text_block(markdown(before)))
        code = m.group(1).strip("\n")
        if code:
            # Each line its own paragraph: markdown would join single newlines.
            out.append(_text_block("\n\n".join(code.splitlines()), fontType="Monospace"))
        pos = m.end()
    rest = text[pos:].strip("\n")
    if rest.strip():
        out.append(_text_block(markdown(rest)))
    return out


def _cell(text: str, *, bold: bool = False) -> dict[str, Any]:
    block = _text_block(_clip_bytes(markdown(text), CELL_BYTES) if text else " ")
    if bold:
        block["weight"] = "Bolder"
    return {"type": "TableCell", "items": [block]}


def _table_parts(
    table: Table,
) -> tuple[dict[str, Any], dict[str, Any] | None, list[dict[str, Any]]]:
    """(the Table without rows, its header row or None, its data rows).

    Alignment is the column's (one property per column, not per cell). No ColumnSet
    fallback: the card requires 1.5, which has Table, and the copy doubled its bytes.
    """
    ncol = len(table.columns)
    align = tuple(table.align) + ("l",) * (ncol - len(table.align))
    header = any(c.strip() for c in table.columns)
    columns: list[dict[str, Any]] = []
    for a in align[:ncol]:
        column: dict[str, Any] = {"width": 1}
        if a == "r":
            column["horizontalCellContentAlignment"] = "Right"
        columns.append(column)
    shell: dict[str, Any] = {
        "type": "Table",
        "columns": columns,
        "rows": [],
        "firstRowAsHeader": header,
        "showGridLines": False,
    }
    head = (
        {"type": "TableRow", "cells": [_cell(c, bold=True) for c in table.columns]}
        if header
        else None
    )
    rows = []
    for row in table.rows:
        cells = (tuple(row) + ("",) * ncol)[:ncol]
        rows.append({"type": "TableRow", "cells": [_cell(c) for c in cells]})
    return shell, head, rows


def _data(action_id: str, value: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {ACTION_KEY: action_id, VALUE_KEY: value}
    if extra:
        data.update(extra)
    return data


def _execute(
    title: str,
    action_id: str,
    value: str,
    *,
    style: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    data = _data(action_id, value, extra)
    action: dict[str, Any] = {
        "type": "Action.Execute",
        "title": title,
        "verb": action_id,
        "data": data,
        "fallback": {"type": "Action.Submit", "title": title, "data": data},
    }
    if style == "primary":
        action["style"] = "positive"
    elif style == "danger":
        action["style"] = "destructive"
    return action


def form_inputs(
    form: Form, *, values: dict[str, str] | None = None, errors: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """The form's fields as labelled Input.Text elements (with any errors under them)."""
    items: list[dict[str, Any]] = []
    for f in form.fields:
        items.extend(_input(f, (values or {}).get(f.name), (errors or {}).get(f.name)))
    return items


def _input(f: FormField, value: str | None, error: str | None) -> list[dict[str, Any]]:
    element: dict[str, Any] = {
        "type": "Input.Text",
        "id": INPUT_PREFIX + f.name,
        "label": f.label,
        "isMultiline": f.multiline,
        "maxLength": f.max_length,
        "isRequired": not f.optional,
    }
    if f.placeholder:
        element["placeholder"] = f.placeholder
    initial = value if value is not None else f.initial
    if initial:
        element["value"] = initial
    if not f.optional:
        element["errorMessage"] = f"{f.label} is required."
    out = [element]
    if error:
        out.append(_text_block(error, color="Attention", size="Small", spacing="None"))
    return out


def form_submit(form: Form) -> dict[str, Any]:
    """The submit button of a form: an Execute carrying the form's definition."""
    return _execute(
        form.submit_label,
        form.action_id,
        form.value,
        style="primary",
        extra={FORM_KEY: form_to_json(form)},
    )


def form_to_json(form: Form) -> str:
    return json.dumps(
        {
            "title": form.title,
            "action_id": form.action_id,
            "value": form.value,
            "submit_label": form.submit_label,
            "fields": [f.__dict__ for f in form.fields],
        },
        separators=(",", ":"),
    )


def form_from_json(data: str) -> Form | None:
    """A form definition carried by a submit (None when it is not one)."""
    try:
        d = json.loads(data)
        fields = tuple(FormField(**f) for f in d["fields"])
        return Form(d["title"], d["action_id"], d["value"], fields, d["submit_label"])
    except (ValueError, KeyError, TypeError):
        return None


def _button(b: Button) -> dict[str, Any]:
    if b.form is None:
        return _execute(b.label, b.action_id, b.value, style=b.style)
    card = {
        "type": "AdaptiveCard",
        "body": [_text_block(b.form.title, weight="Bolder"), *form_inputs(b.form)],
        "actions": [form_submit(b.form)],
    }
    return {"type": "Action.ShowCard", "title": b.label, "card": card}


@dataclass(frozen=True)
class Pager:
    """What a card's Previous/More buttons carry back, besides the page wanted: enough for
    the adapter to make the same reply again (a command line, an outbox message id)."""

    data: dict[str, Any]


@dataclass(frozen=True)
class _Atom:
    """The smallest piece of a card body a page break may fall after: an element, or one
    row of a table, or one fact of a fact set (`group`: which table or fact set)."""

    kind: str  # "element" | "row" | "fact"
    element: dict[str, Any]
    group: int = -1

    @property
    def size(self) -> int:
        return _size(self.element)


@dataclass
class _Layout:
    atoms: list[_Atom] = field(default_factory=list)
    shells: dict[int, dict[str, Any]] = field(default_factory=dict)  # group -> Table/FactSet
    heads: dict[int, dict[str, Any] | None] = field(default_factory=dict)
    title: dict[str, Any] | None = None  # shown again at the top of later pages
    form: list[dict[str, Any]] = field(default_factory=list)  # title + inputs, kept whole
    actions: list[dict[str, Any]] = field(default_factory=list)  # the form's submit

    def element(self, element: dict[str, Any]) -> None:
        self.atoms.append(_Atom("element", element))


def _size(obj: Any) -> int:
    """Bytes as the Bot Connector client sends it (json.dumps: ASCII, ", " and ": ")."""
    return len(json.dumps(obj))


def _clip_bytes(text: str, limit: int) -> str:
    """`text`, cut (with an ellipsis) so that its JSON string takes at most `limit` bytes."""
    if _size(text) <= limit:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # the longest prefix that fits with the ellipsis
        mid = (lo + hi + 1) // 2
        if _size(text[:mid] + "…") <= limit:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo] + "…"


def _text_atoms(layout: _Layout, block: dict[str, Any]) -> None:
    """A TextBlock; a long one becomes several (at paragraph, then line breaks)."""
    text = str(block["text"])
    if _size(block) <= TEXT_BYTES:
        layout.element(block)
        return
    sep = "\n\n" if "\n\n" in text else "\n"
    chunk: list[str] = []
    for part in text.split(sep):
        part = _clip_bytes(part, TEXT_BYTES - 200)
        if chunk and _size(sep.join([*chunk, part])) > TEXT_BYTES - 200:
            layout.element({**block, "text": sep.join(chunk)})
            chunk = []
        chunk.append(part)
    if chunk:
        layout.element({**block, "text": sep.join(chunk)})


def _bounded_row(row: dict[str, Any]) -> dict[str, Any]:
    """A row over ROW_BYTES gets its cells cut to an equal share."""
    if _size(row) <= ROW_BYTES:
        return row
    share = max(ROW_BYTES // max(len(row["cells"]), 1) - 120, 16)
    cells = []
    for cell in row["cells"]:
        [item] = cell["items"]
        cells.append({**cell, "items": [{**item, "text": _clip_bytes(item["text"], share)}]})
    return {**row, "cells": cells}


def _chart_data(chart: Chart) -> list[dict[str, Any]]:
    series: list[dict[str, Any]] = []
    for s in chart.series:
        points = [
            {"x": x, "y": v} for x, v in zip(chart.labels, s.values, strict=True) if v is not None
        ]
        series.append({"legend": s.name, "color": CHART_LINE_COLOR, "values": points})
    if chart.goal is not None and len(chart.labels) > 1:
        # A level line needs only its two ends (and keeps long charts small).
        ends = [{"x": chart.labels[0], "y": chart.goal}, {"x": chart.labels[-1], "y": chart.goal}]
        legend = f"goal {chart.goal_text}" if chart.goal_text else "goal"
        series.append({"legend": legend, "color": CHART_GOAL_COLOR, "values": ends})
    return series


def _chart_fallback(chart: Chart, lines: list[str]) -> dict[str, Any]:
    """What a client without charts shows: the alt text and the figures, monospace."""
    items = [_text_block(_clip_bytes(chart.title, SHORT_BYTES), weight="Bolder")]
    if lines:
        items.append(_text_block("\n\n".join(lines), fontType="Monospace"))
    return {"type": "Container", "items": items}


def _table_text(chart: Chart) -> list[str]:
    if chart.table is None:
        return []
    t = chart.table
    rows = [t.columns, *t.rows]
    widths = [max(len(r[i]) if i < len(r) else 0 for r in rows) for i in range(len(t.columns))]
    align = tuple(t.align) + ("l",) * len(t.columns)
    return [
        "  ".join(
            c.rjust(widths[i]) if align[i] == "r" else c.ljust(widths[i]) for i, c in enumerate(r)
        ).rstrip()
        for r in rows
    ]


def chart_element(chart: Chart) -> dict[str, Any]:
    """A native Teams chart (Chart.Line / Chart.VerticalBar) with a table fallback, within
    CHART_BYTES: a fallback too long keeps its first rows and says how many are left; a
    chart whose points alone are too many is sent as that table."""
    element: dict[str, Any] = {
        "type": "Chart.Line" if chart.shape == "line" else "Chart.VerticalBar",
        "title": _clip_bytes(chart.title, SHORT_BYTES),
    }
    if chart.unit in _AXIS_TITLES:
        element["yAxisTitle"] = _AXIS_TITLES[chart.unit]
    if chart.shape == "line":
        element["data"] = _chart_data(chart)
    else:
        [s] = chart.series[:1] or [None]
        element["data"] = (
            []
            if s is None
            else [
                {"x": x, "y": v, "color": CHART_LINE_COLOR}
                for x, v in zip(chart.labels, s.values, strict=True)
                if v is not None
            ]
        )
    lines = _table_text(chart)
    element["fallback"] = _chart_fallback(chart, lines)
    while _size(element) > CHART_BYTES and len(lines) > 2:
        lines = lines[: max(len(lines) * 3 // 4, 2)]
        cut = len(_table_text(chart)) - len(lines)
        element["fallback"] = _chart_fallback(chart, [*lines, f"({cut} more rows not shown)"])
    if _size(element) > CHART_BYTES:
        # More points than a card can carry (the handlers send at most 92): the table alone.
        fallback: dict[str, Any] = element["fallback"]
        return fallback
    return element


def _add_group(layout: _Layout, index: int, block: Fields | Table) -> None:
    """A fact set or a table: its facts or rows are atoms a page may break between."""
    if isinstance(block, Fields):
        layout.shells[index] = {"type": "FactSet", "facts": []}
        for k, v in block.pairs:
            fact = {
                "title": _clip_bytes(k, SHORT_BYTES),
                "value": _clip_bytes(markdown(v), CELL_BYTES),
            }
            layout.atoms.append(_Atom("fact", fact, index))
        return
    shell, head, rows = _table_parts(block)
    layout.shells[index] = shell
    layout.heads[index] = _bounded_row(head) if head is not None else None
    for row in rows:
        layout.atoms.append(_Atom("row", _bounded_row(row), index))


def _add_block(layout: _Layout, index: int, block: Block) -> None:
    if isinstance(block, Header):
        element = _text_block(_clip_bytes(block.text, SHORT_BYTES), size="Large", weight="Bolder")
        if index == 0:
            layout.title = element
        layout.element(element)
    elif isinstance(block, Text):
        for b in _paragraph(block.text):
            _text_atoms(layout, b)
    elif isinstance(block, Fields | Table):
        _add_group(layout, index, block)
    elif isinstance(block, Buttons):
        layout.element({"type": "ActionSet", "actions": [_button(b) for b in block.buttons]})
    elif isinstance(block, Context):
        layout.element(
            _text_block(_clip_bytes(markdown(block.text), SHORT_BYTES), size="Small", isSubtle=True)
        )
    elif isinstance(block, Chart):
        layout.element(chart_element(block))
        if block.alt_text:  # read by screen readers, and by anyone under the chart
            alt = _clip_bytes(block.alt_text, TEXT_BYTES)
            layout.element(_text_block(alt, size="Small", isSubtle=True))
    elif isinstance(block, Image):
        layout.element({"type": "Image", "url": block.url, "altText": block.alt})
    else:
        raise TypeError(f"unknown block {block!r}")


def _layout(reply: Reply, form: Form | None, values: dict[str, str] | None) -> _Layout:
    layout = _Layout()
    shown_form = reply.form or form
    if reply.errors:
        general = reply.errors.get("", "")
        lines = [general] if general else []
        if shown_form is None:
            lines += [f"{k}: {v}" for k, v in reply.errors.items() if k]
        layout.element(
            _text_block(
                _clip_bytes("\n\n".join(lines) or "Please check the fields below.", TEXT_BYTES),
                color="Attention",
                weight="Bolder",
            )
        )
    for index, block in enumerate(reply.blocks):
        _add_block(layout, index, block)
    if shown_form is not None:
        layout.form = [
            _text_block(shown_form.title, size="Medium", weight="Bolder"),
            *form_inputs(shown_form, values=values, errors=reply.errors),
        ]
        layout.actions = [form_submit(shown_form)]
    if not layout.atoms and not layout.form:
        layout.element(_text_block(_clip_bytes(markdown(reply.fallback), TEXT_BYTES) or " "))
    return layout


def _group_shell(layout: _Layout, atom: _Atom) -> dict[str, Any]:
    """The table (with its header row) or fact set a row/fact starts on a page."""
    shell = layout.shells[atom.group]
    if atom.kind == "row":
        head = layout.heads.get(atom.group)
        return {**shell, "rows": [head] if head is not None else []}
    return shell


def _paginate(layout: _Layout, budget: int) -> list[list[_Atom]]:
    """The atoms on each page: in order, each page's within `budget` bytes; a table or
    fact set split across pages starts again (with its header) on the next."""
    pages: list[list[_Atom]] = [[]]
    used = 0
    for atom in layout.atoms:
        for _attempt in (1, 2):
            page = pages[-1]
            cost = atom.size + 2
            continues = bool(page) and page[-1].group == atom.group and atom.kind != "element"
            if atom.kind != "element" and not continues:
                cost += _size(_group_shell(layout, atom)) + 2
            if used + cost <= budget or not page:
                page.append(atom)
                used += cost
                break
            pages.append([])
            used = 0
    return pages


def _body(layout: _Layout, atoms: list[_Atom]) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = []
    i = 0
    while i < len(atoms):
        atom = atoms[i]
        if atom.kind == "element":
            body.append(atom.element)
            i += 1
            continue
        group = _group_shell(layout, atom)
        items = list(group["rows"] if atom.kind == "row" else group["facts"])
        while i < len(atoms) and atoms[i].group == atom.group and atoms[i].kind == atom.kind:
            items.append(atoms[i].element)
            i += 1
        body.append({**group, ("rows" if atom.kind == "row" else "facts"): items})
    return body


def _nav(pager: Pager, page: int, pages: int) -> dict[str, Any]:
    buttons = []
    if page > 1:
        buttons.append(
            _execute("Previous", PAGE_ACTION, "", extra={**pager.data, PAGE_KEY: page - 1})
        )
    if page < pages:
        buttons.append(
            _execute(
                f"More ({page + 1} of {pages})",
                PAGE_ACTION,
                "",
                style="primary",
                extra={**pager.data, PAGE_KEY: page + 1},
            )
        )
    return {"type": "ActionSet", "actions": buttons}


def _page_note(page: int, pages: int, *, navigable: bool) -> dict[str, Any]:
    text = f"Page {page} of {pages}."
    if not navigable:
        text += " The rest did not fit in one Teams message; ask again more narrowly."
    return _text_block(text, size="Small", isSubtle=True)


def _envelope(reply: Reply, body: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "body": body,
        "fallbackText": _clip_bytes(inline(reply.fallback), SHORT_BYTES),
        "msteams": {"width": "Full"},
    }


def render_pages(
    reply: Reply,
    *,
    form: Form | None = None,
    values: dict[str, str] | None = None,
    pager: Pager | None = None,
) -> list[dict[str, Any]]:
    """Every page of the reply's card (most replies: one); each is under CARD_BUDGET.

    Page breaks depend on the reply alone (not on which page is shown), so a More button
    that makes the reply again lands on the rows that follow. With a `pager`, the pages
    have Previous/More buttons carrying `pager.data` and the page number; without one
    (or when its data is too big to carry) only the first page can be shown, and says so.
    """
    layout = _layout(reply, form, values)
    if pager is not None and _size(pager.data) > PAGER_BYTES:
        pager = None
    reserve = _size(_envelope(reply, [])) + 2
    reserve += _size(_page_note(99999, 99999, navigable=pager is not None)) + 2
    if layout.title is not None:
        reserve += _size(layout.title) + 2
    if pager is not None:
        reserve += _size(_nav(pager, 99998, 99999)) + 2
    if layout.form:
        reserve += sum(_size(e) + 2 for e in layout.form)
        reserve += _size({"actions": layout.actions})
    pages = _paginate(layout, CARD_BUDGET - reserve)
    cards = []
    for n, atoms in enumerate(pages, start=1):
        body = _body(layout, atoms)
        if n > 1 and layout.title is not None:
            body.insert(0, layout.title)
        if n == 1 and layout.form:
            body.extend(layout.form)
        if len(pages) > 1:
            body.append(_page_note(n, len(pages), navigable=pager is not None))
            if pager is not None:
                body.append(_nav(pager, n, len(pages)))
        card = _envelope(reply, body)
        if n == 1 and layout.actions:
            card["actions"] = layout.actions
        cards.append(card)
    return cards


def render_card(
    reply: Reply,
    *,
    form: Form | None = None,
    values: dict[str, str] | None = None,
    page: int = 1,
    pager: Pager | None = None,
) -> dict[str, Any]:
    """The Adaptive Card for a reply: page `page` of it (1 is the first; past the last,
    the last), always under Teams' message limit.

    `form` (or reply.form) is shown as inputs with a submit button; `values` pre-fills them
    (a form shown again after an error keeps what the person typed).
    """
    pages = render_pages(reply, form=form, values=values, pager=pager)
    if pager is None or _size(pager.data) > PAGER_BYTES:
        page = 1
    return pages[min(max(page, 1), len(pages)) - 1]


def card_attachment(card: dict[str, Any]) -> dict[str, Any]:
    """An attachment of a message activity carrying the card."""
    return {"contentType": CARD_CONTENT_TYPE, "content": card}


def plain_text(reply: Reply) -> str:
    """The notification / summary text of a reply (what a phone's banner shows)."""
    return _clip_bytes(inline(reply.fallback)[:1000], SHORT_BYTES)
