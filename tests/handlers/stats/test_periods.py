"""The periods /stats reads: weeks, months, ranges, local days across DST."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.errors import UsageError
from domain.localtime import local_today
from domain.periods import make_period, parse_period
from tests.handlers.stats.world import TODAY


def test_week_is_seven_days_ending_yesterday() -> None:
    p = make_period("week", TODAY)
    assert (p.start, p.end) == (dt.date(2026, 11, 10), dt.date(2026, 11, 16))
    assert (p.prev_start, p.prev_end) == (dt.date(2026, 11, 3), dt.date(2026, 11, 9))


def test_month_across_month_ends() -> None:
    first = make_period("month", dt.date(2026, 3, 1))  # on the 1st: all of February
    assert (first.start, first.end) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert (first.prev_start, first.prev_end) == (dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    late = make_period("month", dt.date(2026, 3, 31))  # 1..30 March vs 1..28 February
    assert (late.start, late.end) == (dt.date(2026, 3, 1), dt.date(2026, 3, 30))
    assert late.prev_end == dt.date(2026, 2, 28)
    d30 = make_period("30d", dt.date(2026, 1, 5))
    assert d30.start == dt.date(2025, 12, 6)
    assert d30.days == 30


def test_ranges_and_errors() -> None:
    p = parse_period("2026-10-25..2026-10-31", TODAY)
    assert p.days == 7
    assert p.prev_end == dt.date(2026, 10, 24)
    assert p.prev_start == dt.date(2026, 10, 18)
    assert parse_period("2026-11-01", TODAY).days == 1
    with pytest.raises(UsageError):
        parse_period("fortnight", TODAY)
    with pytest.raises(UsageError):
        parse_period("2025-01-01..2026-11-01", TODAY)  # more than a year


def test_local_today_follows_the_zone_through_dst() -> None:
    # 23:30 UTC: in London it is still the same day in winter (GMT) ...
    assert local_today(
        dt.datetime(2026, 10, 25, 23, 30, tzinfo=dt.UTC), "Europe/London"
    ) == dt.date(2026, 10, 25)
    # ... and already the next day in summer time (BST), the day after the spring change.
    assert local_today(dt.datetime(2026, 3, 29, 23, 30, tzinfo=dt.UTC), "Europe/London") == dt.date(
        2026, 3, 30
    )
    assert local_today(
        dt.datetime(2026, 11, 16, 14, 0, tzinfo=dt.UTC), "Australia/Sydney"
    ) == dt.date(2026, 11, 17)
