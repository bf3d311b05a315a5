"""The "I'm on it" button on an incident message: records who took it, once."""

from __future__ import annotations

from domain.errors import NotAllowed, NotFound, UsageError
from domain.numbers import parse_int
from domain.roles import Role
from domain.types import Action, Reply, Text
from handlers.alerts.render import incident_reply
from handlers.core.access import visible_team_ids
from handlers.core.context import HandlerContext
from storage import alerts, people


async def on_ack(action: Action, ctx: HandlerContext) -> Reply:
    """`alert.ack` with the incident id: the first person to press it takes the incident;
    the message shows who (it replaces the message the button was on)."""
    try:
        incident_id = parse_int(action.value, what="an alert", lo=1, hi=10**9)
    except UsageError:
        raise NotFound("That alert no longer exists.") from None
    inc = await alerts.get_incident(ctx.db, incident_id=incident_id)
    if inc is None:
        raise NotFound("That alert no longer exists.")
    actor = action.actor
    member = actor.role is Role.admin or actor.team_id == inc.team_id
    if not member and inc.team_id not in await visible_team_ids(ctx, actor):
        raise NotAllowed("That alert is for another team.")
    team = await people.get_team(ctx.db, team_id=inc.team_id)
    assert team is not None
    assert inc.id is not None
    now = ctx.now()
    taken = await alerts.acknowledge(ctx.db, incident_id=inc.id, person_id=actor.person_id, now=now)
    assert taken is not None
    who = await people.get_person(ctx.db, person_id=taken.acked_by_id or 0)
    reply = incident_reply(
        taken, tz=team.timezone, now=now, acked_by=who.display_name if who else None
    )
    if taken.acked_by_id != actor.person_id:
        name = who.display_name if who else "someone"
        return Reply(blocks=[Text(f"{name} is already on it.")], text=f"{name} is already on it.")
    # The message itself changes for everyone: the adapter replaces it in place, and the
    # job's next edit renders the same name.
    await alerts.edit_incident_message(ctx.db, incident=taken, payload=reply.to_json(), now=now)
    reply.replace_original = True
    return reply
