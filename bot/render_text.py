"""Rendering a Reply as readable terminal text (the console adapter, `leadbot outbox list`).

Buttons are numbered so the console can press them (`!press 2`); the numbering can
continue across several replies printed together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from domain.fmt import sparkline
from domain.types import (
    Block,
    Button,
    Buttons,
    Chart,
    Context,
    Fields,
    Header,
    Reply,
    Table,
    Text,
    Visibility,
)

BOLD, DIM, RED, RESET = "\033[1m", "\033[2m", "\033[31m", "\033[0m"

_BOLD_RE = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")
_ITALIC_RE = re.compile(r"(?<![\w_])_(?!\s)([^_\n]+?)(?<!\s)_(?![\w_])")
_LINK_RE = re.compile(r"<(https?://[^|>\s]+)\|([^>]+)>")
_BARE_LINK_RE = re.compile(r"<(https?://[^|>\s]+)>")
_FENCE_RE = re.compile(r"```\n?(.*?)\n?```", re.DOTALL)


@dataclass
class Rendered:
    """The text of one or more replies and the buttons it numbered, in order."""

    text: str
    buttons: list[Button] = field(default_factory=list)


def inline(text: str, *, color: bool = False) -> str:
    """Slack-style markup (`*bold*`, `_italic_`, `<url|label>`) as terminal text."""
    text = _LINK_RE.sub(lambda m: f"{m.group(2)} ({m.group(1)})", text)
    text = _BARE_LINK_RE.sub(lambda m: m.group(1), text)
    if color:
        text = _BOLD_RE.sub(lambda m: f"{BOLD}{m.group(1)}{RESET}", text)
    else:
        text = _BOLD_RE.sub(lambda m: m.group(1), text)
    return _ITALIC_RE.sub(lambda m: m.group(1), text)


def _paragraph(text: str, *, color: bool) -> str:
    # Code fences become an indented block; their content is shown as written.
    parts: list[str] = []
    pos = 0
    for m in _FENCE_RE.finditer(text):
        if m.start() > pos:
            parts.append(inline(text[pos : m.start()].strip("\n"), color=color))
        parts.append("\n".join("    " + line for line in m.group(1).splitlines()))
        pos = m.end()
    if pos < len(text):
        parts.append(inline(text[pos:].strip("\n"), color=color))
    return "\n".join(p for p in parts if p)


def _visible_len(text: str) -> int:
    return len(re.sub(r"\033\[[0-9;]*m", "", text))


def _pad(text: str, width: int, align: str) -> str:
    gap = " " * max(width - _visible_len(text), 0)
    return gap + text if align == "r" else text + gap


def render_table(table: Table, *, color: bool = False) -> str:
    """Columns sized to their content; numbers right-aligned where `align` says so."""
    cols = len(table.columns)
    cells = [[inline(c, color=False) for c in row] for row in table.rows]
    for row in cells:
        row.extend([""] * (cols - len(row)))
    heads = [inline(c, color=False) for c in table.columns]
    widths = [
        max([_visible_len(heads[i])] + [_visible_len(r[i]) for r in cells]) for i in range(cols)
    ]
    align = [table.align[i] if i < len(table.align) else "l" for i in range(cols)]
    lines: list[str] = []
    if any(h.strip() for h in heads):
        head = "  ".join(_pad(heads[i], widths[i], align[i]) for i in range(cols)).rstrip()
        lines.append(f"{BOLD}{head}{RESET}" if color else head)
        lines.append("  ".join("─" * w for w in widths))
    for row in cells:
        lines.append("  ".join(_pad(row[i], widths[i], align[i]) for i in range(cols)).rstrip())
    return "\n".join(lines)


def render_fields(fields: Fields, *, color: bool = False) -> str:
    width = max((len(inline(k)) for k, _ in fields.pairs), default=0)
    out = []
    for key, value in fields.pairs:
        label = inline(key) + ":"
        shown = f"{BOLD}{label}{RESET}" if color else label
        out.append(shown + " " * (width + 3 - len(label)) + inline(value, color=color))
    return "\n".join(out)


def render_buttons(buttons: Buttons, first: int, *, color: bool = False) -> str:
    out = []
    for i, b in enumerate(buttons.buttons, start=first):
        label = b.label + ("…" if b.form is not None else "")
        item = f"[{i}] {label}"
        if color and b.style == "primary":
            item = f"{BOLD}{item}{RESET}"
        elif color and b.style == "danger":
            item = f"{RED}{item}{RESET}"
        out.append(item)
    return "   ".join(out)


def _header(block: Header, color: bool) -> str:
    title = inline(block.text)
    return (f"{BOLD}{title}{RESET}" if color else title) + "\n" + "═" * len(title)


def _context(block: Context, color: bool) -> str:
    text = _paragraph(block.text, color=False)
    return f"{DIM}{text}{RESET}" if color else text


def render_chart(chart: Chart, *, color: bool = False) -> str:
    """A chart as text: a sparkline per series with its first and last value, the goal,
    and the chart's table (nothing binary: the terminal reads it like a screen reader)."""
    lines = [f"{BOLD}{chart.title}{RESET}" if color else chart.title]
    first, last = (chart.labels[0], chart.labels[-1]) if chart.labels else ("", "")
    for s in chart.series:
        lines.append(f"{s.name}  {first} {sparkline(s.values)} {last}")
    if chart.goal_text:
        lines.append(f"goal {chart.goal_text}")
    if chart.table is not None:
        lines += ["", render_table(chart.table, color=color)]
    return "\n".join(lines)


def _block(block: Block, first_button: int, color: bool) -> str:
    """One block as text (buttons numbered from `first_button`)."""
    if isinstance(block, Header):
        return _header(block, color)
    if isinstance(block, Text):
        return _paragraph(block.text, color=color)
    if isinstance(block, Fields):
        return render_fields(block, color=color)
    if isinstance(block, Table):
        return render_table(block, color=color)
    if isinstance(block, Buttons):
        return render_buttons(block, first_button, color=color)
    if isinstance(block, Context):
        return _context(block, color)
    if isinstance(block, Chart):
        return render_chart(block, color=color)
    return f"[image: {block.alt}] {block.url}"


def _where(reply: Reply) -> str:
    where = []
    if reply.visibility is Visibility.channel:
        where.append("posted in the channel")
    if reply.replace_original:
        where.append("replaces the message it answers")
    return f"({'; '.join(where)})" if where else ""


def render(
    reply: Reply, *, first_button: int = 1, color: bool = False, notes: bool = True
) -> Rendered:
    """The reply as text; buttons are numbered from `first_button`.

    `notes` adds where the reply goes (the channel, in place of the original); the console
    leaves them out for messages it already labels with their recipient.
    """
    chunks: list[str] = []
    buttons: list[Button] = []
    for block in reply.blocks:
        chunks.append(_block(block, first_button + len(buttons), color))
        if isinstance(block, Buttons):
            buttons.extend(block.buttons)
    if not reply.blocks and reply.text:
        chunks.append(_paragraph(reply.text, color=color))
    if reply.errors:
        chunks.append("\n".join(f"! {name}: {msg}" for name, msg in reply.errors.items()))
    if reply.form is not None:
        chunks.append(f"(form: {reply.form.title})")
    if notes:
        chunks.append(_where(reply))
    return Rendered("\n\n".join(c for c in chunks if c), buttons)


def render_text(reply: Reply, *, color: bool = False) -> str:
    """Just the text, buttons numbered from 1."""
    return render(reply, color=color).text
