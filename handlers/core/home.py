"""A person's home view (Slack App Home, the Teams personal card, `/leadbot home`).

Each feature contributes a section through the registry (Registry.home_sections): a
function that returns blocks, empty when it has nothing to show.
"""

from __future__ import annotations

from domain.types import Actor, Block, Context, Header, Reply
from handlers.core.context import HandlerContext


async def home(actor: Actor, ctx: HandlerContext) -> Reply:
    """The home view for `actor`: every feature's section, in registry order."""
    blocks: list[Block] = [Header(f"Hi {actor.name.split()[0]}")]
    for section in ctx.registry.home_sections:
        blocks.extend(await section(actor, ctx))
    if len(blocks) == 1:
        blocks.append(Context("Nothing here yet. Type `/leadbot help` to see what I can do."))
    return Reply(blocks=blocks, text=f"leadbot home for {actor.name}")
