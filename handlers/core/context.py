"""What every handler and job is given, and how commands and buttons are declared.

The bootstrap (bot/bootstrap.py) builds one HandlerContext per process: the store, the
settings, the registry of every command and button, and the clock. Handlers and jobs get
it as an argument; nothing here reads the environment or holds global state.

These types refer to each other (a handler takes a context, the context holds the
registry, the registry holds handlers), so they live in one module.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

from domain.parsing import Args
from domain.settings import Settings
from domain.types import Action, Actor, Block, Command, Reply
from handlers.core.checks import PlatformProbe
from storage.db import Database

Clock = Callable[[], dt.datetime]


def system_clock() -> dt.datetime:
    """The real time, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


CommandHandler = Callable[[Command, Args, "HandlerContext"], Awaitable[Reply]]
ActionHandler = Callable[[Action, "HandlerContext"], Awaitable[Reply]]
HomeSection = Callable[[Actor, "HandlerContext"], Awaitable[list[Block]]]


@dataclass(frozen=True)
class CommandSpec:
    """A chat command (`/goal`) or one of its sub-commands (`/goal set`).

    `handler` answers the form without a further sub-command word; it gets an Args
    cursor just past the words that chose it (`/goal set aht <= 300` hands `set`'s
    handler `aht <= 300`). A node without a handler only groups sub-commands. Dispatch
    routes the words, answers `help` at every level and gives every unknown sub-command
    the same usage error, all from this one declaration.
    """

    verb: str  # without the slash; for a sub-command the word after its parent's
    summary: str  # one line for the command list and the help
    usage: tuple[str, ...] = ()  # full usage lines of this node's own forms
    handler: CommandHandler | None = None
    subcommands: tuple[CommandSpec, ...] = ()
    aliases: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()

    def child(self, word: str) -> CommandSpec | None:
        """The sub-command a word names (its verb or an alias), case-insensitive."""
        w = word.lower()
        return next((c for c in self.subcommands if w == c.verb or w in c.aliases), None)

    def walk(self, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], CommandSpec]]:
        """This node and every sub-command under it, each with its path of verbs."""
        here = (*path, self.verb)
        yield here, self
        for sub in self.subcommands:
            yield from sub.walk(here)

    @property
    def all_usage(self) -> tuple[str, ...]:
        """The usage lines of this node and of everything under it."""
        return tuple(line for _, node in self.walk() for line in node.usage)

    @property
    def usage_text(self) -> str:
        return "\n".join(self.all_usage)


@dataclass(frozen=True)
class ActionSpec:
    """A family of buttons/forms, routed by the prefix of their action id (`pulse.answer`)."""

    prefix: str
    handler: ActionHandler


@dataclass(frozen=True)
class Registry:
    """Every command, button family and home-view section: each adapter loops over it."""

    commands: tuple[CommandSpec, ...]
    actions: tuple[ActionSpec, ...] = ()
    home_sections: tuple[HomeSection, ...] = ()

    def command(self, verb: str) -> CommandSpec | None:
        v = verb.lower().lstrip("/")
        return next((c for c in self.commands if c.verb == v), None)

    def action(self, action_id: str) -> ActionSpec | None:
        """The family whose prefix is the longest match of `action_id`."""
        matches = [
            a for a in self.actions if action_id == a.prefix or action_id.startswith(a.prefix + ".")
        ]
        return max(matches, key=lambda a: len(a.prefix), default=None)


@dataclass(frozen=True)
class HandlerContext:
    """The store, the settings, the registry and the clock, built once by the bootstrap."""

    db: Database
    settings: Settings
    registry: Registry
    clock: Clock = system_clock
    # The setup checks that call a platform (handlers/core/checks.py); None: not run.
    platform_probe: PlatformProbe | None = None

    def now(self) -> dt.datetime:
        now = self.clock()
        if now.tzinfo is None:
            raise ValueError("the clock must return an aware datetime")
        return now
