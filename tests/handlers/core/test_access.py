"""handlers/core/access.py: the one decision "may X act on Y", read from the store now."""

from __future__ import annotations

import dataclasses

import pytest

from domain.errors import NotAllowed, UsageError
from domain.roles import Role
from handlers.core import access
from handlers.core.context import HandlerContext
from storage import people
from storage.db import Database
from storage.models import Person, Team
from tests.conftest import actor_of, make_person, make_team


@dataclasses.dataclass
class Org:
    billing: Team
    support: Team
    lead: Person  # leads Billing
    co_lead: Person  # another lead in Billing
    agent: Person
    manager: Person  # manages Billing, is in Billing
    big_boss: Person  # manages Support and Billing's manager
    other_agent: Person  # in Support
    admin: Person


@pytest.fixture
async def org(db: Database) -> Org:
    billing = await make_team(db, "Billing")
    support = await make_team(db, "Support")
    lead = await make_person(db, "lee.lead", role=Role.lead, team=billing)
    co_lead = await make_person(db, "cora.colead", role=Role.lead, team=billing)
    agent = await make_person(db, "ann.agent", team=billing)
    manager = await make_person(db, "mona.manager", role=Role.manager, team=billing)
    big = await make_person(db, "bea.boss", role=Role.manager, team=support)
    other = await make_person(db, "otto.agent", team=support)
    admin = await make_person(db, "ada.admin", role=Role.admin)
    return Org(billing, support, lead, co_lead, agent, manager, big, other, admin)


async def test_who_may_act_on_whom(ctx: HandlerContext, org: Org) -> None:
    o = org
    allowed = [
        # A lead: the agents of their team only; never a co-lead, never their manager.
        (o.lead, o.agent, True),
        (o.lead, o.co_lead, False),
        (o.lead, o.manager, False),
        (o.lead, o.other_agent, False),
        (o.lead, o.lead, False),
        # A manager: the agents and leads of the teams they manage.
        (o.manager, o.agent, True),
        (o.manager, o.lead, True),
        (o.manager, o.co_lead, True),
        (o.manager, o.other_agent, False),
        (o.manager, o.big_boss, False),
        (o.big_boss, o.other_agent, True),
        (o.big_boss, o.agent, False),
        # Agents and admins act on nobody else.
        (o.agent, o.lead, False),
        (o.admin, o.agent, False),
    ]
    for who, target, expected in allowed:
        assert await access.may_act_on(ctx, actor_of(who), target) is expected, (
            who.display_name,
            target.display_name,
        )


async def test_the_store_decides_not_the_actor(ctx: HandlerContext, org: Org) -> None:
    """An Actor built before a demotion still carries `lead`: the decision is the store's."""
    stale = actor_of(org.lead)
    assert org.lead.id
    assert org.billing.id
    await people.assign_member(
        db=ctx.db, person_id=org.lead.id, team_id=org.billing.id, role=Role.agent
    )
    assert not await access.may_act_on(ctx, stale, org.agent)
    assert await access.visible_team_ids(ctx, stale) == set()
    with pytest.raises(NotAllowed, match="Agents act on their own things only"):
        await access.require_act_on(ctx, stale, org.agent)
    fresh = await access.current_actor(ctx, stale)
    assert fresh.role is Role.agent


async def test_a_switched_off_person_has_no_standing(ctx: HandlerContext, org: Org) -> None:
    async with ctx.db.session() as s:
        p = await s.get(Person, org.manager.id)
        assert p is not None
        p.active = False
    assert not await access.may_act_on(ctx, actor_of(org.manager), org.agent)
    with pytest.raises(NotAllowed, match="on the roster"):
        await access.current_actor(ctx, actor_of(org.manager))
    # Nobody acts on a switched-off person either.
    assert not await access.may_act_on(ctx, actor_of(org.big_boss), org.manager)


async def test_the_current_lead_of_a_team(ctx: HandlerContext, org: Org) -> None:
    billing = await people.get_team(ctx.db, team_id=org.billing.id or 0)
    assert billing is not None
    members = await people.list_people(ctx.db, team_id=org.billing.id)
    assert billing.lead_id == org.co_lead.id  # the last lead added is the recorded one
    assert access.current_lead(billing, members) == org.co_lead
    # Demoted in place: the team still records them, but they lead nobody.
    assert org.co_lead.id
    assert org.billing.id
    await people.assign_member(
        ctx.db, person_id=org.co_lead.id, team_id=org.billing.id, role=Role.agent
    )
    billing = await people.get_team(ctx.db, team_id=org.billing.id)
    assert billing is not None
    assert billing.lead_id == org.co_lead.id
    members = await people.list_people(ctx.db, team_id=org.billing.id)
    assert access.current_lead(billing, members) == org.lead
    assert await access.leader_for(ctx, org.agent) == org.lead
    # A lead is looked after by the team's manager.
    assert await access.leader_for(ctx, org.lead) == org.manager


async def test_only_team_asks_a_manager_of_several(ctx: HandlerContext, org: Org) -> None:
    assert org.big_boss.id
    assert org.billing.id
    assert org.support.id
    await people.assign_member(
        ctx.db, person_id=org.big_boss.id, team_id=org.billing.id, role=Role.manager
    )
    with pytest.raises(UsageError, match=r"Say which team.*Billing, Support"):
        await access.only_team(ctx, actor_of(org.big_boss), None)
    # From a linked team channel, that team.
    team = await access.only_team(ctx, actor_of(org.big_boss), org.billing.id)
    assert team.id == org.billing.id
    # A channel of a team that isn't theirs doesn't count.
    team = await access.only_team(ctx, actor_of(org.lead), org.support.id)
    assert team.id == org.billing.id
