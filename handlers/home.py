"""A person's home view (Slack App Home, the Teams personal tab/card, `/leadbot home`).

Each feature contributes a section: a function that returns blocks (empty when it has
nothing to show). Add a feature's section to SECTIONS.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from handlers import actions, oneonone, pulse, stats
from handlers.context import HandlerContext
from handlers.types import Actor, Block, Context, Header, Reply

Section = Callable[[Actor, HandlerContext], Awaitable[list[Block]]]

SECTIONS: list[Section] = [
    stats.home_section,
    oneonone.home_section,
    actions.home_section,
    pulse.home_section,
]


async def home(actor: Actor, ctx: HandlerContext) -> Reply:
    """The home view for `actor`: every feature's section, in order."""
    blocks: list[Block] = [Header(f"Hi {actor.name.split()[0]}")]
    for section in SECTIONS:
        blocks.extend(await section(actor, ctx))
    if len(blocks) == 1:
        blocks.append(Context("Nothing here yet. Type `/leadbot help` to see what I can do."))
    return Reply(blocks=blocks, text=f"leadbot home for {actor.name}")
