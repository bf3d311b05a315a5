"""What the demo's modules share: the seeded teams, the respondent hasher, a clamp."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from storage.models import Person, Team

Hasher = Callable[[int, int], str]  # (round id, person id) -> respondent hash


class SeededTeam(NamedTuple):
    """One demo team as stored: the team, its lead and its agents."""

    team: Team
    lead: Person
    agents: list[Person]


def clamp(x: float, lo: float, hi: float) -> float:
    """`x` kept within [lo, hi]."""
    return max(lo, min(hi, x))
