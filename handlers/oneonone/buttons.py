"""The 1:1 buttons: `oneonone.prep` shows the prep card, `oneonone.done` records the 1:1
as held with the notes from its form. Only whoever holds the schedule *now* may press
them (service.acting_leads): a lead moved or demoted since the button was sent gets the
same refusal as for a 1:1 that doesn't exist."""

from __future__ import annotations

import re

from domain.errors import NotAllowed, UserError
from domain.types import Action, Reply
from handlers.core.context import HandlerContext
from handlers.oneonone.prep import DONE_ACTION_ID, PREP_ACTION_ID, prep_card
from handlers.oneonone.service import NOTES_MAX, acting_leads, record_done
from storage import oneonones as store
from storage import people

_ID = re.compile(r"[0-9]{1,10}")


def _word(action_id: str) -> str:
    return action_id.rsplit(".", 1)[-1]


async def on_action(action: Action, ctx: HandlerContext) -> Reply:
    """`oneonone.prep` (show the card) and `oneonone.done` (record as held, with notes)."""
    # The last word picks the button, as it always has (the family is `oneonone`).
    verb = action.action_id.rsplit(".", 1)[-1]
    if verb not in (_word(PREP_ACTION_ID), _word(DONE_ACTION_ID)) or not _ID.fullmatch(
        action.value
    ):
        raise UserError("That button is no longer valid.")
    o = await store.get(ctx.db, one_on_one_id=int(action.value))
    holder = (await acting_leads(ctx, [o])).get(o.id or 0) if o is not None and o.active else None
    if o is None or holder is None or holder.id != action.actor.person_id:
        raise NotAllowed("That 1:1 isn't one of yours (or it was cancelled).")
    agent = await people.get_person(ctx.db, person_id=o.agent_id)
    if agent is None:
        raise UserError("That person is no longer on the roster.")
    if verb == _word(PREP_ACTION_ID):
        blocks = await prep_card(
            ctx, lead_id=o.lead_id, agent=agent, o=o, viewer_tz=action.actor.timezone
        )
        return Reply(blocks=blocks, text=f"1:1 prep for {agent.display_name}")
    notes = (action.form.get("notes") or "").strip() or None
    if notes is not None and len(notes) > NOTES_MAX:
        return Reply(errors={"notes": f"At most {NOTES_MAX} characters."}, ok=False)
    return await record_done(ctx, action.actor, agent, o, notes)
