"""Periods for stats and goals, in local days of a time zone.

Every period is a closed range of local calendar days (`start` .. `end`, both included).
"Today" is the day in the zone of whoever the figures are about (the team's zone for a
team, the person's zone for a person), so a lead in Sydney and one in Dublin each get
their own yesterday.

| word | days | compared with |
|---|---|---|
| `today` | today so far | yesterday |
| `yesterday` | yesterday | the day before |
| `week` | the 7 days ending yesterday | the 7 days before those |
| `30d` | the 30 days ending yesterday | the 30 days before those |
| `month` | this month up to yesterday (on the 1st: last month) | same days, month before |
| `YYYY-MM-DD` | that day | the day before |
| `YYYY-MM-DD..YYYY-MM-DD` | those days | as many days just before |

Today is never complete (values arrive during the day), so every period except `today`
ends yesterday.

The *last working day* (`last_working_day`) is the one definition of "yesterday" for a
day's results, shared by `/stats` and the daily goal update: the latest day before
today that is one of the team's working days (Friday, seen on a Monday by a Mon-Fri
team; Sunday by a Sun-Thu one), whatever figures a day off happens to have.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Collection
from dataclasses import dataclass

from domain.errors import UsageError
from domain.localtime import zone
from domain.shifts import parse_work_hours

PERIOD_WORDS = ("today", "yesterday", "week", "month", "30d")
MAX_RANGE_DAYS = 366
# No contact center has figures from before this; earlier dates would also run the
# "period before" off the calendar.
EARLIEST = dt.date(2000, 1, 1)
_DATE = r"\d{4}-\d{2}-\d{2}"
_RANGE_RE = re.compile(rf"^({_DATE})(?:\.\.({_DATE}))?$")
_ALIASES = {"7d": "week", "last7": "week", "mtd": "month"}
WEEKDAYS_MON_FRI = frozenset({0, 1, 2, 3, 4})


@dataclass(frozen=True)
class Period:
    """A closed range of local days with a label and the period it is compared with."""

    key: str  # "week", "month", "range", ...
    start: dt.date
    end: dt.date
    label: str  # "last 7 days", "yesterday", ...
    prev_start: dt.date
    prev_end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def range_text(self) -> str:
        """`Mon 16 Nov` or `10-16 Nov` / `28 Oct-3 Nov` / `30 Dec 2025-5 Jan 2026`."""
        return day_range_text(self.start, self.end)

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


def local_today(now: dt.datetime, tz: str) -> dt.date:
    """The calendar day it is in zone `tz` at the moment `now`."""
    try:
        z = zone(tz)
    except ValueError:
        z = zone("UTC")
    return now.astimezone(z).date()


def _add_months(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.year * 12 + (day.month - 1) + months, 12)
    last = calendar.monthrange(y, m + 1)[1]
    return dt.date(y, m + 1, min(day.day, last))


def make_period(key: str, today: dt.date) -> Period:
    """One of PERIOD_WORDS for a local `today`."""
    one = dt.timedelta(days=1)
    y = today - one
    if key == "today":
        return Period("today", today, today, "today", y, y)
    if key == "yesterday":
        return Period("yesterday", y, y, "yesterday", y - one, y - one)
    if key in ("week", "30d"):
        n = 7 if key == "week" else 30
        start = today - dt.timedelta(days=n)
        label = "last 7 days" if n == 7 else "last 30 days"
        return Period(key, start, y, label, start - dt.timedelta(days=n), start - one)
    if key == "month":
        # Month to date up to yesterday; on the 1st the whole of the month just ended.
        start = y.replace(day=1)
        prev_start = _add_months(start, -1)
        prev_end = _add_months(y, -1)
        if y.day == calendar.monthrange(y.year, y.month)[1]:
            prev_end = start - one  # a whole month is compared with the whole month before
        label = start.strftime("%B %Y") + (" to date" if y != _month_end(y) else "")
        return Period("month", start, y, label, prev_start, prev_end)
    raise UsageError(f"Unknown period {key!r}. {periods_help()}")


def _month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def make_range(start: dt.date, end: dt.date, today: dt.date) -> Period:
    """An explicit range of days; refused when reversed, in the future or too long."""
    if end < start:
        raise UsageError(f"The range {start}..{end} ends before it starts.")
    if start > today:
        raise UsageError(f"{start} is in the future; there are no figures yet.")
    if start < EARLIEST:
        raise UsageError(f"{start} is too long ago: figures start on {EARLIEST}.")
    end = min(end, today)
    n = (end - start).days + 1
    if n > MAX_RANGE_DAYS:
        raise UsageError(f"A range can be {MAX_RANGE_DAYS} days at most (that one is {n}).")
    prev_end = start - dt.timedelta(days=1)
    prev_start = prev_end - dt.timedelta(days=n - 1)
    label = day_range_text(start, end)
    return Period("range", start, end, label, prev_start, prev_end)


def work_days_of(days: str | None) -> frozenset[int]:
    """A team's working weekdays (Monday = 0) from `Mon-Fri`, `Mon,Wed,Fri`, `Sun-Thu`
    (empty: Mon-Fri); ValueError when it can't be read."""
    text = "".join((days or "Mon-Fri").split())
    return frozenset(s.weekday for s in parse_work_hours(f"{text} 00:00-23:59"))


