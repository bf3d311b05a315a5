"""Telling people, once, that leadbot can't reach someone or can't post in a channel.

Shared by the Slack and Teams senders: the message to a person (or a channel) waits,
pending, and whoever can fix it is told once (a dedupe key per person or channel and
reason), by name, with the fix.
"""

from __future__ import annotations

import logging

from domain.types import message as text_message
from storage import outbox, people
from storage.db import Database
from storage.models import Person, Team
from storage.outbox import OutboxNew

log = logging.getLogger(__name__)


async def tell_lead_unreachable(
    db: Database, *, person: Person, platform: str, code: str, why: str, fix: str
) -> bool:
    """Tell the lead of the person's team (else its manager) once that leadbot can't
    reach them and why; False when there is nobody else to tell."""
    team = await people.get_team(db, team_id=person.team_id) if person.team_id else None
    told = next(
        (
            who
            for who in ((team.lead_id, team.manager_id) if team is not None else ())
            if who is not None and who != person.id
        ),
        None,
    )
    if told is None:
        log.warning(
            "%s: person %s can't be reached (%s); nobody to tell", platform, person.id, code
        )
        return False
    text = (
        f"I can't reach *{person.display_name}* ({person.email}) on {platform.title()}: "
        f"{why}. Their messages are waiting and go out as soon as I can reach them. {fix}"
    )
    await outbox.enqueue(
        db,
        messages=[
            OutboxNew(
                dedupe_key=f"{platform}:unreachable:{person.id}:{code}",
                payload=text_message(text).to_json(),
                person_id=told,
            )
        ],
    )
    return True


async def tell_channel_blocked(
    db: Database, *, team: Team, platform: str, code: str, channel: str, why: str, fix: str
) -> int:
    """Tell who linked the team's channel and the team's lead, once per channel and
    reason, that leadbot can't post there; returns how many were told."""
    who = [i for i in (team.channel_linked_by, team.lead_id) if i is not None]
    if not who and team.manager_id is not None:
        who = [team.manager_id]
    text = (
        f"I can't post in *{team.name}*'s channel {channel}: {why}. The team's posts (daily "
        f"goal update, shout-outs, alerts) are waiting and go out as soon as I can. {fix}"
    )
    messages = [
        OutboxNew(
            dedupe_key=f"{platform}:channel:{team.id}:{channel}:{code}:{pid}"[:200],
            payload=text_message(text).to_json(),
            person_id=pid,
        )
        for pid in dict.fromkeys(who)
    ]
    if not messages:
        log.warning(
            "%s: can't post in team %s's channel (%s); nobody to tell", platform, team.id, code
        )
        return 0
    return await outbox.enqueue(db, messages=messages)
