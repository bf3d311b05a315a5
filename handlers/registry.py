"""The one list of every command, button family and home-view section.

The bootstrap (bot/bootstrap.py) builds the Registry once; each adapter loops over it.
"""

from __future__ import annotations

from handlers import actions, alerts, goals, kudos, leadbot, oneonone, pulse, stats
from handlers.core.context import Registry


def build_registry() -> Registry:
    """Every feature's commands, buttons and home sections, in the order users see them."""
    return Registry(
        commands=(
            leadbot.COMMAND,
            pulse.COMMAND,
            stats.COMMAND,
            goals.COMMAND,
            kudos.COMMAND,
            oneonone.COMMAND,
            actions.COMMAND,
            alerts.COMMAND,
            alerts.WALLBOARD,
        ),
        actions=(
            leadbot.BUTTONS,
            pulse.BUTTONS,
            kudos.BUTTONS,
            oneonone.BUTTONS,
            actions.BUTTONS,
            alerts.BUTTONS,
        ),
        home_sections=(
            leadbot.home_section,  # an admin's setup checklist, until setup is done
            stats.home_section,
            oneonone.home_section,
            actions.home_section,
            pulse.home_section,
        ),
    )
