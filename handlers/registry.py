"""The one list of every command and every button family. Each adapter loops over it."""

from __future__ import annotations

from handlers import actions, goals, kudos, leadbot, oneonone, pulse, stats
from handlers.spec import ActionSpec, CommandSpec

COMMANDS: tuple[CommandSpec, ...] = (
    leadbot.SPEC,
    pulse.SPEC,
    stats.SPEC,
    goals.SPEC,
    kudos.SPEC,
    oneonone.SPEC,
    actions.SPEC,
)

ACTIONS: tuple[ActionSpec, ...] = (
    pulse.ACTION,
    kudos.ACTION,
    oneonone.ACTION,
    actions.ACTION_SPEC,
)
