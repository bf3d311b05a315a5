"""Reply -> Block Kit, always inside Slack's limits so Slack never rejects a message.

Limits honoured (https://api.slack.com/reference/block-kit): 50 blocks in a message and
100 in a modal or App Home; section text 3000 characters; header 150 (plain text);
10 fields per section, 2000 characters each; button text 75, value 2000, action_id 255;
25 elements per actions block; context text 3000; image URL 3000, alt text 2000;
modal title/submit/close 24; input label 2000, placeholder 150, private_metadata 3000.

Tables become monospace code blocks, split over several sections and cut with a note
when they are too long. Button values that are too long, or buttons that open a form,
are packed (zlib + base64) into the value; `decode_value` unpacks them on a click.
"""

from __future__ import annotations

import base64
import json
import logging
import zlib
from typing import Any

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

log = logging.getLogger(__name__)

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
SECTION_TEXT = 3000
HEADER_TEXT = 150
FIELDS_PER_SECTION = 10
FIELD_TEXT = 2000
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
ACTION_ID = 255
ACTIONS_PER_BLOCK = 25
CONTEXT_TEXT = 3000
IMAGE_URL = 3000
ALT_TEXT = 2000
FALLBACK_TEXT = 3000
MODAL_TITLE = 24
INPUT_LABEL = 2000
PLACEHOLDER = 150
INPUT_MAX = 3000
PRIVATE_METADATA = 3000

TABLE_CELL = 40  # widest cell shown; longer cells end in an ellipsis
TABLE_SECTIONS = 6  # a table never takes more sections than this in one message

# Prefixes of packed button values. A plain value that happens to start with "~" is packed
# too, so decoding is never ambiguous.
_PACKED_VALUE = "~z"
_PACKED_FORM = "~f"
_ID_SEP = "~"


# --- text helpers ----------------------------------------------------------------------


