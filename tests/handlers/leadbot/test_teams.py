"""`/leadbot team ...`: rename, lead, manager, time zone, daily post, archive; who may."""

from __future__ import annotations

import pytest

from domain.roles import Role
from domain.types import Action, Buttons
from handlers.core.context import HandlerContext
from handlers.core.dispatch import run_action
from storage import oneonones, outbox, people
from storage.models import ActionItem, Person
from tests.conftest import actor_of
from tests.handlers.leadbot.helpers import center, person, run, snapshot, team


async def test_rename(ctx: HandlerContext) -> None:
    c = await center(ctx)
    reply = await run(ctx, c.admin, "/leadbot team rename Tech Support to Customer Care")
    assert reply.text == "Renamed *Tech Support* to *Customer Care*."
    assert (await team(ctx.db, c.tech)).name == "Customer Care"
    # A "to" inside the old name is found too.
    await people.create_team(ctx.db, name="Back to School", timezone="UTC")
    again = await run(ctx, c.admin, "/leadbot team rename back to school to Onboarding")
    assert again.text == "Renamed *Back to School* to *Onboarding*."


async def test_a_new_lead_takes_over_the_former_leads_work(ctx: HandlerContext) -> None:
    c = await center(ctx)
    reply = await run(ctx, c.admin, "/leadbot team lead Billing @maria.lopez")
    assert reply.ok, reply.text
    lines = reply.text.splitlines()
    assert lines[0] == "Maria Lopez is now the lead of *Billing*."
    assert "They replace Sam Carter." in lines
    assert "Maria Lopez was an agent and is a lead now." in lines
    assert (
        "Maria Lopez took over 1 1:1 and 1 open action item in Billing from Sam Carter. "
        "1 1:1 ended: Maria Lopez had one with that person already, or was that person."
    ) in lines
    assert lines[-1].startswith("Sam Carter is still a lead in Billing but leads no team")
    assert c.oliver.id is not None
    [o] = await oneonones.list_active(ctx.db, agent_id=c.oliver.id)
    assert o.lead_id == c.maria.id
    async with ctx.db.session() as s:
        item = await s.get(ActionItem, c.item_id)
        assert item is not None
        assert item.assigned_by_id == c.maria.id
    # Maria is told what she received; Oliver who his 1:1s are with now.
    rows = await outbox.messages_after(ctx.db, after_id=0)
    assert sorted(r.recipient_person_id or 0 for r in rows) == sorted(
        [c.maria.id or 0, c.oliver.id]
    )


async def test_a_lead_from_another_team_moves_and_leaves_it_without_one(
    ctx: HandlerContext,
) -> None:
    c = await center(ctx)
    reply = await run(ctx, c.admin, "/leadbot team lead Billing tess.tech@example.com")
    assert reply.ok, reply.text
    assert "They moved from Tech Support to Billing." in reply.text
    assert "Tech Support has no lead now." in reply.text
    assert (await team(ctx.db, c.tech)).lead_id is None
    assert (await person(ctx.db, c.tess)).team_id == c.billing.id


async def test_no_lead(ctx: HandlerContext) -> None:
    c = await center(ctx)
    reply = await run(ctx, c.admin, "/leadbot team lead Billing none")
    assert reply.ok, reply.text
    assert reply.text.splitlines()[0] == "Sam Carter is no longer *Billing*'s lead."
    assert (
        "Billing has no lead now. 2 1:1s and 1 open action item of Sam Carter wait for the "
        "next lead."
    ) in reply.text


async def test_manager(ctx: HandlerContext) -> None:
    c = await center(ctx)
    boss = await run(ctx, c.admin, "/leadbot person add bo@example.com Bo Boss as manager")
    assert boss.ok, boss.text
    reply = await run(ctx, c.admin, "/leadbot team manager Tech Support bo@example.com")
    assert reply.text == "Bo Boss now manages *Tech Support*."
    replaced = await run(ctx, c.admin, "/leadbot team manager Tech Support @alex.morgan")
    assert replaced.text == "Alex Morgan now manages *Tech Support* (before: Bo Boss)."
    none = await run(ctx, c.admin, "/leadbot team manager Tech Support none")
    assert none.text == "*Tech Support* has no manager now (before: Alex Morgan)."


