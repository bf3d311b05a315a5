"""Periods: every day a person can type gives a period or a clear refusal, never a crash."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import UsageError
from domain.periods import EARLIEST, MAX_RANGE_DAYS, parse_period

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