def escape(text: str) -> str:
    """Slack's three control characters; everything else (*bold*, _italic_) passes."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters with an ellipsis, never splitting an &entity;."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    amp = cut.rfind("&", max(len(cut) - 5, 0))
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


def _plain(text: str, limit: int) -> dict[str, Any]:
    # Slack refuses empty (or blank) text objects.
    return {"type": "plain_text", "text": clip(text, limit) if text.strip() else "-", "emoji": True}


def _mrkdwn(text: str, limit: int) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": clip(text, limit) if text.strip() else "-"}


def _chunks(text: str, limit: int) -> list[str]:
    """Split text into pieces of at most `limit` characters, at line breaks when possible."""
    out: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
            amp = rest.rfind("&", max(cut - 5, 0), cut)
            if amp > 0 and ";" not in rest[amp:cut]:
                cut = amp
        out.append(rest[:cut])
        rest = rest[cut:].lstrip("\n")
    if rest or not out:
        out.append(rest)
    return out


_FENCE = "```"


def _text_sections(text: str) -> list[str]:
    """Section texts for a paragraph; a ``` code block cut between two sections is
    closed at the end of one and reopened at the start of the next."""
    pieces = _chunks(text, SECTION_TEXT - 2 * (len(_FENCE) + 1))
    out: list[str] = []
    open_fence = False
    for piece in pieces:
        if open_fence:
            piece = _FENCE + "\n" + piece
        open_fence = piece.count(_FENCE) % 2 == 1
        if open_fence:
            piece = piece + "\n" + _FENCE
        out.append(piece)
    return out


# --- button values and action ids -------------------------------------------------------


def _pack(obj: Any) -> str:
    raw = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


MAX_UNPACKED = 16 * 1024  # a packed form is a few hundred bytes; never inflate more


def _unpack(data: str) -> Any:
    """A packed value back; ValueError when it inflates past MAX_UNPACKED (a zlib bomb)."""
    padded = data + "=" * (-len(data) % 4)
    inflater = zlib.decompressobj()
    raw = inflater.decompress(base64.urlsafe_b64decode(padded), MAX_UNPACKED)
    if inflater.unconsumed_tail or not inflater.eof:
        raise ValueError("packed value too large or truncated")
    return json.loads(raw.decode())


def form_to_data(form: Form) -> dict[str, Any]:
    return {
        "t": form.title,
        "a": form.action_id,
        "v": form.value,
        "s": form.submit_label,
        "f": [
            [f.name, f.label, f.multiline, f.optional, f.max_length, f.placeholder, f.initial]
            for f in form.fields
        ],
    }


def form_from_data(d: dict[str, Any]) -> Form:
    fields = tuple(
        FormField(
            name=str(f[0]),
            label=str(f[1]),
            multiline=bool(f[2]),
            optional=bool(f[3]),
            max_length=int(f[4]),
            placeholder=str(f[5]),
            initial=str(f[6]),
        )
        for f in d["f"]
    )
    return Form(str(d["t"]), str(d["a"]), str(d["v"]), fields, str(d.get("s", "Submit")))


def encode_value(button: Button) -> str | None:
    """The Slack `value` for a button (None when it cannot fit in 2000 characters)."""
    if button.form is not None:
        encoded = _PACKED_FORM + _pack({"v": button.value, "form": form_to_data(button.form)})
    elif button.value.startswith(_ID_SEP) or len(button.value) > BUTTON_VALUE:
        encoded = _PACKED_VALUE + _pack(button.value)
    else:
        encoded = button.value
    return encoded if len(encoded) <= BUTTON_VALUE else None


def decode_value(raw: str) -> tuple[str, Form | None]:
    """(the handler's value, the form to open) from a clicked button's `value`.

    Raises ValueError for a packed value that does not decode (forged or corrupted).
    """
    if len(raw) > BUTTON_VALUE:  # Slack never sends more: a forged value
        raise ValueError("button value too long")
    try:
        if raw.startswith(_PACKED_FORM):
            data = _unpack(raw[len(_PACKED_FORM) :])
            return str(data["v"]), form_from_data(data["form"])
        if raw.startswith(_PACKED_VALUE):
            return str(_unpack(raw[len(_PACKED_VALUE) :])), None
    except (ValueError, KeyError, TypeError, IndexError, zlib.error, RecursionError) as exc:
        raise ValueError("undecodable button value") from exc
    return raw, None


def make_action_id(action_id: str, index: int) -> str:
    """A per-message unique action id: the handler's id and the button's position."""
    suffix = f"{_ID_SEP}{index}"
    return action_id[: ACTION_ID - len(suffix)] + suffix


def split_action_id(action_id: str) -> str:
    """The handler's action id from a rendered one (the position suffix removed)."""
    base, sep, index = action_id.rpartition(_ID_SEP)
    if sep and index.isdigit():
        return base
    return action_id


# --- blocks ------------------------------------------------------------------------------


def _table_lines(table: Table) -> tuple[list[str], list[str]]:
    """(header lines, row lines) of a monospace table."""
    ncols = max([len(table.columns)] + [len(r) for r in table.rows])
    cols = list(table.columns) + [""] * (ncols - len(table.columns))
    rows = [
        [clip(str(c).replace("\n", " "), TABLE_CELL) for c in r] + [""] * (ncols - len(r))
        for r in table.rows
    ]
    heads = [clip(c, TABLE_CELL) for c in cols]
    show_head = any(h.strip() for h in heads)
    widths = [
        max([len(heads[i]) if show_head else 0] + [len(r[i]) for r in rows]) for i in range(ncols)
    ]
    align = list(table.align) + ["l"] * (ncols - len(table.align))

    def line(cells: list[str]) -> str:
        parts = [
            c.rjust(widths[i]) if align[i] == "r" else c.ljust(widths[i])
            for i, c in enumerate(cells)
        ]
        return "  ".join(parts).rstrip()

    head_lines: list[str] = []
    if show_head:
        head_lines = [line(heads), "  ".join("-" * w for w in widths).rstrip()]
    return head_lines, [line(r) for r in rows]


def _table_blocks(table: Table, max_sections: int) -> list[dict[str, Any]]:
    head, lines = _table_lines(table)
    if not lines:
        text = "\n".join(head) + ("\n" if head else "") + "(no rows)"
        return [_section("```\n" + escape(text) + "\n```")]
    budget = SECTION_TEXT - len("```\n\n```")
    sections: list[list[str]] = []
    current: list[str] = []
    size = 0
    shown = 0
    for ln in [escape(h) for h in head] + [escape(x) for x in lines]:
        ln = clip(ln, budget)
        if current and size + len(ln) + 1 > budget:
            if len(sections) + 1 >= max_sections:
                break
            sections.append(current)
            current, size = [], 0
        current.append(ln)
        size += len(ln) + 1
        shown += 1
    if current:
        sections.append(current)
    rows_shown = max(shown - len(head), 0)
    blocks = [_section("```\n" + "\n".join(s) + "\n```") for s in sections]
    if rows_shown < len(lines):
        blocks.append(
            {
                "type": "context",
                "elements": [
                    _mrkdwn(
                        f"Showing the first {rows_shown} of {len(lines)} rows; "
                        "narrow the question to see the rest.",
                        CONTEXT_TEXT,
                    )
                ],
            }
        )
    return blocks


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(text, SECTION_TEXT)}


def _buttons_blocks(buttons: Buttons, start: int) -> tuple[list[dict[str, Any]], int]:
    elements: list[dict[str, Any]] = []
    index = start
    for b in buttons.buttons:
        value = encode_value(b)
        if value is None:
            log.error("button value too long for Slack; button left out action=%s", b.action_id)
            continue
        el: dict[str, Any] = {
            "type": "button",
            "text": _plain(b.label, BUTTON_TEXT),
            "action_id": make_action_id(b.action_id, index),
            "value": value,
        }
        if b.style:
            el["style"] = b.style
        elements.append(el)
        index += 1
    blocks = [
        {"type": "actions", "elements": elements[i : i + ACTIONS_PER_BLOCK]}
        for i in range(0, len(elements), ACTIONS_PER_BLOCK)
    ]
    return blocks, index


def _block(
    block: Block, button_index: int, table_sections: int
) -> tuple[list[dict[str, Any]], int]:
    if isinstance(block, Header | Text | Context) and not block.text.strip():
        return [], button_index  # an empty paragraph would be refused
    if isinstance(block, Header):
        return [{"type": "header", "text": _plain(block.text, HEADER_TEXT)}], button_index
    if isinstance(block, Text):
        return [_section(c) for c in _text_sections(escape(block.text))], button_index
    if isinstance(block, Fields):
        fields = [
            _mrkdwn(f"*{escape(k)}*\n{escape(v)}" if k else escape(v), FIELD_TEXT)
            for k, v in block.pairs
        ]
        return [
            {"type": "section", "fields": fields[i : i + FIELDS_PER_SECTION]}
            for i in range(0, len(fields), FIELDS_PER_SECTION)
        ], button_index
    if isinstance(block, Table):
        return _table_blocks(block, table_sections), button_index
    if isinstance(block, Buttons):
        return _buttons_blocks(block, button_index)
    if isinstance(block, Context):
        return [
            {"type": "context", "elements": [_mrkdwn(escape(block.text), CONTEXT_TEXT)]}
        ], button_index
    if isinstance(block, Chart):
        # The image itself is uploaded (bot/slack/upload.py); the message carries the
        # chart's figures as a table, for screen readers and clients without images.
        if block.table is None:
            return [], button_index
        return _table_blocks(block.table, table_sections), button_index
    if isinstance(block, Image):
        if len(block.url) > IMAGE_URL:
            return [], button_index
        return [
            {
                "type": "image",
                "image_url": block.url,
                "alt_text": clip(block.alt.strip() or "image", ALT_TEXT),
            }
        ], button_index
    raise TypeError(f"unknown block {block!r}")


def render_blocks(reply: Reply, *, limit: int = MAX_MESSAGE_BLOCKS) -> list[dict[str, Any]]:
    """Block Kit blocks for a Reply, at most `limit` of them (50 for a message,
    100 for a modal or App Home); whatever does not fit is replaced by a note."""
    out: list[dict[str, Any]] = []
    button_index = 0
    table_sections = TABLE_SECTIONS if limit <= MAX_MESSAGE_BLOCKS else TABLE_SECTIONS * 2
    for block in reply.blocks:
        rendered, button_index = _block(block, button_index, table_sections)
        out.extend(rendered)
    if not out and reply.text:
        out = [_section(c) for c in _chunks(escape(reply.text), SECTION_TEXT)]
    if len(out) > limit:
        dropped = len(out) - (limit - 1)
        out = out[: limit - 1]
        out.append(
            {
                "type": "context",
                "elements": [
                    _mrkdwn(
                        f"This reply was too long for Slack; {dropped} more part(s) not shown.",
                        CONTEXT_TEXT,
                    )
                ],
            }
        )
    return out


def fallback_text(reply: Reply) -> str:
    """The notification / screen-reader text; never empty."""
    text = reply.fallback
    if not text:
        for block in reply.blocks:
            if isinstance(block, Fields) and block.pairs:
                text = "; ".join(f"{k}: {v}" for k, v in block.pairs)
            elif isinstance(block, Table) and block.rows:
                text = "\n".join(" ".join(r) for r in block.rows[:10])
            elif isinstance(block, Context):
                text = block.text
            if text:
                break
    return clip(escape(text or "leadbot"), FALLBACK_TEXT)


def render_message(reply: Reply) -> dict[str, Any]:
    """`text` + `blocks` for chat.postMessage or a response_url."""
    return {"text": fallback_text(reply), "blocks": render_blocks(reply)}


def render_home(reply: Reply) -> dict[str, Any]:
    """An App Home view (views.publish)."""
    return {"type": "home", "blocks": render_blocks(reply, limit=MAX_VIEW_BLOCKS)}


def _input(field: FormField) -> dict[str, Any]:
    max_len = max(1, min(field.max_length, INPUT_MAX))
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": field.name[:ACTION_ID],
        "multiline": field.multiline,
        "max_length": max_len,
    }
    if field.placeholder:
        element["placeholder"] = _plain(field.placeholder, PLACEHOLDER)
    if field.initial:
        element["initial_value"] = field.initial[:max_len]
    return {
        "type": "input",
        "block_id": field.name[:ACTION_ID],
        "optional": field.optional,
        "label": _plain(field.label, INPUT_LABEL),
        "element": element,
    }


def render_modal(
    form: Form, *, private_metadata: str = "", callback_id: str = "leadbot.form"
) -> dict[str, Any]:
    """A modal view for a Form (views.open, or a view_submission's `update`)."""
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": callback_id,
        "title": _plain(form.title, MODAL_TITLE),
        "submit": _plain(form.submit_label or "Submit", MODAL_TITLE),
        "close": _plain("Cancel", MODAL_TITLE),
        "blocks": [_input(f) for f in form.fields][:MAX_VIEW_BLOCKS],
    }
    if private_metadata:
        if len(private_metadata) > PRIVATE_METADATA:
            raise ValueError("private_metadata over Slack's 3000 characters")
        view["private_metadata"] = private_metadata
    return view


def form_values(state_values: dict[str, Any]) -> dict[str, str]:
    """A view_submission's `view.state.values` as {field name: text} ('' when empty)."""
    out: dict[str, str] = {}
    for block_id, actions in state_values.items():
        if not isinstance(actions, dict):
            continue
        for _action_id, element in actions.items():
            if isinstance(element, dict):
                value = element.get("value")
                out[str(block_id)] = "" if value is None else str(value)
    return out
