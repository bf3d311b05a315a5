"""domain/numbers.py: every number a command reads is bounded before any arithmetic."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import UsageError
from domain.numbers import check_digits, finite, in_range, parse_int, shown


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9" * 400, "too many digits"),
        ("1" + "0" * 9, "too many digits"),
        ("1.1234567", "too many decimals"),
        ("²", "isn't a whole number"),
        ("٣", "isn't a whole number"),
        ("1e3", "isn't a whole number"),
        ("13", "between 1 and 12"),
        ("-1", "between 1 and 12"),
    ],
)
def test_parse_int_refuses_clearly(text: str, expected: str) -> None:
    with pytest.raises(UsageError, match=expected):
        parse_int(text, what="the cadence", lo=1, hi=12)


def test_plain_numbers_and_ranges() -> None:
    assert parse_int(" 12 ", what="weeks", lo=1, hi=12) == 12
    assert parse_int("+3", what="weeks", lo=1, hi=12) == 3
    assert in_range(-2.5, what="a target", lo=-100, hi=100) == -2.5
    with pytest.raises(UsageError, match="between -100 and 100"):
        in_range(100.5, what="a target", lo=-100, hi=100)
    with pytest.raises(UsageError, match="between"):
        in_range(float("nan"), what="a target", lo=0, hi=1)
    with pytest.raises(UsageError, match="real number"):
        finite(float("inf"), what="a target")


def test_messages_never_quote_a_huge_number_whole() -> None:
    assert shown("9" * 400) == "999999…9999 (400 digits)"
    assert shown("short") == "short"
    with pytest.raises(UsageError) as exc:
        check_digits("9" * 5000, what="a target")
    assert len(exc.value.message) < 100


@given(st.one_of(st.text(max_size=60), st.integers().map(str)))
def test_any_text_is_read_or_refused(text: str) -> None:
    try:
        value = parse_int(text, what="a count", lo=-(10**9), hi=10**9)
    except UsageError:
        return
    assert -(10**9) <= value <= 10**9
