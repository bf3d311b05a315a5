"""Shift patterns and working moments, in the person's own zone (domain.localtime).

A pattern is `Mon-Fri 09:00-17:00` or `Mon-Thu 07:00-17:30; Sat 10:00-14:00`, in the
person's own time zone. A shift whose end is before its start runs past midnight.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

from domain.localtime import local_to_utc, stored_zone

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_WORK_HOURS = "Mon-Fri 09:00-17:00"
_TIME_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class Shift:
    weekday: int  # Monday = 0
    start: dt.time
    end: dt.time

    @property
    def overnight(self) -> bool:
        return self.end <= self.start


def parse_time(text: str) -> dt.time:
    """`HH:MM` (24 h) into a time, or ValueError."""
    m = _TIME_RE.match(text.strip())
    if not m:
        raise ValueError(f"{text!r} is not a time of day (use HH:MM, e.g. 09:30)")
    return dt.time(int(m.group(1)), int(m.group(2)))


def parse_weekday(text: str) -> int:
    """A weekday name (`mon`, `Tues`, `Monday`) into 0-6, or ValueError."""
    t = text.strip().lower()
    if len(t) >= 3:
        for i, name in enumerate(DAY_NAMES):
            if name.startswith(t):
                return i
    raise ValueError(f"{text!r} is not a weekday (use mon, tue, ... sun)")


def _parse_days(text: str) -> list[int]:
    days: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if "-" in part:
            a, b = (parse_weekday(x) for x in part.split("-", 1))
            d = a
            while True:
                days.append(d)
                if d == b:
                    break
                d = (d + 1) % 7
        else:
            days.append(parse_weekday(part))
    return days


@lru_cache(maxsize=1024)
def parse_work_hours(text: str) -> tuple[Shift, ...]:
    """Parse a shift pattern; ValueError names what is wrong."""
    text = (text or "").strip() or DEFAULT_WORK_HOURS
    shifts: list[Shift] = []
    for chunk in text.split(";"):
        chunk = chunk.strip()
        if not chunk:
            continue
        parts = chunk.split()
        if len(parts) != 2 or "-" not in parts[1]:
            raise ValueError(
                f"{chunk!r} is not a shift (use e.g. 'Mon-Fri 09:00-17:00; Sat 10:00-14:00')"
            )
        start_s, end_s = parts[1].split("-", 1)
        start, end = parse_time(start_s), parse_time(end_s)
        if start == end:
            raise ValueError(f"{chunk!r}: a shift cannot start and end at the same time")
        for day in _parse_days(parts[0]):
            shifts.append(Shift(day, start, end))
    if not shifts:
        raise ValueError("no working days given")
    return tuple(sorted(shifts, key=lambda s: (s.weekday, s.start)))


def _shift_windows(
    shifts: tuple[Shift, ...], tz: ZoneInfo, day: dt.date
) -> list[tuple[dt.datetime, dt.datetime]]:
    out = []
    for s in shifts:
        if s.weekday != day.weekday():
            continue
        start = local_to_utc(day, s.start, tz)
        end_day = day + dt.timedelta(days=1) if s.overnight else day
        end = local_to_utc(end_day, s.end, tz)
        out.append((start, end))
    return out


def is_working(work_hours: str, tz: str, at: dt.datetime) -> bool:
    """True when `at` falls inside one of the person's shifts."""
    shifts = parse_work_hours(work_hours)
    z = stored_zone(tz)
    local_day = at.astimezone(z).date()
    for day in (local_day - dt.timedelta(days=1), local_day):
        for start, end in _shift_windows(shifts, z, day):
            if start <= at < end:
                return True
    return False


def next_working_moment(work_hours: str, tz: str, at: dt.datetime) -> dt.datetime:
    """`at` itself when the person is working, else the start of their next shift (UTC)."""
    if is_working(work_hours, tz, at):
        return at
    shifts = parse_work_hours(work_hours)
    z = stored_zone(tz)
    local_day = at.astimezone(z).date()
    for offset in range(0, 15):
        for start, _end in _shift_windows(shifts, z, local_day + dt.timedelta(days=offset)):
            if start > at:
                return start
    return at  # unreachable with at least one shift a week


def is_working_day(work_hours: str, day: dt.date) -> bool:
    """True when a shift starts on that local day."""
    return any(s.weekday == day.weekday() for s in parse_work_hours(work_hours))


def next_working_day(work_hours: str, day: dt.date) -> dt.date:
    """The first working day strictly after `day`."""
    d = day + dt.timedelta(days=1)
    for _ in range(14):
        if is_working_day(work_hours, d):
            return d
        d += dt.timedelta(days=1)
    return d


def previous_working_day(work_hours: str, day: dt.date) -> dt.date:
    """The last working day strictly before `day`."""
    d = day - dt.timedelta(days=1)
    for _ in range(14):
        if is_working_day(work_hours, d):
            return d
        d -= dt.timedelta(days=1)
    return d


def first_shift_start(work_hours: str, tz: str, day: dt.date) -> dt.datetime | None:
    """When the person's first shift on a local day starts (UTC), or None on a day off."""
    windows = _shift_windows(parse_work_hours(work_hours), stored_zone(tz), day)
    return min((s for s, _ in windows), default=None)
