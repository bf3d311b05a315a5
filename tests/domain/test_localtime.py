"""The one local-time helper set: a typed zone is checked, a stored one never fails."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.localtime import (
    fmt_local,
    local_date,
    local_midnight,
    local_now,
    local_to_utc,
    stored_zone,
    zone,
    zone_name,
)
from domain.shifts import is_working, next_working_moment

NOON = dt.datetime(2026, 11, 17, 12, 0, tzinfo=dt.UTC)


def test_a_typed_zone_is_checked_with_a_message_to_act_on() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Europe/Pariss'"):
        zone("Europe/Pariss")
    assert zone(" Europe/Paris ").key == "Europe/Paris"


@pytest.mark.parametrize("bad", ["Mars/Base", "", None, "../../etc/passwd"])
def test_a_stored_zone_that_is_unknown_reads_as_utc_everywhere(bad: str | None) -> None:
    assert stored_zone(bad).key == "UTC"
    assert zone_name(bad) == "UTC"
    assert local_now(NOON, bad) == NOON
    assert local_date(NOON, bad) == dt.date(2026, 11, 17)
    assert local_to_utc(dt.date(2026, 11, 17), dt.time(9), bad) == NOON.replace(hour=9)
    assert local_midnight(NOON, bad) == NOON.replace(hour=0)
    assert fmt_local(NOON, bad) == "Tue 17 Nov 12:00"
    # Shifts use the same rule: an unknown stored zone is UTC, never an error.
    assert is_working("Mon-Fri 09:00-17:00", bad or "", NOON)
    assert next_working_moment("Mon-Fri 13:00-17:00", bad or "", NOON) == NOON.replace(hour=13)


def test_known_zones_keep_their_offsets_and_dst() -> None:
    assert local_now(NOON, "Asia/Kolkata").strftime("%H:%M") == "17:30"
    assert local_date(dt.datetime(2026, 11, 17, 23, 30, tzinfo=dt.UTC), "Asia/Tokyo") == (
        dt.date(2026, 11, 18)
    )
    assert local_midnight(NOON, "America/New_York") == dt.datetime(
        2026, 11, 17, 5, 0, tzinfo=dt.UTC
    )
    assert fmt_local(NOON, "Europe/Berlin", "%d %b %H:%M") == "17 Nov 13:00"