def work_days_or_default(days: str | None) -> frozenset[int]:
    """work_days_of, with Mon-Fri for a pattern that can't be read (it was checked when
    it was set; a day's results are never lost over it)."""
    try:
        return work_days_of(days)
    except ValueError:
        return WEEKDAYS_MON_FRI


def shift_days_of(work_hours: str) -> frozenset[int]:
    """The weekdays a person's shift pattern starts a shift on; ValueError when unreadable."""
    return frozenset(s.weekday for s in parse_work_hours(work_hours))


def last_working_day(work_days: Collection[int], today: dt.date) -> dt.date:
    """The latest day before `today` that is a working day (yesterday when there is none
    in the week before: a team that never works still has a yesterday)."""
    d = today - dt.timedelta(days=1)
    for _ in range(7):
        if d.weekday() in work_days:
            return d
        d -= dt.timedelta(days=1)
    return today - dt.timedelta(days=1)


def working_day_period(work_days: Collection[int], today: dt.date) -> Period:
    """The last working day as a one-day period, compared with the working day before it
    (Friday with Thursday; Monday with the Friday before)."""
    last = last_working_day(work_days, today)
    before = last_working_day(work_days, last)
    label = "yesterday" if last == today - dt.timedelta(days=1) else day_text(last)
    return Period("day", last, last, label, before, before)


def is_period_word(word: str) -> bool:
    """True when `word` reads as a period (a keyword or a date/date range)."""
    w = word.strip().lower()
    return w in PERIOD_WORDS or w in _ALIASES or bool(_RANGE_RE.match(w))


def parse_period(word: str, today: dt.date) -> Period:
    """A period word or `YYYY-MM-DD[..YYYY-MM-DD]`; UsageError lists the valid ones."""
    w = _ALIASES.get(word.strip().lower(), word.strip().lower())
    if w in PERIOD_WORDS:
        return make_period(w, today)
    m = _RANGE_RE.match(w)
    if not m:
        raise UsageError(f"Unknown period {word!r}. {periods_help()}")
    try:
        start = dt.date.fromisoformat(m.group(1))
        end = dt.date.fromisoformat(m.group(2)) if m.group(2) else start
    except ValueError:
        raise UsageError(f"{word!r} is not a real date (use YYYY-MM-DD).") from None
    return make_range(start, end, today)


def periods_help() -> str:
    return "Periods: " + ", ".join(PERIOD_WORDS) + ", YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD."


def day_text(day: dt.date) -> str:
    """`Mon 16 Nov`."""
    return f"{day.strftime('%a')} {day.day} {day.strftime('%b')}"


def day_range_text(start: dt.date, end: dt.date) -> str:
    """A compact range: `Mon 16 Nov`, `10-16 Nov`, `28 Oct-3 Nov`, `30 Dec 2025-5 Jan 2026`."""
    if start == end:
        return day_text(start)
    if start.year != end.year:
        return f"{start.day} {start:%b %Y}\u2013{end.day} {end:%b %Y}"
    if start.month != end.month:
        return f"{start.day} {start:%b}\u2013{end.day} {end:%b}"
    return f"{start.day}\u2013{end.day} {end:%b}"
