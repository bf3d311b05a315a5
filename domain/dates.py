"""Natural dates as people type them in chat: `tomorrow`, `friday`, `in 3 days`, `2026-12-01`.

`parse_date` is shared by every command that takes a day (action items' due dates, moving
a 1:1, ...). It works on local calendar days: the caller passes `today` in the zone of the
person typing (e.g. `local_now(ctx.now(), actor.timezone).date()`).

Forms understood (case-insensitive; a leading `on` or `by` is ignored):

- `today`, `tomorrow` (`tmrw`), `yesterday` (past: refused by default)
- a weekday (`fri`, `Friday`, `this friday`): the next such day after today
- `next friday`: that weekday in next week (weeks start on Monday)
- `next week` (next Monday), `next month` (the 1st of next month)
- `in 3 days`, `in a week`, `in 2 weeks`, `in 1 month`
- `end of week` / `eow` (this week's Friday), `end of month` / `eom`
- `2026-12-01`, `1 dec`, `dec 1`, `1 December 2026`, `Dec 1, 2026` (without a year: the
  next such day from today)

A day before `today` is refused unless `allow_past=True`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable, Sequence

from domain.errors import UsageError
from domain.shifts import parse_weekday
from domain.types import Mention, Token, UnresolvedMention

MAX_YEARS_AHEAD = 5
EXAMPLES = "today, tomorrow, friday, next week, in 3 days or 2026-12-01"

_MONTHS = {
    name.lower(): i
    for i in range(1, 13)
    for name in (calendar.month_name[i], calendar.month_abbr[i])
}
_MONTHS["sept"] = 9
_NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}
_ISO_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_ORDINAL_RE = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?$")


class DateError(UsageError, ValueError):
    """A date that could not be read, or one in the past: the message says which."""


def _words(text: str | Sequence[Token]) -> list[str]:
    if isinstance(text, str):
        raw = text.split()
    else:
        raw = []
        for tok in text:
            if isinstance(tok, Mention | UnresolvedMention):
                raise DateError(f"{tok} is a person, not a date. Try {EXAMPLES}.")
            raw.extend(tok.split())
    words = [w.strip(",.;!").lower() for w in raw]
    return [w for w in words if w]


def _add_months(day: dt.date, months: int) -> dt.date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day.day, last))


def _count(word: str) -> int | None:
    if word.isascii() and word.isdigit() and len(word) <= 4:
        return int(word)
    return _NUMBER_WORDS.get(word)


def _weekday(word: str) -> int | None:
    try:
        return parse_weekday(word)
    except ValueError:
        return None


def _month(word: str) -> int | None:
    return _MONTHS.get(word)


def _calendar_day(words: list[str], today: dt.date) -> dt.date | None:
    """`1 dec [2026]` or `dec 1 [2026]`; None when it isn't that shape."""
    if len(words) not in (2, 3):
        return None
    a, b = words[0], words[1]
    month, day_word = (_month(b), a) if _month(b) else (_month(a), b)
    m = _ORDINAL_RE.match(day_word)
    if month is None or m is None:
        return None
    day = int(m.group(1))
    year: int | None = None
    if len(words) == 3:
        if not (words[2].isascii() and words[2].isdigit() and len(words[2]) == 4):
            return None
        year = int(words[2])
    try:
        if year is not None:
            return dt.date(year, month, day)
        candidate = dt.date(today.year, month, day)
        if candidate < today:
            candidate = dt.date(today.year + 1, month, day)
        return candidate
    except ValueError:
        raise DateError(f"{' '.join(words)!r} is not a day of the calendar.") from None


def _end_of_week(today: dt.date) -> dt.date:
    return today + dt.timedelta(days=(4 - today.weekday()) % 7)


def _end_of_month(today: dt.date) -> dt.date:
    return today.replace(day=calendar.monthrange(today.year, today.month)[1])


def _next_monday(today: dt.date) -> dt.date:
    return today + dt.timedelta(days=7 - today.weekday())


# Fixed phrases and the day each names, seen from today.
_PHRASES: dict[str, Callable[[dt.date], dt.date]] = {
    **dict.fromkeys(("today", "tod", "tonight"), lambda t: t),
    "yesterday": lambda t: t - dt.timedelta(days=1),
    **dict.fromkeys(("tomorrow", "tmrw", "tmr", "tomorow"), lambda t: t + dt.timedelta(days=1)),
    **dict.fromkeys(("end of week", "eow", "end of the week"), _end_of_week),
    **dict.fromkeys(("end of month", "eom", "end of the month"), _end_of_month),
    "next week": _next_monday,
    "next month": lambda t: _add_months(t.replace(day=1), 1),
}


def _iso(words: list[str], _today: dt.date) -> dt.date | None:
    """`2026-12-01`."""
    text = " ".join(words)
    m = _ISO_RE.match(text)
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise DateError(f"{text!r} is not a day of the calendar.") from None


def _weekday_form(words: list[str], today: dt.date) -> dt.date | None:
    """`friday` (the next one after today) or `next friday` (in next week)."""
    if len(words) == 1 and (wd := _weekday(words[0])) is not None:
        return today + dt.timedelta(days=(wd - today.weekday() - 1) % 7 + 1)
    if len(words) == 2 and words[0] == "next" and (wd := _weekday(words[1])) is not None:
        return _next_monday(today) + dt.timedelta(days=wd)
    return None


def _in_form(words: list[str], today: dt.date) -> dt.date | None:
    """`in 3 days`, `in a week`, `in 2 months`."""
    if len(words) != 3 or words[0] != "in":
        return None
    n = _count(words[1])
    unit = words[2].rstrip("s")
    if n is None:
        return None
    if unit == "day":
        return today + dt.timedelta(days=n)
    if unit == "week":
        return today + dt.timedelta(weeks=n)
    if unit == "month":
        return _add_months(today, n)
    return None


_FORMS = (_iso, _weekday_form, _in_form, _calendar_day)


def _parse(words: list[str], today: dt.date) -> dt.date | None:
    if words and words[0] in ("on", "by", "due", "this") and len(words) > 1:
        words = words[1:]
    phrase = _PHRASES.get(" ".join(words))
    if phrase is not None:
        return phrase(today)
    for form in _FORMS:
        day = form(words, today)
        if day is not None:
            return day
    return None


def parse_date(text: str | Sequence[Token], *, today: dt.date, allow_past: bool = False) -> dt.date:
    """The local day `text` names, seen from `today`; DateError (a UsageError and a
    ValueError) with a message a user can act on when it can't be read or is past."""
    words = _words(text)
    if not words:
        raise DateError(f"Missing a date. Try {EXAMPLES}.")
    shown = " ".join(words)
    try:
        day = _parse(words, today)
    except DateError:
        raise
    except (OverflowError, ValueError):  # e.g. `in 9999 weeks` runs off the calendar
        raise DateError(f"{shown!r} is too far ahead; give a date within a few years.") from None
    if day is None:
        raise DateError(f"I couldn't read {shown!r} as a date. Try {EXAMPLES}.")
    if day < today and not allow_past:
        raise DateError(
            f"{format_day(day, today=today)} is in the past; give a date from today on."
        )
    if day.year > today.year + MAX_YEARS_AHEAD:
        raise DateError(f"{day.isoformat()} is too far ahead; give a date within a few years.")
    return day


def format_day(day: dt.date, *, today: dt.date | None = None) -> str:
    """`Wed 18 Nov`, with the year when it isn't `today`'s year."""
    if today is not None and day.year == today.year:
        return f"{day:%a} {day.day} {day:%b}"
    return f"{day:%a} {day.day} {day:%b %Y}"
