"""Action items: the states an item goes through."""

from __future__ import annotations

from enum import StrEnum


class ActionStatus(StrEnum):
    open = "open"
    in_progress = "in_progress"
    done = "done"
    cancelled = "cancelled"


OPEN_STATUSES = (ActionStatus.open, ActionStatus.in_progress)