async def test_the_teams_manager_may_change_its_settings(ctx: HandlerContext) -> None:
    c = await center(ctx)
    tz = await run(ctx, c.alex, "/leadbot team timezone Billing Europe/Dublin")
    assert tz.ok, tz.text
    assert tz.text.startswith("*Billing*'s time zone is now Europe/Dublin (was Europe/London).")
    post = await run(ctx, c.alex, "/leadbot team post Billing 08:30 mon-sat")
    assert post.ok, post.text
    assert post.text.startswith(
        "*Billing*'s daily goal update goes out at 08:30 on Mon-Sat (Europe/Dublin)."
    )
    stored = await team(ctx.db, c.billing)
    assert (stored.timezone, stored.post_time, stored.work_days) == (
        "Europe/Dublin",
        "08:30",
        "Mon-Sat",
    )
    days = await run(ctx, c.admin, "/leadbot team post Tech Support Sun-Thu")
    assert days.ok, days.text
    assert (await team(ctx.db, c.tech)).work_days == "Sun-Thu"
    # Not another team's, and never its lead or its name.
    before = await snapshot(ctx.db)
    for line in (
        "/leadbot team timezone Tech Support Europe/Dublin",
        "/leadbot team post Tech Support 07:00",
    ):
        refused = await run(ctx, c.alex, line)
        assert refused.text == "Only admins and Tech Support's manager can change its settings."
    for line in ("/leadbot team lead Billing @maria.lopez", "/leadbot team rename Billing to B"):
        refused = await run(ctx, c.alex, line)
        assert refused.text == "Only admins can set up teams."
    assert await snapshot(ctx.db) == before


async def test_archive_asks_then_archives(ctx: HandlerContext) -> None:
    c = await center(ctx)
    before = await snapshot(ctx.db)
    ask = await run(ctx, c.admin, "/leadbot team archive Tech Support")
    assert ask.ok, ask.text
    assert "Its 1 person will be in no team" in ask.text
    assert await snapshot(ctx.db) == before
    [button] = next(b for b in ask.blocks if isinstance(b, Buttons)).buttons
    # The button checks the role again on every press.
    refused = await run_action(Action(actor_of(c.sam), button.action_id, button.value), ctx)
    assert not refused.ok
    assert await snapshot(ctx.db) == before
    done = await run_action(Action(actor_of(c.admin), button.action_id, button.value), ctx)
    assert done.ok, done.text
    assert done.text == "Archived *Tech Support*.\n1 person is in no team now: Tess Tech."
    assert [t.name for t in await people.list_teams(ctx.db)] == ["Billing"]
    twice = await run_action(Action(actor_of(c.admin), button.action_id, button.value), ctx)
    assert twice.text == "That team is archived already."
    gone = await run(ctx, c.admin, "/leadbot team lead Tech Support @maria.lopez")
    assert "There is no team called" in gone.text


async def test_team_add_as_lead_hands_over_too(ctx: HandlerContext) -> None:
    c = await center(ctx)
    reply = await run(ctx, c.admin, "/leadbot team add @oliver.bennett Billing as lead")
    assert reply.ok, reply.text
    assert reply.text.splitlines()[0] == "Oliver Bennett is now the lead of *Billing*."
    assert "They replace Sam Carter." in reply.text
    assert "Oliver Bennett took over 1 1:1 and 1 open action item" in reply.text


