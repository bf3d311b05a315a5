"""A neutral Reply as an Adaptive Card 1.5 (what Teams shows), with a plain-text fallback.

Buttons become `Action.Execute` (Teams sends an `adaptiveCard/action` invoke and shows the
card we answer with, so a pulse card updates in place); older clients get the
`Action.Submit` fallback, which arrives as a message carrying the same data. A button
with a form shows its fields in the card (`Action.ShowCard` with `Input.Text`).
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.render_text import inline
from domain.types import (
    Block,
    Button,
    Buttons,
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


def _cell(text: str, *, bold: bool = False, align: str = "l") -> dict[str, Any]:
    block = _text_block(markdown(text) if text else " ")
    if bold:
        block["weight"] = "Bolder"
    if align == "r":
        block["horizontalAlignment"] = "Right"
    return {"type": "TableCell", "items": [block]}


def _table(table: Table) -> dict[str, Any]:
    ncol = len(table.columns)
    align = tuple(table.align) + ("l",) * (ncol - len(table.align))
    header = any(c.strip() for c in table.columns)
    rows: list[dict[str, Any]] = []
    if header:
        rows.append(
            {
                "type": "TableRow",
                "cells": [
                    _cell(c, bold=True, align=a) for c, a in zip(table.columns, align, strict=True)
                ],
            }
        )
    for row in table.rows:
        cells = (tuple(row) + ("",) * ncol)[:ncol]
        rows.append(
            {
                "type": "TableRow",
                "cells": [_cell(c, align=a) for c, a in zip(cells, align, strict=True)],
            }
        )
    return {
        "type": "Table",
        "columns": [{"width": 1} for _ in range(ncol)],
        "rows": rows,
        "firstRowAsHeader": header,
        "showGridLines": False,
        # Clients older than 1.5 draw the same rows as column sets.
        "fallback": _table_as_columns(table, align, header),
    }


def _table_as_columns(table: Table, align: tuple[str, ...], header: bool) -> dict[str, Any]:
    def row(cells: tuple[str, ...], *, bold: bool) -> dict[str, Any]:
        cols = []
        for c, a in zip(cells, align, strict=False):
            block = _text_block(markdown(c) if c else " ")
            if bold:
                block["weight"] = "Bolder"
            if a == "r":
                block["horizontalAlignment"] = "Right"
            cols.append({"type": "Column", "width": "stretch", "items": [block]})
        return {"type": "ColumnSet", "columns": cols}

    items = [row(table.columns, bold=True)] if header else []
    items.extend(row(tuple(r), bold=False) for r in table.rows)
    return {"type": "Container", "items": items}


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


def _block(block: Block) -> list[dict[str, Any]]:
    if isinstance(block, Header):
        return [_text_block(block.text, size="Large", weight="Bolder")]
    if isinstance(block, Text):
        return _paragraph(block.text)
    if isinstance(block, Fields):
        return [
            {
                "type": "FactSet",
                "facts": [{"title": k, "value": markdown(v)} for k, v in block.pairs],
            }
        ]
    if isinstance(block, Table):
        return [_table(block)]
    if isinstance(block, Buttons):
        return [{"type": "ActionSet", "actions": [_button(b) for b in block.buttons]}]
    if isinstance(block, Context):
        return [_text_block(markdown(block.text), size="Small", isSubtle=True)]
    if isinstance(block, Image):
        return [{"type": "Image", "url": block.url, "altText": block.alt}]
    raise TypeError(f"unknown block {block!r}")


def render_card(
    reply: Reply,
    *,
    form: Form | None = None,
    values: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The Adaptive Card for a reply.

    `form` (or reply.form) is shown as inputs with a submit button; `values` pre-fills them
    (a form shown again after an error keeps what the person typed).
    """
    body: list[dict[str, Any]] = []
    shown_form = reply.form or form
    if reply.errors:
        general = reply.errors.get("", "")
        lines = [general] if general else []
        if shown_form is None:
            lines += [f"{k}: {v}" for k, v in reply.errors.items() if k]
        body.append(
            _text_block(
                "\n\n".join(lines) or "Please check the fields below.",
                color="Attention",
                weight="Bolder",
            )
        )
    for block in reply.blocks:
        body.extend(_block(block))
    actions: list[dict[str, Any]] = []
    if shown_form is not None:
        body.append(_text_block(shown_form.title, size="Medium", weight="Bolder"))
        body.extend(form_inputs(shown_form, values=values, errors=reply.errors))
        actions.append(form_submit(shown_form))
    if not body:
        body.append(_text_block(markdown(reply.fallback) or " "))
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "body": body,
        "fallbackText": inline(reply.fallback),
        "msteams": {"width": "Full"},
    }
    if actions:
        card["actions"] = actions
    return card


def card_attachment(card: dict[str, Any]) -> dict[str, Any]:
    """An attachment of a message activity carrying the card."""
    return {"contentType": CARD_CONTENT_TYPE, "content": card}


def plain_text(reply: Reply) -> str:
    """The notification / summary text of a reply (what a phone's banner shows)."""
    return inline(reply.fallback)[:1000]
