"""Local time in a zone: the one helper set every layer uses (IANA zones, DST correct).

Two kinds of zone name reach this code:
- a name someone is typing or importing (a command, a roster file, a setting): `zone()`
  checks it and raises ValueError with a message the user can act on;
- a name that is already stored (a person's, a team's): every other helper here takes
  it and, should it be unknown (checked on the way in, so only after a tzdata update
  removed it), reads it as UTC. A message is never lost or refused over a stored zone.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC_NAME = "UTC"


def zone(name: str) -> ZoneInfo:
    """The IANA zone, or ValueError with a message a user can act on."""
    return _zone(name.strip())


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name such as Europe/Berlin)"
        ) from None


def stored_zone(name: str | ZoneInfo | None) -> ZoneInfo:
    """A stored zone name as a zone; an unknown or empty one reads as UTC (module doc)."""
    if isinstance(name, ZoneInfo):
        return name
    try:
        return zone(name or UTC_NAME)
    except ValueError:
        return zone(UTC_NAME)


def zone_name(name: str | None) -> str:
    """The canonical name of a stored zone (UTC when unknown)."""
    return stored_zone(name).key


def local_now(now: dt.datetime, tz: str | ZoneInfo | None) -> dt.datetime:
    """`now` seen in the zone `tz`."""
    return now.astimezone(stored_zone(tz))


def local_date(when: dt.datetime, tz: str | ZoneInfo | None) -> dt.date:
    """The calendar day `when` falls on in zone `tz`."""
    return local_now(when, tz).date()


def local_today(now: dt.datetime, tz: str | ZoneInfo | None) -> dt.date:
    """The calendar day it is in zone `tz` at the moment `now`."""
    return local_date(now, tz)


def local_to_utc(day: dt.date, at: dt.time, tz: str | ZoneInfo | None) -> dt.datetime:
    """A wall-clock time on a local day, in UTC. A time that DST skips moves forward."""
    z = stored_zone(tz)
    naive = dt.datetime.combine(day, at)
    # fold=0 (PEP 495): a repeated time (fall back) is its first occurrence, and a skipped
    # time (spring forward) takes the offset from before the change, which lands it past
    # the gap (02:30 -> 03:30). fold=1 would move it back before the gap instead.
    aware = naive.replace(tzinfo=z, fold=0)
    return aware.astimezone(dt.UTC)


def local_midnight(now: dt.datetime, tz: str | ZoneInfo | None) -> dt.datetime:
    """Midnight (UTC) of the local day `now` falls on in `tz`."""
    z = stored_zone(tz)
    return local_to_utc(now.astimezone(z).date(), dt.time(0, 0), z)


def fmt_local(when: dt.datetime, tz: str | ZoneInfo | None, fmt: str = "%a %d %b %H:%M") -> str:
    """`when` in zone `tz`, formatted with `fmt` (strftime), default `Fri 27 Nov 15:00`."""
    return local_now(when, tz).strftime(fmt)
