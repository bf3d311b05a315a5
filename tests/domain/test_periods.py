"""Periods: every day a person can type gives a period or a clear refusal, never a crash."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import UsageError
from domain.periods import (
    EARLIEST,
    MAX_RANGE_DAYS,
    last_working_day,
    parse_period,
    work_days_of,
    work_days_or_default,
    working_day_period,
)

TODAY = dt.date(2026, 11, 17)


@pytest.mark.parametrize("word", ["0001-01-01", "0001-01-01..0001-01-02", "1999-12-31"])
def test_dates_before_the_earliest_are_refused_clearly(word: str) -> None:
    with pytest.raises(UsageError, match="too long ago"):
        parse_period(word, TODAY)


@given(
    st.dates(min_value=dt.date.min, max_value=dt.date.max),
    st.dates(min_value=dt.date.min, max_value=dt.date.max),
    st.dates(min_value=dt.date(2001, 1, 1), max_value=dt.date(9000, 1, 1)),
)
def test_any_range_is_a_period_or_a_usage_error(a: dt.date, b: dt.date, today: dt.date) -> None:
    try:
        p = parse_period(f"{a}..{b}", today)
    except UsageError:
        return
    assert EARLIEST <= p.start <= p.end <= today
    assert p.days <= MAX_RANGE_DAYS
    assert p.prev_end < p.start


def test_the_last_working_day_of_a_team() -> None:
    mon_fri = work_days_of("Mon-Fri")
    assert mon_fri == {0, 1, 2, 3, 4}
    monday = dt.date(2026, 11, 23)
    assert last_working_day(mon_fri, monday) == dt.date(2026, 11, 20)  # Friday
    assert last_working_day(mon_fri, monday + dt.timedelta(days=1)) == monday
    sun_thu = work_days_of("Sun-Thu")
    assert last_working_day(sun_thu, monday) == dt.date(2026, 11, 22)  # Sunday
    assert last_working_day(work_days_of("Mon,Wed,Fri"), dt.date(2026, 11, 24)) == monday
    assert last_working_day(frozenset(), monday) == dt.date(2026, 11, 22)  # never works
    day = working_day_period(mon_fri, monday)
    assert (day.start, day.end, day.label) == (dt.date(2026, 11, 20),) * 2 + ("Fri 20 Nov",)
    assert day.prev_start == dt.date(2026, 11, 19)  # compared with the working day before
    assert working_day_period(mon_fri, dt.date(2026, 11, 24)).label == "yesterday"
    assert work_days_or_default("whenever") == {0, 1, 2, 3, 4}
    with pytest.raises(ValueError, match="not a weekday"):
        work_days_of("whenever")
