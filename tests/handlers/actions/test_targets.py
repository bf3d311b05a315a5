"""Metric targets in each unit, read without a database."""

from __future__ import annotations

import pytest

from domain.errors import UsageError
from handlers.actions.targets import met, parse_target
from storage.models import Metric


def metric(unit: str, lo: float | None = None, hi: float | None = None) -> Metric:
    return Metric(key="m", name="M", unit=unit, min_value=lo, max_value=hi)


@pytest.mark.parametrize(
    ("unit", "text", "value"),
    [
        ("s", "300", 300.0),
        ("s", "300s", 300.0),
        ("s", "300 seconds", 300.0),
        ("s", "5:00", 300.0),
        ("s", "5m", 300.0),
        ("s", "4.5 min", 270.0),
        ("%", "85", 85.0),
        ("%", "85%", 85.0),
        ("pts", "+30", 30.0),
        ("pts", "-5pts", -5.0),
        ("pts", "30 points", 30.0),
        ("count", "-2.5", -2.5),
    ],
)
def test_targets(unit: str, text: str, value: float) -> None:
    assert parse_target(text, metric(unit)) == value


@pytest.mark.parametrize(
    ("unit", "text", "expected"),
    [
        ("s", "fast", "300s or 5:00"),
        ("s", "5:60", "300s or 5:00"),
        ("%", "-5%", "85%"),
        ("pts", "30%", "30 or +30pts"),
        ("count", "3x", "a number"),
        ("count", "9" * 400, "a number"),  # too large to be a float
    ],
)
def test_bad_targets(unit: str, text: str, expected: str) -> None:
    with pytest.raises(UsageError, match="isn't a target") as exc:
        parse_target(text, metric(unit))
    assert expected in exc.value.message


def test_range() -> None:
    with pytest.raises(UsageError, match="above"):
        parse_target("120", metric("%", 0, 100))
    with pytest.raises(UsageError, match="below"):
        parse_target("-1", metric("count", 0))


def test_met() -> None:
    assert met(300, "<=", 300)
    assert not met(300, "<", 300)
    assert met(85, ">=", 85)
    assert not met(85, ">", 85)
