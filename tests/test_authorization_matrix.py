"""Every command and button family x every role, against docs/architecture.md's rules.

Roles: an agent of Billing, Billing's lead, the lead of another team, Billing's manager,
an admin. Agents see their own figures only, leads their team, managers the teams under
them, admins configure. A refusal is a clear reply and writes nothing. (Unknown users are
stopped by the adapters before any handler runs: see tests/bot/slack and tests/bot/teams.)
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from domain.roles import Role
from domain.types import Action, Reply
from handlers.core.context import HandlerContext
from handlers.core.dispatch import run_action, run_command
from storage import people
from storage.db import Database
from storage.models import ActionItem, Goal, Person, PulseDelivery, PulseRound
from tests.conftest import FakeClock, actor_of, command, make_person, make_team

ROLES = ("agent", "lead", "other_lead", "manager", "admin")
A, R = True, False  # allowed, refused

# command line -> allowed per role, in ROLES order. {item} is an action item of Oliver's.
COMMAND_MATRIX: list[tuple[str, tuple[bool, ...]]] = [
    ("/stats team Billing", (R, A, R, A, R)),
    ("/stats @oliver.bennett", (R, A, R, A, R)),
    ("/stats aht week", (A, A, A, A, R)),  # an agent gets their own figure
    ("/goal set aht <= 300s team Billing", (R, A, R, A, R)),
    ("/goal clear aht team Billing", (R, A, R, A, R)),
    ("/action @oliver.bennett call back the Smith account due tomorrow", (R, A, R, A, R)),
    ("/action show {item}", (R, A, R, A, R)),
    ("/action done {item}", (R, A, R, A, R)),
    ("/action due {item} tomorrow", (R, A, R, A, R)),
    ("/action cancel {item} not needed", (R, A, R, A, R)),
    ("/action list @oliver.bennett", (R, A, R, A, R)),
    ("/1on1 schedule @oliver.bennett every 2 weeks mon 10:00", (R, A, R, A, R)),
    ("/1on1 prep @oliver.bennett", (R, A, R, A, R)),
    ("/pulse results team Billing", (R, A, R, A, R)),
    ('/pulse question "How supported did you feel?" team Billing', (R, A, R, A, A)),
    ("/pulse schedule weekly fri 15:00 team Billing", (R, A, R, A, A)),  # admins configure
    ("/leadbot team create Retention tz=Europe/Berlin", (R, R, R, R, A)),
    ("/leadbot team add @oliver.bennett Billing as lead", (R, R, R, R, A)),
    ("/leadbot team lead Billing @oliver.bennett", (R, R, R, R, A)),
    ("/leadbot team timezone Billing Europe/Dublin", (R, R, R, A, A)),  # and its manager
    ("/leadbot team post Billing 08:30 Mon-Sat", (R, R, R, A, A)),
    ("/leadbot person move @oliver.bennett Tech Support", (R, R, R, R, A)),
    ("/leadbot person deactivate @oliver.bennett", (R, R, R, R, A)),
    ("/leadbot setup", (R, R, R, R, A)),
    ("/kudos values add empathy", (R, R, R, R, A)),
    ("/kudos @oliver.bennett great save on the Smith call", (A, A, A, A, A)),
    ("/stats me", (A, A, A, A, A)),
    ("/pulse mine", (A, A, A, A, A)),  # always one's own answers only
]


@dataclasses.dataclass
class World:
    ctx: HandlerContext
    by_role: dict[str, Person]
    oliver: Person
    item_id: int
    round_id: int


@pytest.fixture
async def world(db: Database, clock: FakeClock, ctx: HandlerContext) -> World:
    billing = await make_team(db, "Billing", "Europe/London")
    tech = await make_team(db, "Tech Support", "America/New_York")
    maria = await make_person(db, "maria.lopez", team=billing)
    oliver = await make_person(db, "oliver.bennett", team=billing)
    lead = await make_person(db, "sam.carter", role=Role.lead, team=billing)
    other_lead = await make_person(db, "tom.other", role=Role.lead, team=tech)
    await make_person(db, "tess.tech", team=tech)
    manager = await make_person(db, "mona.manager", role=Role.manager, team=billing)
    admin = await make_person(db, "ada.admin", role=Role.admin)
    assert billing.id
    assert manager.id
    assert oliver.id
    assert lead.id
    assert maria.id
    await people.assign_member(db, person_id=manager.id, team_id=billing.id, role=Role.manager)
    now = clock()
    async with db.session() as s:
        item = ActionItem(
            title="Shadow a senior agent",
            owner_id=oliver.id,
            assigned_by_id=lead.id,
            team_id=billing.id,
            due_date=(now + dt.timedelta(days=7)).date(),
        )
        rnd = PulseRound(
            team_id=billing.id,
            question="How satisfied are you with your work this week?",
            opens_at=now - dt.timedelta(hours=1),
            closes_at=now + dt.timedelta(hours=71),
        )
        goal = Goal(team_id=billing.id, metric_key="aht", op="<=", target=320, set_by_id=lead.id)
        s.add_all([item, rnd, goal])
        await s.flush()
        assert item.id
        assert rnd.id
        for p in (maria, oliver):
            s.add(PulseDelivery(round_id=rnd.id, person_id=p.id))
        item_id, round_id = item.id, rnd.id
    by_role = {
        "agent": maria,
        "lead": lead,
        "other_lead": other_lead,
        "manager": (await people.get_person(db, person_id=manager.id)) or manager,
        "admin": admin,
    }
    return World(ctx=ctx, by_role=by_role, oliver=oliver, item_id=item_id, round_id=round_id)


async def _counts(db: Database) -> dict[str, int]:
    async with db.engine.connect() as conn:
        return {
            t.name: int(
                (await conn.execute(sa.select(sa.func.count()).select_from(t))).scalar_one()
            )
            for t in SQLModel.metadata.sorted_tables
        }


async def _state(db: Database) -> tuple[dict[str, int], str]:
    """Row counts plus the mutable fields most commands change, to catch in-place edits."""
    async with db.engine.connect() as conn:
        items = (
            await conn.execute(
                sa.text("SELECT id, status, due_date, owner_id FROM actionitem ORDER BY id")
            )
        ).all()
        goals = (
            await conn.execute(sa.text("SELECT id, target, active FROM goal ORDER BY id"))
        ).all()
        people_ = (
            await conn.execute(sa.text("SELECT id, role, team_id FROM person ORDER BY id"))
        ).all()
    return await _counts(db), repr((items, goals, people_))


def _cases() -> list[tuple[str, str, bool]]:
    return [
        (line, role, allowed[i]) for line, allowed in COMMAND_MATRIX for i, role in enumerate(ROLES)
    ]


@pytest.mark.parametrize(("line", "role", "allowed"), _cases())
async def test_command_matrix(
    world: World, db: Database, line: str, role: str, allowed: bool
) -> None:
    actor = world.by_role[role]
    before = await _state(db)
    cmd = await command(db, actor, line.format(item=world.item_id))
    reply: Reply = await run_command(cmd, world.ctx)
    assert "something went wrong" not in reply.fallback
    if allowed:
        assert reply.ok, f"{role} should be allowed: {line}\n{reply.fallback}"
    else:
        assert not reply.ok, f"{role} should be refused: {line}\n{reply.fallback}"
        assert await _state(db) == before, f"a refused command changed something: {line}"


# button family -> (action id, value template) and who may press it.
BUTTON_MATRIX: list[tuple[str, str, tuple[bool, ...]]] = [
    ("action.done", "{item}", (R, A, R, A, R)),
    ("action.accept", "{item}", (R, R, R, R, R)),  # only the owner accepts
    ("pulse.answer", "{round}:esat:4", (A, R, R, R, R)),  # only agents who were asked
]


def _button_cases() -> list[tuple[str, str, str, bool]]:
    return [
        (aid, value, role, allowed[i])
        for aid, value, allowed in BUTTON_MATRIX
        for i, role in enumerate(ROLES)
    ]


@pytest.mark.parametrize(("action_id", "value", "role", "allowed"), _button_cases())
async def test_button_matrix(
    world: World, db: Database, action_id: str, value: str, role: str, allowed: bool
) -> None:
    actor = actor_of(world.by_role[role])
    before = await _state(db)
    action = Action(
        actor=actor,
        action_id=action_id,
        value=value.format(item=world.item_id, round=world.round_id),
    )
    reply = await run_action(action, world.ctx)
    assert "something went wrong" not in reply.fallback
    if allowed:
        assert reply.ok, f"{role} should be allowed to press {action_id}\n{reply.fallback}"
        assert await _state(db) != before, f"{action_id} by {role} changed nothing"
    else:
        assert not reply.ok, f"{role} should be refused {action_id}\n{reply.fallback}"
        assert await _state(db) == before, f"a refused {action_id} changed something"


async def test_the_owner_may_accept_and_finish(world: World, db: Database) -> None:
    owner = actor_of(world.oliver)
    for action_id in ("action.accept", "action.done"):
        reply = await run_action(
            Action(actor=owner, action_id=action_id, value=str(world.item_id)), world.ctx
        )
        assert reply.ok, reply.fallback
    async with db.session() as s:
        item = await s.get(ActionItem, world.item_id)
        assert item is not None
        assert item.status.value == "done"
