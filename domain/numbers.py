"""Reading numbers people type (targets, durations, counts, percentages), bounded.

Every number a command reads goes through here before any arithmetic: a number with more
digits than any real figure (`999…9`, 400 nines), one that isn't finite (`inf`, `1e999`)
or one outside the range the caller allows is refused with a message that says which,
never an OverflowError, a ValueError from `int()`'s 4300-digit limit, or an `inf` that
breaks formatting later. Only ASCII digits count (`²` and `٣` are not numbers here).
"""

from __future__ import annotations

import math
import re

from domain.errors import UsageError

MAX_DIGITS = 9  # before the decimal point: a billion is beyond every contact-center figure
MAX_DECIMALS = 6
_DIGIT_RUN = re.compile(r"[0-9]+")
_INT_RE = re.compile(r"[+-]?[0-9]+")


def shown(text: str, limit: int = 24) -> str:
    """The text as a message may quote it: long runs of digits cut (`999…999, 400 digits`)."""
    text = text.strip()
    if len(text) <= limit:
        return text
    longest = max((m.group(0) for m in _DIGIT_RUN.finditer(text)), key=len, default="")
    if len(longest) > limit // 2:
        return f"{text[:6]}…{text[-4:]} ({len(longest)} digits)"
    return text[: limit - 1] + "…"


def check_digits(text: str, *, what: str, max_digits: int = MAX_DIGITS) -> None:
    """Refuse a number with more digits than `max_digits` before its decimal point, or
    more than MAX_DECIMALS after it (UsageError naming `what`)."""
    for m in _DIGIT_RUN.finditer(text):
        before_point = m.start() == 0 or text[m.start() - 1] != "."
        limit = max_digits if before_point else MAX_DECIMALS
        if len(m.group(0)) > limit:
            place = "digits" if before_point else "decimals"
            raise UsageError(f"{shown(text)} has too many {place} for {what} ({limit} at most).")


def in_range(value: float, *, what: str, lo: float, hi: float, unit: str = "") -> float:
    """`value` when finite and within [lo, hi]; UsageError saying the range otherwise."""
    if not math.isfinite(value) or not lo <= value <= hi:
        raise UsageError(f"{what.capitalize()} must be between {lo:g}{unit} and {hi:g}{unit}.")
    return value


def parse_int(text: str, *, what: str, lo: int, hi: int) -> int:
    """A whole number in [lo, hi] (ASCII digits, an optional sign); UsageError otherwise."""
    t = text.strip()
    check_digits(t, what=what)
    if not _INT_RE.fullmatch(t):
        raise UsageError(f"{shown(t)!r} isn't a whole number ({what}).")
    return int(in_range(int(t), what=what, lo=lo, hi=hi))


def finite(value: float, *, what: str) -> float:
    """`value` when it is a real, finite number (no inf, no NaN)."""
    if not math.isfinite(value):
        raise UsageError(f"{what.capitalize()} must be a real number.")
    return value
