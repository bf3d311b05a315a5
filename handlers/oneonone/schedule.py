"""The schedule's arithmetic, pure: regular slots in the schedule's zone, lapses, durations.

A schedule is a weekday and a wall-clock time in the zone it was set up in (the lead's),
every N weeks from its first slot (the anchor). Slots keep that wall-clock time across
DST changes, so their UTC times shift with the zone.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from domain.errors import UsageError
from domain.localtime import fmt_local, local_date, local_to_utc, stored_zone, zone_name
from domain.shifts import DAY_NAMES, parse_time
from storage.models import OneOnOne

_DURATION_RE = re.compile(r"^(?:(\d{1,2})h)?(?:(\d{1,3})m?)?$")


def anchor_day(o: OneOnOne) -> dt.date:
    """The local day of the series' first slot: the first matching weekday and time after
    the moment it was scheduled."""
    z = stored_zone(o.timezone)
    at = parse_time(o.local_time)
    day = local_date(o.created_at, z)
    for _ in range(8):
        if day.weekday() == o.weekday and local_to_utc(day, at, z) > o.created_at:
            return day
        day += dt.timedelta(days=1)
    return day


def first_slot(created_at: dt.datetime, weekday: int, local_time: str, tz: str) -> dt.datetime:
    """The first slot of a new schedule (UTC)."""
    o = OneOnOne(
        lead_id=0,
        agent_id=0,
        weekday=weekday,
        local_time=local_time,
        timezone=tz,
        created_at=created_at,
    )
    return local_to_utc(anchor_day(o), parse_time(local_time), tz)


def slot_at(o: OneOnOne, k: int) -> dt.datetime:
    """The k-th regular slot (UTC): same wall-clock time in the schedule's zone, DST or not."""
    day = anchor_day(o) + dt.timedelta(weeks=o.cadence_weeks * k)
    return local_to_utc(day, parse_time(o.local_time), o.timezone)


def next_slot(o: OneOnOne, after: dt.datetime, taken: Iterable[dt.datetime] = ()) -> dt.datetime:
    """The first regular slot strictly after `after` that nothing happened to yet."""
    skip = set(taken)
    step = 7 * o.cadence_weeks
    start = anchor_day(o)
    k = max(0, (local_date(after, o.timezone) - start).days // step - 1)
    for _ in range(200):
        t = slot_at(o, k)
        if t > after and t not in skip:
            return t
        k += 1
    raise AssertionError("no slot found")  # pragma: no cover


def is_regular(o: OneOnOne, t: dt.datetime) -> bool:
    """True when `t` is one of the series' regular slots (not a moved time)."""
    days = (local_date(t, o.timezone) - anchor_day(o)).days
    if days < 0 or days % (7 * o.cadence_weeks):
        return False
    return slot_at(o, days // (7 * o.cadence_weeks)) == t


def due_since(o: OneOnOne, last_dealt: dt.datetime | None) -> dt.datetime:
    """When the next 1:1 was due: a cadence after the last held/skipped one, else the
    schedule's first slot."""
    first = slot_at(o, 0)
    if last_dealt is None or last_dealt < first:
        return first
    return last_dealt + dt.timedelta(weeks=o.cadence_weeks)


def lapse_state(o: OneOnOne, last_dealt: dt.datetime | None, now: dt.datetime) -> str:
    """ok / late (more than one cadence overdue) / lapsed (more than two)."""
    due = due_since(o, last_dealt)
    cadence = dt.timedelta(weeks=o.cadence_weeks)
    if now - due > 2 * cadence:
        return "lapsed"
    if now - due > cadence:
        return "late"
    return "ok"


def slot_text(t: dt.datetime, tz: str) -> str:
    """`Tue 24 Nov 10:00 (Europe/London)`: a time in a stored zone, with the zone's name."""
    return f"{fmt_local(t, tz)} ({zone_name(tz)})"


def cadence_text(o: OneOnOne) -> str:
    """`every 2 weeks, Tue 10:00 (Europe/London)`."""
    every = "every week" if o.cadence_weeks == 1 else f"every {o.cadence_weeks} weeks"
    return f"{every}, {DAY_NAMES[o.weekday].capitalize()} {o.local_time} ({o.timezone})"


def parse_duration(text: str) -> int:
    """`30m`, `45`, `1h`, `1h30m` into minutes (5 to 240)."""
    m = _DURATION_RE.match(text.strip().lower())
    if not m or not (m.group(1) or m.group(2)):
        raise UsageError(f"{text!r} is not a duration (use e.g. 30m, 45m or 1h).")
    minutes = int(m.group(1) or 0) * 60 + int(m.group(2) or 0)
    if not 5 <= minutes <= 240:
        raise UsageError("A 1:1 lasts between 5 minutes and 4 hours.")
    return minutes
