"""Window figures (service level, abandonment, ASA) from the connectors' queue intervals."""

from __future__ import annotations

import datetime as dt

from domain.live import Observation, QueueInterval, window_from_intervals, with_window

NOW = dt.datetime(2026, 11, 17, 10, 7, tzinfo=dt.UTC)


def iv(hhmm: str, metric: str, num: float, den: float) -> QueueInterval:
    h, m = map(int, hhmm.split(":"))
    return QueueInterval(NOW.replace(hour=h, minute=m), 15, metric, num, den)


def test_the_newest_thirty_minutes_are_summed() -> None:
    rows = [
        iv("09:15", "service_level", 0, 50),  # older than the newest 30 minutes
        iv("09:30", "service_level", 40, 50),
        iv("09:45", "service_level", 30, 50),
        iv("09:30", "abandon_rate", 2, 50),
        iv("09:45", "abandon_rate", 8, 50),
        iv("09:30", "asa", 600, 40),
        iv("09:45", "asa", 1400, 40),
    ]
    got = window_from_intervals(rows, now=NOW)
    assert got == {
        "window_minutes": 30,
        "offered": 100,
        "answered_in_sl": 70,
        "abandoned": 10,
        "asa_seconds": 25.0,
    }
    o = with_window(Observation("q", NOW, waiting=4), got)
    assert (o.service_level, o.abandon_rate, o.waiting) == (70.0, 10.0, 4)


def test_service_level_over_other_contacts_keeps_the_platforms_percent() -> None:
    # Genesys Cloud measures SL over answered + late abandons (80), offered is 100.
    rows = [iv("09:45", "service_level", 60, 80), iv("09:45", "abandon_rate", 20, 100)]
    got = window_from_intervals(rows, now=NOW)
    assert got is not None
    o = with_window(Observation("q", NOW), got)
    assert o.service_level == 75.0
    assert o.abandon_rate == 20.0


def test_stale_or_empty_intervals_say_nothing() -> None:
    assert window_from_intervals([], now=NOW) is None
    # The newest ends at 09:15: 52 minutes ago, more than a pull behind.
    assert window_from_intervals([iv("09:00", "service_level", 9, 10)], now=NOW) is None
    # No contacts offered: no ratio to show.
    assert window_from_intervals([iv("09:45", "service_level", 0, 0)], now=NOW) is None


def test_a_sources_own_window_figures_win() -> None:
    own = Observation("q", NOW, offered=10, answered_in_sl=9)
    assert with_window(own, {"offered": 100, "answered_in_sl": 1}) == own
    assert with_window(Observation("q", NOW), None) == Observation("q", NOW)