@pytest.mark.parametrize("role", ["agent", "lead", "manager"])
@pytest.mark.parametrize(
    "line",
    [
        "/leadbot team rename Billing to Money",
        "/leadbot team lead Billing @maria.lopez",
        "/leadbot team manager Billing none",
        "/leadbot team archive Billing",
    ],
)
async def test_only_admins_set_up_teams(ctx: HandlerContext, role: str, line: str) -> None:
    c = await center(ctx)
    who: Person = {"agent": c.oliver, "lead": c.sam, "manager": c.alex}[role]
    before = await snapshot(ctx.db)
    reply = await run(ctx, who, line)
    assert not reply.ok
    assert reply.text == "Only admins can set up teams."
    assert await snapshot(ctx.db) == before


@pytest.mark.parametrize("role", ["agent", "lead"])
async def test_agents_and_leads_do_not_change_team_settings(ctx: HandlerContext, role: str) -> None:
    c = await center(ctx)
    who = {"agent": c.oliver, "lead": c.sam}[role]
    before = await snapshot(ctx.db)
    for line in ("/leadbot team timezone Billing UTC", "/leadbot team post Billing 07:00"):
        reply = await run(ctx, who, line)
        assert reply.text == "Only admins and Billing's manager can change its settings."
    assert await snapshot(ctx.db) == before


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("/leadbot team rename Billing", "Say `/leadbot team rename OLD to NEW`."),
        ("/leadbot team rename Nowhere to X", "There is no team called 'Nowhere'"),
        ("/leadbot team rename Billing to Tech Support", "There is already a team called"),
        ("/leadbot team rename Billing to", "Give the team a name."),
        ("/leadbot team rename Billing to " + "x" * 81, "80 characters at most"),
        ("/leadbot team rename Billing to A\u202eB", "can't contain control characters"),
        ("/leadbot team lead", "Name the team."),
        ("/leadbot team lead Billing", "Name the team, then one person"),
        ("/leadbot team lead Billing @sam.carter", "Sam Carter is Billing's lead already."),
        ("/leadbot team lead Billing @alex.morgan", "Alex Morgan is a manager; a team's lead"),
        ("/leadbot team lead Billing @ghost", "I don't know @ghost"),
        ("/leadbot team lead Nowhere @maria.lopez", "There is no team called 'Nowhere'"),
        ("/leadbot team manager Billing @maria.lopez", "make them a manager first"),
        ("/leadbot team manager Billing @alex.morgan", "Alex Morgan manages Billing already."),
        ("/leadbot team manager Tech Support none", "Tech Support has no manager already."),
        ("/leadbot team timezone Billing", "Name the team, then its time zone"),
        ("/leadbot team timezone Billing Mars/Base", "Unknown time zone 'Mars/Base'"),
        ("/leadbot team post Billing", "Give a time (HH:MM) and/or working days"),
        ("/leadbot team post Billing 25:00", "I didn't understand '25:00'"),
        ("/leadbot team post Billing 08:00 09:00", "I didn't understand '09:00'"),
        ("/leadbot team post Billing Funday", "I didn't understand 'Funday'"),
        ("/leadbot team archive Billing now", "I didn't understand 'now'."),
        ("/leadbot team archive", "Name the team."),
    ],
)
async def test_bad_input_changes_nothing(ctx: HandlerContext, line: str, message: str) -> None:
    c = await center(ctx)
    before = await snapshot(ctx.db)
    reply = await run(ctx, c.admin, line)
    assert not reply.ok, reply.text
    assert message in reply.text
    assert "something went wrong" not in reply.text
    assert await snapshot(ctx.db) == before


async def test_team_list_leaves_out_archived_teams_and_shows_new_leads(
    ctx: HandlerContext,
) -> None:
    c = await center(ctx)
    await run(ctx, c.admin, "/leadbot team lead Billing @maria.lopez")
    listing = await run(ctx, c.oliver, "/leadbot team list")
    assert "Billing (Europe/London), lead Maria Lopez" in listing.text
    assert (await person(ctx.db, c.maria)).role is Role.lead
