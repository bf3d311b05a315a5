"""The 1:1 section of a person's home view: their next 1:1s and the latest kudos they got."""

from __future__ import annotations

from domain.localtime import fmt_local
from domain.types import Actor, Block, Context, Text
from handlers.core.context import HandlerContext
from handlers.oneonone.schedule import slot_text
from handlers.oneonone.service import acting_leads, held_by
from storage import kudos as kudos_store
from storage import oneonones as store
from storage import people


async def home_section(actor: Actor, ctx: HandlerContext) -> list[Block]:
    """Next 1:1s (as agent and as lead) and the latest kudos received."""
    blocks: list[Block] = []
    as_agent = await store.list_active(ctx.db, agent_id=actor.person_id)
    holders = await acting_leads(ctx, as_agent)
    as_lead = await held_by(ctx, actor)
    names = await people.get_people(ctx.db, person_ids=[o.agent_id for o in as_lead])
    lines = []
    for o in as_agent:
        if o.next_at is not None and holders.get(o.id or 0) is not None:
            p = holders.get(o.id or 0)
            lines.append(
                f"• with {p.display_name if p else '?'}: *{slot_text(o.next_at, actor.timezone)}*"
            )
    for o in [o for o in as_lead if o.next_at is not None][:5]:
        assert o.next_at is not None
        p = names.get(o.agent_id)
        lines.append(
            f"• with {p.display_name if p else '?'}: {fmt_local(o.next_at, actor.timezone)}"
        )
    if lines:
        blocks.append(Text("*Your next 1:1s*\n" + "\n".join(lines)))
        if as_agent:
            blocks.append(Context("Add a point to talk about: `/1on1 agenda TEXT`"))
    blocks += await _latest_kudos(actor, ctx)
    return blocks


async def _latest_kudos(actor: Actor, ctx: HandlerContext) -> list[Block]:
    received = await kudos_store.in_range(ctx.db, person_id=actor.person_id, limit=3)
    if not received:
        return []
    givers = await people.get_people(
        ctx.db, person_ids=[r.giver_id for r in received if r.giver_id]
    )
    lines = [
        f"• {givers[r.giver_id].display_name if r.giver_id in givers else 'leadbot'}: "
        f"“{r.message[:90]}”"
        for r in received
    ]
    return [Text("*Latest kudos for you* 🎉\n" + "\n".join(lines))]
