"""How /stats shows values, changes, goals and sparklines."""

from __future__ import annotations

from domain.fmt import fmt_delta, fmt_goal, fmt_value, goal_met, sparkline


def test_formats() -> None:
    assert fmt_value("s", 287) == "4:47"
    assert fmt_value("s", 42) == "42s"
    assert fmt_value("s", 3725) == "1:02:05"
    assert fmt_value("%", 91.24) == "91.2%"
    assert fmt_value("pts", 32.4) == "+32"
    assert fmt_value("pts", -7) == "\u22127"
    assert fmt_value("%", None) == "\u2013"
    assert fmt_delta("s", -8, higher_is_better=False) == "▼ \u22128s"
    assert fmt_delta("s", 8, higher_is_better=False) == "▲ +8s !"
    assert fmt_delta("%", 1.25, higher_is_better=True) == "▲ +1.2 pts"
    assert fmt_delta("%", 0.01) == "= 0"
    assert fmt_goal("s", "<=", 300) == "≤ 5:00"
    assert goal_met(">=", 90, 90.0) is True
    assert goal_met("<=", 300, 301) is False
    assert goal_met(">=", 90, None) is None
    # Judged as shown: "90.0%" meets ">= 90.0%", "5:00" meets "<= 5:00", "5:01" does not.
    assert goal_met(">=", 90, 89.96, unit="%") is True
    assert goal_met(">=", 90, 89.94, unit="%") is False
    assert goal_met("<=", 300, 300.4, unit="s") is True
    assert goal_met("<=", 300, 300.6, unit="s") is False
    assert sparkline([1, 2, None, 8]) == "▁▂·█"
    assert sparkline([5, 5]) == "▄▄"
