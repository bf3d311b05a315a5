"""Every command and button family x every role, against docs/architecture.md's rules.

Roles: an agent of Billing (Maria), the owner of an action item their lead assigned
(Oliver, an agent of Billing), Billing's lead (Sam), the lead of another team (Tom),
Billing's manager (Mona), an admin. Agents see their own figures only, leads act on the
agents of their team (never on their manager), managers on the people of the teams
under them, admins configure. A refusal is a clear reply and writes nothing. (Unknown
users are stopped by the adapters before any handler runs: see tests/bot/slack and
tests/bot/teams.)

The role-change matrix at the end demotes, moves and switches off a lead, a manager and
an agent, then runs every command and presses every button sent before the change, with
the actor as it was before and as it is now: each obeys the new role.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from domain.kpi import KpiRow
from domain.roles import Role
from domain.types import Action, Actor, Platform, Reply
from handlers.core.context import HandlerContext
from handlers.core.dispatch import run_action, run_command
from storage import actions as action_store
from storage import kpis, people
from storage.db import Database
from storage.models import (
    ActionItem,
    ActionProposal,
    Goal,
    KudosSuggestion,
    OneOnOne,
    Person,
    PulseDelivery,
    PulseRound,
)
from tests.conftest import FakeClock, actor_of, command, make_person, make_team

ROLES = ("agent", "owner", "lead", "other_lead", "manager", "admin")
A, R = True, False  # allowed, refused

# command line -> allowed per role, in ROLES order. {item} is an item Sam assigned Oliver;
# {req_item} another one Oliver asked to move (a pending request).
COMMAND_MATRIX: list[tuple[str, tuple[bool, ...]]] = [
    # /stats
    ("/stats", (A, A, A, A, A, R)),  # an agent gets their own figures
    ("/stats me", (A, A, A, A, A, A)),
    ("/stats aht week", (A, A, A, A, A, R)),
    ("/stats aht chart week", (A, A, A, A, A, R)),  # as /stats aht week: agents their own
    ("/stats chart aht month", (A, A, A, A, A, R)),
    ("/stats team Billing aht chart week", (R, R, A, R, A, R)),
    ("/stats @oliver.bennett aht chart week", (R, A, A, R, A, R)),
    ("/stats team Billing", (R, R, A, R, A, R)),
    ("/stats team Tech Support", (R, R, R, A, R, R)),
    ("/stats @oliver.bennett", (R, A, A, R, A, R)),
    ("/stats @mona.manager", (R, R, R, R, A, R)),  # a lead never sees their manager's
    ("/stats @sam.carter", (R, R, A, R, A, R)),  # a manager sees the leads under them
    # /goal
    ("/goal", (A, A, A, A, A, A)),
    ("/goal list team Billing", (A, A, A, R, A, R)),
    ("/goal set aht <= 300s team Billing", (R, R, A, R, A, R)),
    ("/goal set aht <= 300s", (R, R, A, A, A, R)),  # each leader's only team
    ("/goal clear aht team Billing", (R, R, A, R, A, R)),
    # /action
    ("/action @oliver.bennett call back the Smith account due tomorrow", (R, A, A, R, A, R)),
    ("/action @mona.manager prepare the rota", (R, R, R, R, A, R)),  # not on one's manager
    ("/action @sam.carter review the QA scores", (R, R, A, R, A, R)),
    ("/action me learn the new CRM", (A, A, A, A, A, A)),
    ("/action list", (A, A, A, A, A, A)),
    ("/action list team", (R, R, A, A, A, R)),
    ("/action list @oliver.bennett", (R, A, A, R, A, R)),
    ("/action list @mona.manager", (R, R, R, R, A, R)),
    ("/action show {item}", (R, A, A, R, A, R)),
    ("/action accept {item}", (R, A, R, R, R, R)),  # only the owner accepts
    ("/action done {item}", (R, A, A, R, A, R)),
    ("/action due {item} friday", (R, A, A, R, A, R)),  # the owner's is a request
    ("/action cancel {item} not needed", (R, A, A, R, A, R)),  # the owner's is a request
    ("/action reassign {item} @maria.lopez", (R, R, A, R, A, R)),  # the owner may not
    ("/action approve {req_item}", (R, R, A, R, A, R)),  # never the owner themselves
    ("/action decline {req_item} needed this week", (R, R, A, R, A, R)),
    # /1on1 ({1on1} is Sam's with Oliver)
    ("/1on1", (A, A, A, A, A, A)),
    ("/1on1 list", (A, A, A, A, A, A)),
    ("/1on1 schedule @oliver.bennett every 2 weeks mon 10:00", (R, R, A, R, A, R)),
    ("/1on1 schedule @mona.manager every 2 weeks mon 10:00", (R, R, R, R, R, R)),
    ("/1on1 schedule @sam.carter every 2 weeks mon 10:00", (R, R, R, R, A, R)),
    ("/1on1 move @oliver.bennett 2026-11-26 14:30", (R, R, A, R, R, R)),  # Sam holds it
    ("/1on1 done @oliver.bennett talked about the rota", (R, R, A, R, R, R)),
    ("/1on1 skip @oliver.bennett on leave", (R, R, A, R, R, R)),
    ("/1on1 cancel @oliver.bennett", (R, R, A, R, R, R)),
    ("/1on1 prep @oliver.bennett", (R, R, A, R, A, R)),
    ("/1on1 prep @mona.manager", (R, R, R, R, R, R)),  # never one's manager's prep card
    ("/1on1 prep @sam.carter", (R, R, R, R, A, R)),
    ("/1on1 agenda my weekend shifts", (R, A, R, R, R, R)),  # Oliver has a 1:1
    ("/1on1 agenda @oliver.bennett the new rota", (R, R, A, R, R, R)),
    # /pulse
    ("/pulse results team Billing", (R, R, A, R, A, R)),
    ("/pulse status team Billing", (A, A, A, R, A, A)),  # an agent: their own pulse to answer
    ('/pulse question "How supported did you feel?" team Billing', (R, R, A, R, A, A)),
    ("/pulse schedule weekly fri 15:00 team Billing", (R, R, A, R, A, A)),  # admins configure
    ("/pulse enps off team Billing", (R, R, A, R, A, A)),
    ("/pulse results", (R, R, A, A, A, R)),  # each their own teams; admins configure only
    ("/pulse question team Billing", (R, R, A, R, A, A)),  # shows it
    ("/pulse schedule team Billing", (R, R, A, R, A, A)),
    ("/pulse schedule off team Billing", (R, R, A, R, A, A)),
    ("/pulse enps on team Billing", (R, R, A, R, A, A)),
    ("/pulse now team Tech Support", (R, R, R, A, R, A)),  # Billing's round is already open
    ("/pulse now team Billing", (R, R, R, R, R, R)),  # one open round at a time
    ("/pulse status", (A, A, A, A, A, R)),  # an admin must name the team
    ("/pulse", (A, A, A, A, A, R)),
    ("/pulse mine", (A, A, A, A, A, A)),  # always one's own answers only
    # /leadbot
    ("/leadbot whoami", (A, A, A, A, A, A)),
    ("/leadbot team list", (A, A, A, A, A, A)),
    ("/leadbot team create Retention tz=Europe/Berlin", (R, R, R, R, R, A)),
    ("/leadbot team add @oliver.bennett Billing as lead", (R, R, R, R, R, A)),
    ("/leadbot team lead Billing @oliver.bennett", (R, R, R, R, R, A)),
    ("/leadbot team timezone Billing Europe/Dublin", (R, R, R, R, A, A)),  # and its manager
    ("/leadbot team post Billing 08:30 Mon-Sat", (R, R, R, R, A, A)),
    ("/leadbot person move @oliver.bennett Tech Support", (R, R, R, R, R, A)),
    ("/leadbot person deactivate @oliver.bennett", (R, R, R, R, R, A)),
    ("/leadbot setup", (R, R, R, R, R, A)),
    # /kudos
    ("/kudos @maria.lopez great save on the Smith call", (R, A, A, A, A, A)),
    ("/kudos @oliver.bennett great save on the Smith call", (A, R, A, A, A, A)),  # not oneself
    ("/kudos mine", (A, A, A, A, A, A)),
    ("/kudos top", (A, A, A, A, A, R)),  # the admin is in no team
    ("/kudos values add empathy", (R, R, R, R, R, A)),
]


@dataclasses.dataclass
class World:
    ctx: HandlerContext
    by_role: dict[str, Person]
    oliver: Person
    item_id: int  # Sam assigned it to Oliver
    req_item_id: int  # Sam assigned it to Oliver, who asked to move it
    proposal_id: int
    met_item_id: int  # linked to AHT <= 5:00, met for five working days
    unmet_item_id: int  # linked to AHT <= 3:00, not met
    one_on_one_id: int  # Sam's with Oliver
    round_id: int
    suggestion_id: int

    def values(self) -> dict[str, int]:
        return {
            "item": self.item_id,
            "req_item": self.req_item_id,
            "req": self.proposal_id,
            "met": self.met_item_id,
            "unmet": self.unmet_item_id,
            "1on1": self.one_on_one_id,
            "round": self.round_id,
            "sid": self.suggestion_id,
            "oliver": self.oliver.id or 0,
        }


async def _items(db: Database, now: dt.datetime, oliver: Person, lead: Person) -> list[int]:
    assert oliver.id
    async with db.session() as s:

        def item(title: str, **kw: object) -> ActionItem:
            return ActionItem(
                title=title,
                owner_id=oliver.id,
                assigned_by_id=lead.id,
                team_id=oliver.team_id,
                due_date=(now + dt.timedelta(days=7)).date(),
                created_at=now - dt.timedelta(days=10),
                **kw,  # type: ignore[arg-type]
            )

        rows = [
            item("Shadow a senior agent"),
            item("Call back the Smith account"),
            item("Shorten wrap-up", metric_key="aht", metric_op="<=", metric_target=300.0),
            item("Halve wrap-up", metric_key="aht", metric_op="<=", metric_target=180.0),
        ]
        s.add_all(rows)
        await s.flush()
        s.add(
            ActionProposal(
                item_id=rows[1].id or 0,
                kind="due",
                due_date=(now + dt.timedelta(days=14)).date(),
                from_due=rows[1].due_date,
                proposed_by_id=oliver.id,
                created_at=now,
            )
        )
        await s.flush()
        return [r.id or 0 for r in rows]


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
    item_id, req_item_id, met_id, unmet_id = await _items(db, now, oliver, lead)
    # Oliver's AHT on the five working days 10-16 Nov: 4:10, 40 contacts a day.
    await kpis.upsert_values(
        db,
        rows=[
            KpiRow(dt.date(2026, 11, d), "aht", 250.0, oliver.id, billing.id, 40)
            for d in (10, 11, 12, 13, 16)
        ],
    )
    async with db.session() as s:
        rnd = PulseRound(
            team_id=billing.id,
            question="How satisfied are you with your work this week?",
            opens_at=now - dt.timedelta(hours=1),
            closes_at=now + dt.timedelta(hours=71),
        )
        goal = Goal(team_id=billing.id, metric_key="aht", op="<=", target=320, set_by_id=lead.id)
        o = OneOnOne(
            lead_id=lead.id,
            agent_id=oliver.id,
            weekday=1,
            local_time="10:00",
            timezone="Europe/London",
            next_at=dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC),
            created_at=now - dt.timedelta(days=1),
        )
        sug = KudosSuggestion(
            key="streak:oliver",
            team_id=billing.id,
            person_id=oliver.id,
            kind="streak",
            detail="five days in a row on the AHT goal",
        )
        s.add_all([rnd, goal, o, sug])
        await s.flush()
        assert rnd.id
        for p in (maria, oliver):
            s.add(PulseDelivery(round_id=rnd.id, person_id=p.id))
        round_id, one_on_one_id, sid = rnd.id, o.id or 0, sug.id or 0
    proposal = await action_store.pending_proposal(db, item_id=req_item_id)
    assert proposal is not None
    by_role = {
        "agent": maria,
        "owner": oliver,
        "lead": lead,
        "other_lead": other_lead,
        "manager": (await people.get_person(db, person_id=manager.id)) or manager,
        "admin": admin,
    }
    return World(
        ctx,
        by_role,
        oliver,
        item_id,
        req_item_id,
        proposal.id or 0,
        met_id,
        unmet_id,
        one_on_one_id,
        round_id,
        sid,
    )


async def _counts(db: Database) -> dict[str, int]:
    async with db.engine.connect() as conn:
        return {
            t.name: int(
                (await conn.execute(sa.select(sa.func.count()).select_from(t))).scalar_one()
            )
            for t in SQLModel.metadata.sorted_tables
        }


async def _state(db: Database) -> tuple[dict[str, int], str]:
    """Row counts plus the mutable fields commands change, to catch in-place edits."""
    queries = {
        "items": "SELECT id, status, due_date, owner_id FROM actionitem ORDER BY id",
        "goals": "SELECT id, target, active FROM goal ORDER BY id",
        "people": "SELECT id, role, team_id FROM person ORDER BY id",
        "proposals": "SELECT id, status FROM actionproposal ORDER BY id",
        "1on1s": "SELECT id, active, next_at FROM oneonone ORDER BY id",
        "suggestions": "SELECT id, status FROM kudossuggestion ORDER BY id",
        "pulse": "SELECT team_id, cadence, question, enps_monthly FROM pulseschedule ORDER BY 1",
    }
    async with db.engine.connect() as conn:
        found = {k: (await conn.execute(sa.text(q))).all() for k, q in queries.items()}
    return await _counts(db), repr(found)


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
    cmd = await command(db, actor, line.format(**world.values()))
    reply: Reply = await run_command(cmd, world.ctx)
    assert "something went wrong" not in reply.fallback
    if allowed:
        assert reply.ok, f"{role} should be allowed: {line}\n{reply.fallback}"
    else:
        assert not reply.ok, f"{role} should be refused: {line}\n{reply.fallback}"
        assert await _state(db) == before, f"a refused command changed something: {line}"


# button family -> (action id, value template, form), who may press it, and whether
# pressing it (when allowed) writes something.
BUTTON_MATRIX: list[tuple[str, str, dict[str, str], tuple[bool, ...], bool]] = [
    ("action.done", "{item}", {}, (R, A, A, R, A, R), True),
    ("action.accept", "{item}", {}, (R, A, R, R, R, R), True),  # only the owner accepts
    ("action.help", "{item}", {"message": "which account?"}, (R, A, R, R, R, R), True),
    ("action.show", "{item}", {}, (R, A, A, R, A, R), False),
    ("action.achieved", "{met}", {}, (R, A, A, R, A, R), True),  # evidence holds
    ("action.achieved", "{unmet}", {}, (R, R, R, R, R, R), False),  # not met: nobody
    ("action.approve", "{req_item}:{req}", {}, (R, R, A, R, A, R), True),
    ("action.decline", "{req_item}:{req}", {"reason": "no"}, (R, R, A, R, A, R), True),
    ("action.create", "one_on_one:{1on1}:{oliver}", {"title": "x"}, (R, A, A, R, A, R), True),
    ("oneonone.prep", "{1on1}", {}, (R, R, A, R, R, R), False),  # whoever holds it now
    ("oneonone.done", "{1on1}", {"notes": "good chat"}, (R, R, A, R, R, R), True),
    ("pulse.answer", "{round}:esat:4", {}, (A, A, R, R, R, R), True),  # agents asked only
    ("pulse.answer", "{round}:enps:9", {}, (R, R, R, R, R, R), False),  # no eNPS asked
    ("pulse.answer", "{round}:esat:4:{item}", {}, (R, R, R, R, R, R), False),  # forged
    ("pulse.comment", "{round}", {}, (R, R, R, R, R, R), False),  # a comment needs a score
    ("pulse.unknown", "{round}", {}, (R, R, R, R, R, R), False),
    ("kudos.suggest.dismiss", "{sid}", {}, (R, R, A, R, A, R), True),
]


def _button_cases() -> list[tuple[str, str, dict[str, str], str, bool, bool]]:
    return [
        (aid, value, form, role, allowed[i], writes)
        for aid, value, form, allowed, writes in BUTTON_MATRIX
        for i, role in enumerate(ROLES)
    ]


@pytest.mark.parametrize(
    ("action_id", "value", "form", "role", "allowed", "writes"), _button_cases()
)
async def test_button_matrix(
    world: World,
    db: Database,
    action_id: str,
    value: str,
    form: dict[str, str],
    role: str,
    allowed: bool,
    writes: bool,
) -> None:
    actor = actor_of(world.by_role[role])
    before = await _state(db)
    action = Action(
        actor=actor, action_id=action_id, value=value.format(**world.values()), form=form
    )
    reply = await run_action(action, world.ctx)
    assert "something went wrong" not in reply.fallback
    if allowed:
        assert reply.ok, f"{role} should be allowed to press {action_id}\n{reply.fallback}"
        if writes:
            assert await _state(db) != before, f"{action_id} by {role} changed nothing"
    else:
        assert not reply.ok, f"{role} should be refused {action_id}\n{reply.fallback}"
        assert await _state(db) == before, f"a refused {action_id} changed something"


# Channel links, run in a Slack channel (the adapter passes it): the team's lead, its
# manager and admins choose a team's channel; nobody else, and a refusal changes nothing.
CHANNEL_MATRIX: list[tuple[str, tuple[bool, ...]]] = [
    ("/leadbot link team Billing", (R, R, A, R, A, A)),
    ("/leadbot link team Tech Support", (R, R, R, A, R, A)),
    ("/leadbot unlink team Billing", (R, R, A, R, A, A)),
]


async def _channels(db: Database) -> str:
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            sa.text("SELECT id, slack_channel_id, channel_linked_by FROM team ORDER BY id")
        )
        return repr(rows.all())


@pytest.mark.parametrize(
    ("line", "role", "allowed"),
    [(line, role, ok[i]) for line, ok in CHANNEL_MATRIX for i, role in enumerate(ROLES)],
)
async def test_channel_link_matrix(
    world: World, db: Database, line: str, role: str, allowed: bool
) -> None:
    billing = await people.get_team_by_name(db, name="Billing")
    assert billing is not None
    assert billing.id is not None
    if "unlink" in line:
        await people.link_channel(
            db, team_id=billing.id, platform="slack", channel_ref="COLD", by=None
        )
    before = (await _state(db), await _channels(db))
    cmd = await command(db, world.by_role[role], line, platform=Platform.slack)
    cmd = dataclasses.replace(cmd, channel_ref="C0NEW", channel_name="#floor")
    reply: Reply = await run_command(cmd, world.ctx)
    assert "something went wrong" not in reply.fallback
    if allowed:
        assert reply.ok, f"{role} should be allowed: {line}\n{reply.fallback}"
        assert await _channels(db) != before[1]
    else:
        assert not reply.ok, f"{role} should be refused: {line}\n{reply.fallback}"
        assert (await _state(db), await _channels(db)) == before, (
            f"a refused {line} changed something"
        )


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


@pytest.mark.parametrize("line", ["/action due {item} friday", "/action cancel {item} no time"])
async def test_the_owner_only_asks_to_move_or_cancel_an_assigned_item(
    world: World, db: Database, line: str
) -> None:
    before = await action_store.get(db, item_id=world.item_id)
    reply = await run_command(
        await command(db, world.oliver, line.format(**world.values())), world.ctx
    )
    assert reply.ok, reply.fallback
    assert "Sam Carter" in reply.fallback  # who was asked
    after = await action_store.get(db, item_id=world.item_id)
    assert before is not None
    assert after is not None
    assert (after.status, after.due_date) == (before.status, before.due_date)
    pending = await action_store.pending_proposal(db, item_id=world.item_id)
    assert pending is not None
    assert pending.proposed_by_id == world.oliver.id


async def test_missing_and_forbidden_ids_answer_alike(world: World, db: Database) -> None:
    """Another team's item and an item that doesn't exist get the same words, for every
    sub-command and button that takes an item id."""
    tom = world.by_role["other_lead"]
    missing = 99999
    lines = [
        "/action show {}",
        "/action accept {}",
        "/action done {}",
        "/action due {} friday",
        "/action cancel {} not needed",
        "/action reassign {} @tess.tech",
        "/action approve {}",
        "/action decline {} no",
    ]
    for line in lines:
        theirs = await run_command(await command(db, tom, line.format(world.item_id)), world.ctx)
        nothing = await run_command(await command(db, tom, line.format(missing)), world.ctx)
        assert not theirs.ok
        assert not nothing.ok
        assert theirs.fallback.replace(str(world.item_id), "N") == nothing.fallback.replace(
            str(missing), "N"
        ), line
    for action_id in ("action.show", "action.done", "action.accept", "action.achieved"):
        answers = [
            (
                await run_action(Action(actor_of(tom), action_id, str(n)), world.ctx)
            ).fallback.replace(str(n), "N")
            for n in (world.item_id, missing)
        ]
        assert answers[0] == answers[1], action_id
    answers = [
        (await run_action(Action(actor_of(tom), "action.approve", v), world.ctx)).fallback
        for v in (f"{world.req_item_id}:{world.proposal_id}", f"{world.req_item_id}:{missing}")
    ]
    assert answers[0] == answers[1]


# --- role changes ---------------------------------------------------------------------


async def _set(db: Database, who: Person, **fields: object) -> None:
    async with db.session() as s:
        p = await s.get(Person, who.id)
        assert p is not None
        for k, v in fields.items():
            setattr(p, k, v)


async def _demote(db: Database, w: World, role: str) -> None:
    p = w.by_role[role]
    assert p.id
    assert p.team_id
    await people.assign_member(db, person_id=p.id, team_id=p.team_id, role=Role.agent)


async def _move(db: Database, w: World, role: str) -> None:
    """To Tech Support as an agent (a manager: to manage Tech, Billing getting another)."""
    tech = await people.get_team_by_name(db, name="Tech Support")
    billing = await people.get_team_by_name(db, name="Billing")
    assert tech is not None
    assert billing is not None
    assert tech.id
    assert billing.id
    p = w.by_role[role]
    assert p.id
    if role == "manager":
        await people.assign_member(db, person_id=p.id, team_id=tech.id, role=Role.manager)
        other = await make_person(db, "max.manager", role=Role.agent)
        assert other.id
        await people.assign_member(db, person_id=other.id, team_id=billing.id, role=Role.manager)
        return
    await people.assign_member(db, person_id=p.id, team_id=tech.id, role=Role.agent)


async def _switch_off(db: Database, w: World, role: str) -> None:
    await _set(db, w.by_role[role], active=False)


CHANGES: dict[str, Callable[[Database, World, str], Awaitable[None]]] = {
    "demoted": _demote,
    "moved": _move,
    "switched off": _switch_off,
}

# Commands a lead or manager of Billing may run (all allowed before the change).
LEADER_COMMANDS = (
    "/stats team Billing",
    "/stats @oliver.bennett",
    "/goal set aht <= 300s team Billing",
    "/action @oliver.bennett call back the Smith account",
    "/action show {item}",
    "/action done {item}",
    "/action due {item} friday",
    "/action cancel {item} not needed",
    "/action approve {req_item}",
    "/action list @oliver.bennett",
    "/1on1 prep @oliver.bennett",
    "/pulse results team Billing",
)
LEAD_ONLY = (
    "/1on1 done @oliver.bennett talked",
    "/1on1 skip @oliver.bennett on leave",
    "/1on1 agenda @oliver.bennett the rota",
)
# Buttons sent to a lead or manager of Billing before the change.
Press = tuple[str, str, dict[str, str]]  # action id, value template, form
LEADER_BUTTONS: tuple[Press, ...] = (
    ("action.show", "{item}", {}),
    ("action.done", "{item}", {}),
    ("action.achieved", "{met}", {}),
    ("action.approve", "{req_item}:{req}", {}),
    ("action.decline", "{req_item}:{req}", {"reason": "no"}),
    ("action.create", "one_on_one:{1on1}:{oliver}", {"title": "x"}),
    ("kudos.suggest.dismiss", "{sid}", {}),
)
LEAD_BUTTONS: tuple[Press, ...] = (
    ("oneonone.prep", "{1on1}", {}),
    ("oneonone.done", "{1on1}", {"notes": "n"}),
)


def _role_change_cases() -> list[tuple[str, str]]:
    return [(role, change) for role in ("lead", "manager") for change in CHANGES]


async def _refused_everywhere(
    w: World,
    db: Database,
    who: Person,
    stale: Actor,
    lines: tuple[str, ...],
    buttons: tuple[Press, ...],
) -> None:
    fresh = await people.get_person(db, person_id=who.id or 0)
    assert fresh is not None
    for actor in (stale, actor_of(fresh)):
        for line in lines:
            before = await _state(db)
            cmd = await command(db, fresh, line.format(**w.values()))
            reply = await run_command(dataclasses.replace(cmd, actor=actor), w.ctx)
            assert not reply.ok, f"{line} by {actor.role}: {reply.fallback}"
            assert "something went wrong" not in reply.fallback
            assert await _state(db) == before, line
        for action_id, value, form in buttons:
            before = await _state(db)
            action = Action(actor, action_id, value.format(**w.values()), form)
            reply = await run_action(action, w.ctx)
            assert not reply.ok, f"{action_id} by {actor.role}: {reply.fallback}"
            assert "something went wrong" not in reply.fallback
            assert await _state(db) == before, action_id


@pytest.mark.parametrize(("role", "change"), _role_change_cases())
async def test_a_changed_leader_loses_the_team_at_once(
    world: World, db: Database, role: str, change: str
) -> None:
    who = world.by_role[role]
    stale = actor_of(who)  # the actor as a button sent before the change knew them
    lines = LEADER_COMMANDS + (LEAD_ONLY if role == "lead" else ())
    buttons = LEADER_BUTTONS + (LEAD_BUTTONS if role == "lead" else ())
    await CHANGES[change](db, world, role)
    await _refused_everywhere(world, db, who, stale, lines, buttons)


@pytest.mark.parametrize("change", ["moved", "switched off", "promoted"])
async def test_a_changed_agent_obeys_the_new_role(world: World, db: Database, change: str) -> None:
    """Oliver (the owner) moved to Tech Support, switched off, or made Tech's lead."""
    oliver, sam, tom = world.oliver, world.by_role["lead"], world.by_role["other_lead"]
    stale = actor_of(oliver)
    tech = await people.get_team_by_name(db, name="Tech Support")
    assert tech is not None
    assert tech.id
    assert oliver.id
    if change == "switched off":
        await _set(db, oliver, active=False)
    else:
        new_role = Role.lead if change == "promoted" else Role.agent
        await people.assign_member(db, person_id=oliver.id, team_id=tech.id, role=new_role)
    show = "/action show {item}".format(**world.values())
    if change == "switched off":
        # Nothing he sent or was sent works for him; his lead looks after his items.
        lines = ("/action show {item}", "/stats me", "/1on1 agenda hi")
        buttons: tuple[Press, ...] = (
            ("action.accept", "{item}", {}),
            ("action.help", "{item}", {"message": "?"}),
        )
        await _refused_everywhere(world, db, oliver, stale, lines, buttons)
        assert (await run_command(await command(db, sam, show), world.ctx)).ok
        return
    # He still owns his item; Billing's lead no longer leads him, Tech's lead does.
    assert (await run_command(await command(db, oliver, show), world.ctx)).ok
    expect_tom = change == "moved"  # a lead leads agents only: Tom can't act on a lead
    for line in ("/action show {item}", "/1on1 prep @oliver.bennett", "/stats @oliver.bennett"):
        text = line.format(**world.values())
        by_sam = await run_command(await command(db, sam, text), world.ctx)
        assert not by_sam.ok, (line, by_sam.fallback)
        by_tom = await run_command(await command(db, tom, text), world.ctx)
        assert by_tom.ok is expect_tom, (line, by_tom.fallback)
    for action_id, value in (("oneonone.prep", "{1on1}"), ("action.show", "{item}")):
        reply = await run_action(
            Action(actor_of(sam), action_id, value.format(**world.values())), world.ctx
        )
        assert not reply.ok, action_id


@pytest.mark.parametrize(("role", "allowed"), list(zip(ROLES, (A, A, R, R, R, R), strict=True)))
async def test_pulse_comment_matrix(world: World, db: Database, role: str, allowed: bool) -> None:
    """A comment beside one's own answer: only an agent who was asked, and only after a
    score (every role taps first; the taps of those not asked record nothing)."""
    actor = actor_of(world.by_role[role])
    await run_action(Action(actor, "pulse.answer", f"{world.round_id}:esat:4"), world.ctx)
    before = await _state(db), await _comments(db)
    reply = await run_action(
        Action(actor, "pulse.comment", str(world.round_id), form={"comment": "More breaks"}),
        world.ctx,
    )
    assert "something went wrong" not in reply.fallback
    if allowed:
        assert reply.ok, reply.fallback
        assert await _comments(db) == ["More breaks"]
    else:
        assert not reply.ok, reply.fallback
        assert (await _state(db), await _comments(db)) == before


async def _comments(db: Database) -> list[str]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(sa.text("SELECT comment FROM pulseresponse ORDER BY comment"))
        return [str(c) for c in rows.scalars() if c is not None]
