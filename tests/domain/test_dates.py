"""Natural due dates: every form, seen from a fixed day, and the refusals."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.dates import DateError, format_day, parse_date
from domain.errors import UsageError
from domain.types import Mention

TUE = dt.date(2026, 11, 17)  # a Tuesday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today", TUE),
        ("tomorrow", dt.date(2026, 11, 18)),
        ("Tomorrow", dt.date(2026, 11, 18)),
        ("tmrw", dt.date(2026, 11, 18)),
        ("fri", dt.date(2026, 11, 20)),
        ("Friday", dt.date(2026, 11, 20)),
        ("this friday", dt.date(2026, 11, 20)),
        ("by friday", dt.date(2026, 11, 20)),
        ("tuesday", dt.date(2026, 11, 24)),  # a weekday is always after today
        ("monday", dt.date(2026, 11, 23)),
        ("next friday", dt.date(2026, 11, 27)),  # Friday of next week
        ("next week", dt.date(2026, 11, 23)),  # next Monday
        ("next month", dt.date(2026, 12, 1)),
        ("in 3 days", dt.date(2026, 11, 20)),
        ("in a week", dt.date(2026, 11, 24)),
        ("in 2 weeks", dt.date(2026, 12, 1)),
        ("in one month", dt.date(2026, 12, 17)),
        ("eow", dt.date(2026, 11, 20)),
        ("end of month", dt.date(2026, 11, 30)),
        ("2026-12-01", dt.date(2026, 12, 1)),
        ("on 2026-12-01", dt.date(2026, 12, 1)),
        ("1 dec", dt.date(2026, 12, 1)),
        ("Dec 1", dt.date(2026, 12, 1)),
        ("1st December 2027", dt.date(2027, 12, 1)),
        ("Dec 1, 2026", dt.date(2026, 12, 1)),
        ("3 jan", dt.date(2027, 1, 3)),  # without a year: the next such day
    ],
)
def test_forms(text: str, expected: dt.date) -> None:
    assert parse_date(text, today=TUE) == expected


def test_tokens_are_accepted_like_text() -> None:
    assert parse_date(("in", "3", "days"), today=TUE) == dt.date(2026, 11, 20)


def test_month_end_clamps() -> None:
    assert parse_date("in 1 month", today=dt.date(2027, 1, 31)) == dt.date(2027, 2, 28)


@pytest.mark.parametrize("text", ["yesterday", "2026-11-16", "2020-01-01"])
def test_past_is_refused(text: str) -> None:
    with pytest.raises(DateError, match="in the past"):
        parse_date(text, today=TUE)


def test_past_allowed_when_asked() -> None:
    assert parse_date("2026-11-16", today=TUE, allow_past=True) == dt.date(2026, 11, 16)


@pytest.mark.parametrize(
    "text", ["soon", "", "next", "in days", "32 dec", "2026-02-30", "13/12", "in x weeks"]
)
def test_unreadable(text: str) -> None:
    with pytest.raises(DateError) as info:
        parse_date(text, today=TUE)
    assert "date" in info.value.message or "calendar" in info.value.message


@pytest.mark.parametrize("text", ["in 9999 weeks", "in 9999 months", "2099-01-01"])
def test_too_far_ahead(text: str) -> None:
    with pytest.raises(DateError, match="too far ahead"):
        parse_date(text, today=TUE)


def test_error_is_both_usage_and_value_error() -> None:
    with pytest.raises(UsageError):
        parse_date("soon", today=TUE)
    with pytest.raises(ValueError, match="couldn't read"):
        parse_date("soon", today=TUE)


def test_a_mention_is_not_a_date() -> None:
    with pytest.raises(DateError, match="is a person"):
        parse_date((Mention(1, "Maria Lopez"),), today=TUE)


def test_format_day() -> None:
    assert format_day(dt.date(2026, 11, 18), today=TUE) == "Wed 18 Nov"
    assert format_day(dt.date(2027, 1, 3), today=TUE) == "Sun 3 Jan 2027"
