"""Formatting KPI figures for chat: values with units, changes with arrows, sparklines.

Shared by /stats, /goal, the daily goal update and anything else that shows a metric:
- seconds read as `42s` or `m:ss` (287 -> `4:47`), hours as `h:mm:ss`;
- percentages with one decimal (`91.2%`), their changes in points (`+1.2 pts`);
- NPS as signed whole points (`+32`);
- counts with thousands separators.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

SPARK = "▁▂▃▄▅▆▇█"
MINUS = "\u2212"
DASH = "\u2013"  # shown where there is no value  # a real minus sign lines up with "+" in tables
OPS_TEXT = {">=": "≥", "<=": "≤", ">": ">", "<": "<"}


def _duration(seconds: float) -> str:
    s = round(abs(seconds))
    if s < 60:
        return f"{s}s"
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    if h:
        return f"{h}:{m:02d}:{sec:02d}"
    return f"{m}:{sec:02d}"


def _number(value: float, decimals: int) -> str:
    text = f"{abs(value):,.{decimals}f}"
    return text


def fmt_value(unit: str, value: float | None) -> str:
    """A metric's value with its unit; a dash when there is no value (or none that is a
    real number: an infinite value never reaches a reply as an OverflowError)."""
    if value is None or not math.isfinite(value):
        return DASH
    if unit == "s":
        return ("-" if value < 0 else "") + _duration(value)
    if unit == "%":
        return f"{value:.1f}%"
    if unit == "pts":
        r = round(value)
        return f"+{r}" if r > 0 else (f"{MINUS}{-r}" if r < 0 else "0")
    if unit == "count":
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}"


def fmt_change(unit: str, delta: float | None) -> str:
    """A signed change in the metric's unit (`+1.2 pts`, `-0:08`, `+3`), no arrow."""
    if delta is None or not math.isfinite(delta):
        return DASH
    sign = "+" if delta > 0 else (MINUS if delta < 0 else "±")
    if unit == "s":
        return sign + _duration(delta)
    if unit == "%":
        return f"{sign}{abs(delta):.1f} pts"
    if unit == "pts":
        return f"{sign}{abs(round(delta))}"
    if unit == "count":
        return sign + _number(delta, 0)
    return sign + _number(delta, 1)


def is_flat(unit: str, delta: float) -> bool:
    """True when a change is too small to show at the unit's precision."""
    if unit == "s":
        return abs(delta) < 0.5
    if unit in ("pts", "count"):
        return abs(delta) < 0.5
    return abs(delta) < 0.05


def fmt_delta(unit: str, delta: float | None, *, higher_is_better: bool | None = None) -> str:
    """A change with an arrow for its direction: `▲ +1.2 pts`, `▼ -0:08`, `= 0`.

    With `higher_is_better` given, a change for the worse is flagged with `!` so it
    stands out in plain text too (an AHT that went up, a CSAT that went down).
    """
    if delta is None or not math.isfinite(delta):
        return DASH
    if is_flat(unit, delta):
        return "= 0"
    arrow = "▲" if delta > 0 else "▼"
    text = f"{arrow} {fmt_change(unit, delta)}"
    if higher_is_better is not None and (delta > 0) != higher_is_better:
        text += " !"
    return text


def delta_is_better(delta: float, higher_is_better: bool) -> bool:
    return delta > 0 if higher_is_better else delta < 0


def sparkline(values: Sequence[float | None]) -> str:
    """`▁▂▄█` scaled between the smallest and largest value; a gap (`·`) for no value."""
    present = [v for v in values if v is not None and math.isfinite(v)]
    if not present:
        return "·" * len(values)
    lo, hi = min(present), max(present)
    out = []
    for v in values:
        if v is None or not math.isfinite(v):
            out.append("·")
        elif hi == lo:
            out.append(SPARK[3])
        else:
            i = int((v - lo) / (hi - lo) * (len(SPARK) - 1) + 0.5)
            out.append(SPARK[max(0, min(len(SPARK) - 1, i))])
    return "".join(out)


def fmt_goal(unit: str, op: str, target: float) -> str:
    """`≤ 5:00`, `≥ 90.0%`, `≥ +30`."""
    return f"{OPS_TEXT.get(op, op)} {fmt_value(unit, target)}"


def display_round(unit: str, value: float) -> float:
    """A value rounded the way fmt_value shows it."""
    if unit in ("s", "pts", "count"):
        return float(round(value))
    return round(value, 1)


def goal_met(
    op: str, target: float, value: float | None, *, unit: str | None = None
) -> bool | None:
    """Whether `value` meets the goal; None without a value.

    With the metric's `unit`, the value is judged as it is shown (`90.0%` meets `>= 90%`
    even when it is 89.96 underneath), so a row never reads "90.0% ✗ ≥ 90.0%".
    """
    if value is None:
        return None
    v = display_round(unit, value) if unit else round(value, 6)
    t = round(target, 6)
    if op == ">=":
        return v >= t
    if op == "<=":
        return v <= t
    if op == ">":
        return v > t
    if op == "<":
        return v < t
    raise ValueError(op)


def mark(hit: bool | None) -> str:
    """`✓` on target, `✗` missed, blank without a value or goal."""
    if hit is None:
        return ""
    return "✓" if hit else "✗"
