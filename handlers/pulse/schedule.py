"""Schedule arithmetic: when a team's rounds open (weekly, every other week, or the first
such weekday of the month) in the team's zone, DST-correct, and how a schedule reads."""

from __future__ import annotations

import datetime as dt

from domain.localtime import fmt_local, local_date, local_to_utc
from domain.shifts import DAY_NAMES, parse_time
from storage.models import PulseSchedule

CADENCES = ("weekly", "biweekly", "monthly", "off")
_REPEATING = ("weekly", "biweekly", "monthly")
_HORIZON_DAYS = 70  # further than any cadence's gap, so a slot is always found


def _slot_day(sched: PulseSchedule, day: dt.date) -> bool:
    if day.weekday() != sched.weekday:
        return False
    if sched.cadence == "weekly":
        return True
    if sched.cadence == "biweekly":
        # Every other Monday-based week, counted from the calendar's origin: stable forever.
        return ((day.toordinal() - 1) // 7) % 2 == 0
    if sched.cadence == "monthly":
        return day.day <= 7  # the first such weekday of the month
    return False


def latest_slot(sched: PulseSchedule, tz: str, now: dt.datetime) -> dt.datetime | None:
    """The most recent scheduled opening at or before `now` (UTC), DST-correct.

    ValueError when the stored time of day is unusable."""
    if sched.cadence not in _REPEATING:
        return None
    at = parse_time(sched.local_time)
    today = local_date(now, tz)
    for back in range(0, _HORIZON_DAYS):
        day = today - dt.timedelta(days=back)
        if _slot_day(sched, day):
            when = local_to_utc(day, at, tz)
            if when <= now:
                return when
    return None


def next_slot(sched: PulseSchedule, tz: str, after: dt.datetime) -> dt.datetime | None:
    """The next scheduled opening strictly after `after` (UTC)."""
    if sched.cadence not in _REPEATING:
        return None
    at = parse_time(sched.local_time)
    today = local_date(after, tz)
    for ahead in range(0, _HORIZON_DAYS):
        day = today + dt.timedelta(days=ahead)
        if _slot_day(sched, day):
            when = local_to_utc(day, at, tz)
            if when > after:
                return when
    return None


def month_start(now: dt.datetime, tz: str) -> dt.datetime:
    """The start of the local calendar month of `now`, in UTC."""
    return local_to_utc(local_date(now, tz).replace(day=1), dt.time(0, 0), tz)


def describe_schedule(sched: PulseSchedule, tz: str, now: dt.datetime) -> str:
    """One sentence: the cadence, day and time, and when the next round opens."""
    if sched.cadence == "off":
        return "No pulse schedule (off). Set one with `/pulse schedule weekly fri 15:00`."
    day = DAY_NAMES[sched.weekday].capitalize()
    when = {
        "weekly": f"every {day}",
        "biweekly": f"every other {day}",
        "monthly": f"the first {day} of each month",
    }[sched.cadence]
    nxt = next_slot(sched, tz, now)
    tail = f"; next round {fmt_local(nxt, tz)}" if nxt else ""
    return f"Pulse {sched.cadence}: {when} at {sched.local_time} ({tz}){tail}."
