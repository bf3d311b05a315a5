"""A neutral Chart (domain/types.py) drawn as a PNG, on the server, for Slack.

matplotlib with its Agg backend: a well-kept, widely packaged renderer that draws to
memory with no display, no browser and no network. It is imported on the first chart
only (about 0.3 s and 30 MB; `leadbot demo`, the CLI and a server nobody asks for a
chart never load it), and a render runs in a worker thread, one at a time, so the event
loop keeps answering. Figures are built with `matplotlib.figure.Figure`, never pyplot's
global state.

The palette passes WCAG AA against the white background (docs/leads/stats.md): the line
#1d4e89 (8.4:1), the goal line #9a3412 (7.3:1), text #333333 (12.6:1), each above 6:1
on the goal band too. The band (#e7f3ea) is a pale tint and never the only carrier: the
goal is a labelled dashed line, the legend names it, and every value is in the reply's
table and alt text.
"""

from __future__ import annotations

import asyncio
import io
import threading
from typing import Any

from domain.fmt import fmt_value
from domain.types import Chart

LINE = "#1d4e89"
GOAL = "#9a3412"
TEXT = "#333333"
GRID = "#d9d9d9"
BAND = "#e7f3ea"  # the side of the goal line that meets it
WIDTH_IN, HEIGHT_IN, DPI = 8.0, 4.0, 120  # 960 x 480 px: sharp in Slack, small to send
MAX_TICKS = 8
TICK_CHARS = 110  # characters of 9-point tick labels that fit across the axis
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

_lock = threading.Lock()  # one render at a time: matplotlib's caches are not thread-safe
_mpl: dict[str, Any] = {}


def _matplotlib() -> tuple[Any, Any]:
    """(Figure, FigureCanvasAgg), imported on first use (see the module docstring)."""
    if not _mpl:
        import matplotlib

        matplotlib.use("Agg", force=True)
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        _mpl["figure"], _mpl["canvas"] = Figure, FigureCanvasAgg
    return _mpl["figure"], _mpl["canvas"]


def loaded() -> bool:
    """Whether matplotlib has been imported yet (the first chart imports it)."""
    return bool(_mpl)


def _ticks(labels: tuple[str, ...]) -> list[int]:
    """Which labels the x axis shows: evenly spaced, as many as fit side by side."""
    n = len(labels)
    longest = max((len(label) for label in labels), default=1)
    most = max(2, min(MAX_TICKS, TICK_CHARS // (longest + 3)))
    if n <= most:
        return list(range(n))
    step = -(-n // most)
    ticks = list(range(0, n, step))
    if n - 1 - ticks[-1] >= step:
        ticks.append(n - 1)
    return ticks


def _style(ax: Any) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(TEXT)
    ax.tick_params(colors=TEXT, labelsize=9)
    ax.grid(axis="y", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)


def _goal(ax: Any, chart: Chart) -> None:
    if chart.goal is None:
        return
    label = f"goal {chart.goal_text}" if chart.goal_text else "goal"
    ax.axhline(chart.goal, color=GOAL, linewidth=1.6, linestyle=(0, (6, 3)), label=label)
    if chart.goal_above is not None:
        lo, hi = ax.get_ylim()
        if chart.goal_above:
            ax.axhspan(chart.goal, max(hi, chart.goal), color=BAND, zorder=0)
        else:
            ax.axhspan(min(lo, chart.goal), chart.goal, color=BAND, zorder=0)
        ax.set_ylim(lo, hi)


def _draw(chart: Chart) -> bytes:
    figure_cls, canvas_cls = _matplotlib()
    fig = figure_cls(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, facecolor="white")
    canvas_cls(fig)
    ax = fig.add_subplot(1, 1, 1)
    _style(ax)
    xs = list(range(len(chart.labels)))
    for s in chart.series:
        ys = [float("nan") if v is None else v for v in s.values]
        if chart.shape == "bar":
            ax.bar(xs, [0.0 if v is None else v for v in s.values], color=LINE, label=s.name)
        else:
            ax.plot(xs, ys, color=LINE, linewidth=2.0, marker="o", markersize=3.5, label=s.name)
    values = [v for s in chart.series for v in s.values if v is not None]
    if chart.goal is not None:
        values.append(chart.goal)
    if values:
        lo, hi = min(values), max(values)
        pad = (hi - lo) * 0.12 or abs(hi) * 0.05 or 1.0
        ax.set_ylim(lo - pad if chart.shape == "line" else min(0.0, lo), hi + pad)
    _goal(ax, chart)
    ticks = _ticks(chart.labels)
    ax.set_xticks(ticks, [chart.labels[i] for i in ticks], rotation=0)
    ax.yaxis.set_major_formatter(lambda v, _pos: fmt_value(chart.unit, v))
    ax.set_title(chart.title, color=TEXT, fontsize=11, loc="left")
    ax.legend(loc="upper left", bbox_to_anchor=(0, -0.1), ncol=2, frameon=False, fontsize=9)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.9, bottom=0.2)
    out = io.BytesIO()
    fig.savefig(out, format="png", facecolor="white", metadata={"Software": None})
    return out.getvalue()


def render_png(chart: Chart) -> bytes:
    """The chart as PNG bytes (blocking: call `render_png_async` from the event loop)."""
    with _lock:
        return _draw(chart)


async def render_png_async(chart: Chart) -> bytes:
    """The chart as PNG bytes, drawn in a worker thread."""
    return await asyncio.to_thread(render_png, chart)


def empty_png() -> bytes:
    """An empty figure saved as PNG: the floor the benchmark measures renders against."""
    figure_cls, canvas_cls = _matplotlib()
    with _lock:
        fig = figure_cls(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, facecolor="white")
        canvas_cls(fig)
        out = io.BytesIO()
        fig.savefig(out, format="png")
        return out.getvalue()
