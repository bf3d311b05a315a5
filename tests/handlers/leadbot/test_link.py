"""`/leadbot link` and `/leadbot unlink`: where they run, what they say, what they move."""

from __future__ import annotations

import dataclasses

from domain.roles import Role
from domain.types import Command, Platform, Reply
from handlers.core.context import HandlerContext
from handlers.core.dispatch import run_command
from storage import outbox, people
from storage.db import Database
from storage.models import OutboxStatus, Person
from storage.outbox import OutboxNew
from tests.conftest import command, make_person, make_team


async def _in(db: Database, who: Person, line: str, channel: str | None = "C1") -> Command:
    cmd = await command(db, who, line, platform=Platform.slack)
    team = await people.get_team_by_slack_channel(db, channel_id=channel) if channel else None
    return dataclasses.replace(
        cmd,
        channel_ref=channel,
        channel_name=f"#{channel.lower()}" if channel else "",
        channel_team_id=team.id if team else None,
    )


async def _run(
    db: Database, ctx: HandlerContext, who: Person, line: str, **kw: str | None
) -> Reply:
    return await run_command(await _in(db, who, line, **kw), ctx)


async def test_a_lead_links_their_own_team_without_naming_it(
    db: Database, ctx: HandlerContext
) -> None:
    team = await make_team(db, "Billing")
    lead = await make_person(db, "lee.lead", role=Role.lead, team=team)
    reply = await _run(db, ctx, lead, "/leadbot link")
    assert reply.ok, reply.fallback
    assert "#c1 is now *Billing*'s channel" in reply.fallback
    assert "daily goal update, kudos shout-outs and team alerts" in reply.fallback
    again = await _run(db, ctx, lead, "/leadbot link")
    assert "already *Billing*'s channel" in again.fallback


async def test_link_needs_a_channel_and_a_chat_platform(db: Database, ctx: HandlerContext) -> None:
    team = await make_team(db, "Billing")
    admin = await make_person(db, "ada.admin", role=Role.admin)
    in_dm = await _run(db, ctx, admin, "/leadbot link team Billing", channel=None)
    assert not in_dm.ok
    assert "in the team's channel itself" in in_dm.fallback
    console = await run_command(await command(db, admin, "/leadbot link team Billing"), ctx)
    assert not console.ok
    fresh = await people.get_team(db, team_id=team.id or 0)
    assert fresh is not None
    assert fresh.slack_channel_id is None


async def test_linking_a_channel_of_another_team_moves_it_and_says_so(
    db: Database, ctx: HandlerContext
) -> None:
    billing = await make_team(db, "Billing")
    support = await make_team(db, "Tech Support")
    admin = await make_person(db, "ada.admin", role=Role.admin)
    await _run(db, ctx, admin, "/leadbot link team Billing")
    reply = await _run(db, ctx, admin, "/leadbot link team Tech Support")
    assert reply.ok, reply.fallback
    assert "It was *Billing*'s channel" in reply.fallback
    assert (await people.get_team(db, team_id=billing.id or 0)).slack_channel_id is None  # type: ignore[union-attr]
    assert (await people.get_team(db, team_id=support.id or 0)).slack_channel_id == "C1"  # type: ignore[union-attr]


async def test_unlink_in_the_channel_and_what_waited_is_dropped(
    db: Database, ctx: HandlerContext
) -> None:
    team = await make_team(db, "Billing")
    lead = await make_person(db, "lee.lead", role=Role.lead, team=team)
    await _run(db, ctx, lead, "/leadbot link")
    await outbox.enqueue(
        db, messages=[OutboxNew(dedupe_key="p1", payload='{"blocks":[]}', team_id=team.id)]
    )
    reply = await _run(db, ctx, lead, "/leadbot unlink")
    assert reply.ok, reply.fallback
    assert "*Billing* has no channel now" in reply.fallback
    assert not await outbox.list_messages(db)
    [dropped] = await outbox.list_messages(db, status=OutboxStatus.dead)
    assert dropped.last_error == "the team's channel was unlinked"
    none = await _run(db, ctx, lead, "/leadbot unlink team Billing")
    assert "has no channel linked" in none.fallback
