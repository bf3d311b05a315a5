"""The one list of every command and every button family. Each adapter loops over it."""

from __future__ import annotations

from handlers import leadbot
from handlers.spec import ActionSpec, CommandSpec

COMMANDS: tuple[CommandSpec, ...] = (leadbot.SPEC,)

ACTIONS: tuple[ActionSpec, ...] = ()
