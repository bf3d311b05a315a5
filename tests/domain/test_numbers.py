"""domain/numbers.py: every number a command reads is bounded before any arithmetic."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import UsageError
from domain.numbers import check_digits, in_range, parse_decimal, parse_int, shown


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


def test_parse_int_and_decimal_read_plain_numbers() -> None:
    assert parse_int(" 12 ", what="weeks", lo=1, hi=12) == 12
    assert parse_decimal("+30", what="a target", lo=-100, hi=100) == 30
    assert parse_decimal("-2.5", what="a target", lo=-100, hi=100) == -2.5
    with pytest.raises(UsageError, match="between -100 and 100"):
        parse_decimal("100.5", what="a target", lo=-100, hi=100)
    with pytest.raises(UsageError, match="isn't a number"):
        parse_decimal("inf", what="a target", lo=-100, hi=100)
    with pytest.raises(UsageError, match="between"):
        in_range(float("nan"), what="a target", lo=0, hi=1)


def test_messages_never_quote_a_huge_number_whole() -> None:
    assert shown("9" * 400) == "999999…9999 (400 digits)"
    assert shown("short") == "short"
    with pytest.raises(UsageError) as exc:
        check_digits("9" * 5000, what="a target")
    assert len(exc.value.message) < 100


@given(st.text(max_size=60))
def test_any_text_is_read_or_refused(text: str) -> None:
    try:
        value = parse_decimal(text, what="a target", lo=-1e9, hi=1e9)
    except UsageError:
        return
    assert -1e9 <= value <= 1e9
