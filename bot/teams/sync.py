"""`leadbot teams sync`: read the roster of every Teams team leadbot was added to and map
people by email (or userPrincipalName); their waiting messages go out.

Teams has no look-up by email for a bot, so a person is reachable once they are in a
roster leadbot can read (the app added to their team) or have messaged it.
"""

from __future__ import annotations

import logging

import aiohttp

from bot.teams.refs import ConversationRef
from bot.teams.roster import read_roster, remember_member
from bot.teams.sender import TeamsSender, make_teams_sender
from domain.settings import Settings
from storage import health
from storage import teams as store
from storage.db import Database

log = logging.getLogger(__name__)


async def sync(db: Database, sender: TeamsSender) -> tuple[int, int, list[str]]:
    """(members read, people newly mapped, conversations that could not be read)."""
    read = mapped = 0
    failed: list[str] = []
    for install in await store.installs(db):
        ref = ConversationRef.from_json(install.ref)
        if ref is None or not ref.conversation_id:
            continue
        try:
            client = await sender.client_for(ref.service_url)
            members = await read_roster(client, ref.conversation_id)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            status = getattr(exc, "status", None)
            if status in (403, 404):  # leadbot was removed from that team
                await store.forget_install(db, conversation_id=install.conversation_id)
            failed.append(f"{ref.team_name or ref.channel_name or 'a team'} ({status or exc})")
            continue
        read += len(members)
        for m in members:
            mapped += await remember_member(db, ref, m)
    return read, mapped, failed


async def main(settings: Settings, db: Database) -> int:
    """`leadbot teams sync`."""
    sender = make_teams_sender(settings, db)
    if sender is None:
        print("leadbot teams sync: Teams is not configured (TEAMS_APP_ID, TEAMS_APP_PASSWORD)")
        return 2
    try:
        read, mapped, failed = await sync(db, sender)
    finally:
        await sender.close()
    print(f"Read {read} Teams roster member(s): mapped {mapped} person(s) now.")
    for f in failed:
        print(f"  could not read the roster of {f}")
    left = await health.unreachable(db)
    if left:
        print(f"{len(left)} person(s) still can't be reached:")
        for p in left:
            print(f"  {p.display_name} <{p.email}>: {p.unreachable_reason or 'not seen yet'}")
        print("  Add leadbot to their Teams team, or check their email on the roster.")
    return 1 if failed else 0
