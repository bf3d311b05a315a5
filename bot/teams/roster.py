"""A Teams team's roster: read page by page, and each member mapped to the roster by
Teams id, else by email (or userPrincipalName). Used when leadbot is added to a team
(bot/teams/agent.py) and by `leadbot teams sync` (bot/teams/sync.py)."""

from __future__ import annotations

import logging
from typing import Any

from microsoft_agents.activity import ChannelAccount

from bot.teams.refs import ConversationRef, member_ref
from storage import people
from storage import teams as store
from storage.db import Database

log = logging.getLogger(__name__)

ROSTER_PAGE_SIZE = 500  # the most Teams hands out per page
ROSTER_MAX_PAGES = 200


async def read_roster(connector: Any, conversation_id: str) -> list[ChannelAccount]:
    """Everyone in the conversation, page by page (GET .../pagedmembers: the unpaged
    members list is being retired). `connector` is a ConnectorClient (or the turn's)."""
    members: list[ChannelAccount] = []
    token: str | None = None
    seen: set[str] = set()
    for _ in range(ROSTER_MAX_PAGES):
        page = await connector.conversations.get_conversation_paged_members(
            conversation_id, page_size=ROSTER_PAGE_SIZE, continuation_token=token
        )
        members.extend(page.members or [])
        token = page.continuation_token
        if not token or token in seen:
            break
        seen.add(token)
    else:
        log.warning("teams: roster longer than %d pages; the rest is not read", ROSTER_MAX_PAGES)
    return members


def email_of(member: ChannelAccount) -> str | None:
    """The member's email (or userPrincipalName), lower-cased, when Teams gave one."""
    props = member.properties or {}
    for key in ("email", "userPrincipalName", "user_principal_name"):
        value = props.get(key)
        if isinstance(value, str) and "@" in value:
            return value.strip().lower()
    return None


async def remember_member(db: Database, ref: ConversationRef, member: ChannelAccount) -> bool:
    """Map one roster member to their person (by Teams id, else by email) and keep how to
    open a 1:1 chat with them; True when they were newly mapped."""
    if not member.id:
        return False
    ids = [i for i in (member.aad_object_id, member.id) if i]
    person = await store.find_person(db, teams_ids=ids)
    mapped = False
    if person is None:
        email = email_of(member)
        found = await people.get_by_email(db, email=email) if email else None
        if found is not None and found.id is not None and found.active:
            person = await store.link_person(
                db, person_id=found.id, teams_user_id=member.aad_object_id or member.id
            )
            mapped = person is not None
    if person is None or person.id is None or person.teams_conversation_ref:
        return mapped
    partial = member_ref(ref, user_id=member.id, aad_object_id=member.aad_object_id)
    await store.set_person_ref(db, person_id=person.id, conversation_ref=partial.to_json())
    return mapped
