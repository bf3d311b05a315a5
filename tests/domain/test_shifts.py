"""Shift patterns, working moments and DST-safe local times."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.localtime import local_now, local_to_utc, zone
from domain.shifts import (
    DEFAULT_WORK_HOURS,
    first_shift_start,
    is_working,
    is_working_day,
    next_working_day,
    next_working_moment,
    parse_time,
    parse_weekday,
    parse_work_hours,
    previous_working_day,
)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


def test_parse_simple_and_split_patterns() -> None:
    shifts = parse_work_hours("Mon-Thu 07:00-17:30; Sat 10:00-14:00")
    assert [(s.weekday, s.start, s.end) for s in shifts] == [
        (0, dt.time(7), dt.time(17, 30)),
        (1, dt.time(7), dt.time(17, 30)),
        (2, dt.time(7), dt.time(17, 30)),
        (3, dt.time(7), dt.time(17, 30)),
        (5, dt.time(10), dt.time(14)),
    ]
    assert [s.weekday for s in parse_work_hours("Fri-Mon 10:00-18:00")] == [0, 4, 5, 6]
    assert [s.weekday for s in parse_work_hours("mon,Wednesday 08:00-12:00")] == [0, 2]
    assert parse_work_hours("") == parse_work_hours(DEFAULT_WORK_HOURS)
    assert len(parse_work_hours(DEFAULT_WORK_HOURS)) == 5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Mon-Fri", "is not a shift"),
        ("Mon-Fri 09:00 17:00", "is not a shift"),
        ("Mon-Fri 9-17", "'9' is not a time of day"),
        ("Mon-Fri 09:00-24:00", "'24:00' is not a time of day"),
        ("Mon-Fri 09:00-09:00", "cannot start and end at the same time"),
        ("Xyz-Fri 09:00-17:00", "'Xyz' is not a weekday"),
        ("Mo 09:00-17:00", "'Mo' is not a weekday"),
        (" ; ", "no working days given"),
    ],
)
def test_parse_errors_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_work_hours(text)


def test_times_weekdays_and_zones() -> None:
    assert parse_time("9:05") == dt.time(9, 5)
    assert parse_weekday("Tues") == 1
    assert parse_weekday("sunday") == 6
    with pytest.raises(ValueError, match="HH:MM"):
        parse_time("9am")
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Base'"):
        zone("Mars/Base")
    assert zone(" Asia/Kolkata ").key == "Asia/Kolkata"
    assert local_now(utc(2026, 11, 17, 10), "Asia/Kolkata").hour == 15


def test_overnight_shift_runs_past_midnight() -> None:
    hours = "Sun-Thu 22:00-06:00"
    assert parse_work_hours(hours)[0].overnight
    assert is_working(hours, "UTC", utc(2026, 11, 16, 2))  # Monday 02:00, from Sunday's shift
    assert is_working(hours, "UTC", utc(2026, 11, 20, 5, 59))  # Friday morning, Thursday's
    assert not is_working(hours, "UTC", utc(2026, 11, 20, 6))
    assert not is_working(hours, "UTC", utc(2026, 11, 21, 2))  # Saturday: no Friday shift
    assert not is_working(hours, "UTC", utc(2026, 11, 20, 22, 30))  # Friday night off
    assert next_working_moment(hours, "UTC", utc(2026, 11, 20, 7)) == utc(2026, 11, 22, 22)


def test_new_york_spring_forward_and_fall_back() -> None:
    ny = "America/New_York"
    assert local_to_utc(dt.date(2026, 3, 7), dt.time(9), ny) == utc(2026, 3, 7, 14)  # EST
    assert local_to_utc(dt.date(2026, 3, 8), dt.time(9), ny) == utc(2026, 3, 8, 13)  # EDT
    # 02:30 does not exist on the night of the change: it moves past the gap.
    assert local_to_utc(dt.date(2026, 3, 8), dt.time(2, 30), ny) == utc(2026, 3, 8, 7, 30)
    assert local_to_utc(dt.date(2026, 10, 31), dt.time(9), ny) == utc(2026, 10, 31, 13)
    assert local_to_utc(dt.date(2026, 11, 2), dt.time(9), ny) == utc(2026, 11, 2, 14)
    hours = "Mon-Fri 09:00-17:00"
    # Over the weekend the clocks change: Monday 09:00 is 13:00 UTC, not 14:00.
    assert next_working_moment(hours, ny, utc(2026, 3, 6, 23)) == utc(2026, 3, 9, 13)
    assert is_working(hours, ny, utc(2026, 3, 9, 13))
    assert not is_working(hours, ny, utc(2026, 3, 9, 12, 59))


def test_berlin_march_and_october() -> None:
    be = "Europe/Berlin"
    assert local_to_utc(dt.date(2026, 3, 28), dt.time(9), be) == utc(2026, 3, 28, 8)
    assert local_to_utc(dt.date(2026, 3, 29), dt.time(9), be) == utc(2026, 3, 29, 7)
    assert local_to_utc(dt.date(2026, 3, 29), dt.time(2, 30), be) == utc(2026, 3, 29, 1, 30)
    assert local_to_utc(dt.date(2026, 10, 24), dt.time(9), be) == utc(2026, 10, 24, 7)
    assert local_to_utc(dt.date(2026, 10, 25), dt.time(9), be) == utc(2026, 10, 25, 8)
    # 02:30 happens twice on 25 October: the first (summer time) one is used.
    assert local_to_utc(dt.date(2026, 10, 25), dt.time(2, 30), be) == utc(2026, 10, 25, 0, 30)
    # A night shift across the spring change is an hour shorter.
    night = "Sat 22:00-06:00"
    assert is_working(night, be, utc(2026, 3, 28, 21))
    assert is_working(night, be, utc(2026, 3, 29, 3, 59))
    assert not is_working(night, be, utc(2026, 3, 29, 4))
    assert first_shift_start(night, be, dt.date(2026, 3, 28)) == utc(2026, 3, 28, 21)


def test_kolkata_half_hour_offset() -> None:
    hours = "Mon-Sat 09:00-18:00"
    assert local_to_utc(dt.date(2026, 11, 17), dt.time(9), "Asia/Kolkata") == utc(
        2026, 11, 17, 3, 30
    )
    assert not is_working(hours, "Asia/Kolkata", utc(2026, 11, 17, 3, 29))
    assert is_working(hours, "Asia/Kolkata", utc(2026, 11, 17, 3, 30))
    assert is_working(hours, "Asia/Kolkata", utc(2026, 11, 21, 12))  # Saturday
    # Sunday: the next moment is Monday 09:00 IST.
    assert next_working_moment(hours, "Asia/Kolkata", utc(2026, 11, 22, 6)) == utc(
        2026, 11, 23, 3, 30
    )


def test_next_working_moment_over_a_weekend() -> None:
    hours = DEFAULT_WORK_HOURS
    friday_evening = utc(2026, 11, 20, 17, 30)
    assert next_working_moment(hours, "Europe/London", friday_evening) == utc(2026, 11, 23, 9)
    at_work = utc(2026, 11, 20, 16, 59)
    assert next_working_moment(hours, "Europe/London", at_work) == at_work
    early = utc(2026, 11, 17, 6)
    assert next_working_moment(hours, "Europe/London", early) == utc(2026, 11, 17, 9)


def test_working_days() -> None:
    hours = "Tue-Sat 10:00-18:00"
    assert not is_working_day(hours, dt.date(2026, 11, 16))  # Monday
    assert is_working_day(hours, dt.date(2026, 11, 21))  # Saturday
    assert next_working_day(hours, dt.date(2026, 11, 21)) == dt.date(2026, 11, 24)
    assert previous_working_day(hours, dt.date(2026, 11, 24)) == dt.date(2026, 11, 21)
    assert first_shift_start(hours, "UTC", dt.date(2026, 11, 16)) is None
    assert first_shift_start(hours, "UTC", dt.date(2026, 11, 17)) == utc(2026, 11, 17, 10)
