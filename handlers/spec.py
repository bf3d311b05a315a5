"""How a command or a button is declared. The registry lists every one of them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from handlers.context import HandlerContext
from handlers.types import Action, Command, Reply

CommandHandler = Callable[[Command, HandlerContext], Awaitable[Reply]]
ActionHandler = Callable[[Action, HandlerContext], Awaitable[Reply]]


@dataclass(frozen=True)
class CommandSpec:
    """One chat command (`/stats`, `/kudos`, ...): a Slack slash command, a Teams word."""

    verb: str  # without the slash
    summary: str  # one line for the command list
    usage: tuple[str, ...]  # one usage line per form, e.g. "/goal set METRIC OP TARGET"
    handler: CommandHandler
    examples: tuple[str, ...] = ()

    @property
    def usage_text(self) -> str:
        return "\n".join(self.usage)


@dataclass(frozen=True)
class ActionSpec:
    """A family of buttons/forms, routed by the prefix of their action id (`pulse.answer`)."""

    prefix: str
    handler: ActionHandler
