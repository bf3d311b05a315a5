"""The setup checklist's results (`/leadbot setup`, the admin's home, `leadbot doctor`).

A check answers one or more `CheckResult`s: ok, warn (works, but something is missing)
or block (something does not work until it is fixed), each with what was found and how
to fix it. Most checks read the store and the settings (handlers/leadbot/setup.py); the
ones that must call a platform (Slack's auth.test) can only run in bot/, so the
composition root hands them in as the context's `platform_probe`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from domain.types import Button


class Status(StrEnum):
    ok = "ok"
    warn = "warn"
    block = "block"


@dataclass(frozen=True)
class CheckResult:
    """One line of the checklist."""

    name: str  # what was checked: "Slack", "Team Billing", "LEADBOT_SECRET", ...
    status: Status
    detail: str  # what was found
    fix: str = ""  # how to fix it (empty when ok)
    buttons: tuple[Button, ...] = ()  # the next step, in chat


# The checks that need a platform's API, run on request (bot/doctor.py builds them).
PlatformProbe = Callable[[], Awaitable[Sequence[CheckResult]]]
