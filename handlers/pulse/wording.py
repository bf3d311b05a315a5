"""What the pulse asks and how its answers read: the questions, the ESAT scale's labels
and emoji, the date format rounds are named by, and shortening free text for chat."""

from __future__ import annotations

DEFAULT_QUESTION = "How satisfied are you with your work this week?"
ENPS_QUESTION = "How likely are you to recommend working in this team to a friend?"
ESAT_LABELS = {
    1: "Very dissatisfied",
    2: "Dissatisfied",
    3: "Neutral",
    4: "Satisfied",
    5: "Very satisfied",
}
ESAT_EMOJI = {1: "😞", 2: "🙁", 3: "😐", 4: "🙂", 5: "😄"}
DAY_FMT = "%d %b %Y"  # a round is named by the local day it opened: `27 Nov 2026`


def short(text: str, n: int) -> str:
    """`text` on one line, cut to `n` characters (an ellipsis marks the cut)."""
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"
