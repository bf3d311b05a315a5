"""`/pulse` and its buttons: answering, changing, closed rounds, forged values, results
behind the privacy threshold, complementary suppression and `/pulse mine`."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from domain.roles import Role
from domain.types import Action, Reply
from handlers.core.context import HandlerContext
from handlers.core.dispatch import run_action, run_command
from handlers.pulse import DEFAULT_QUESTION, TOO_FEW
from handlers.registry import build_registry
from storage import pulse as store
from storage.db import Database
from storage.models import (
    OutboxMessage,
    Person,
    PulseDelivery,
    PulseResponse,
    PulseRound,
    PulseSchedule,
    Team,
)
from tests.conftest import (
    FakeClock,
    actor_of,
    command,
    make_ctx,
    make_person,
    make_team,
    unchecked_settings,
)


@dataclasses.dataclass
class Crew:
    team: Team
    lead: Person
    agents: list[Person]


async def make_crew(db: Database, name: str, n_agents: int, *, tz: str = "Europe/London") -> Crew:
    team = await make_team(db, name, tz=tz)
    slug = name.lower().replace(" ", "")
    lead = await make_person(db, f"lead.{slug}", role=Role.lead, team=team, tz=tz)
    agents = [await make_person(db, f"agent{i}.{slug}", team=team, tz=tz) for i in range(n_agents)]
    team.lead_id = lead.id
    return Crew(team, lead, agents)


async def run(db: Database, ctx: HandlerContext, who: Person, line: str) -> Reply:
    return await run_command(await command(db, who, line), ctx)


async def tap(ctx: HandlerContext, who: Person, value: str) -> Reply:
    return await run_action(Action(actor_of(who), "pulse.answer", value), ctx)


async def comment(ctx: HandlerContext, who: Person, round_id: int, text: str) -> Reply:
    return await run_action(
        Action(actor_of(who), "pulse.comment", str(round_id), form={"comment": text}), ctx
    )


async def open_now(db: Database, ctx: HandlerContext, crew: Crew) -> int:
    reply = await run(db, ctx, crew.lead, "/pulse now")
    assert reply.ok, reply.text
    assert crew.team.id is not None
    rnd = await store.latest_round(db, team_id=crew.team.id)
    assert rnd is not None
    assert rnd.id is not None
    return rnd.id


async def responses(db: Database) -> list[PulseResponse]:
    async with db.session() as s:
        return list((await s.execute(select(PulseResponse))).scalars())


async def close_all(db: Database) -> None:
    async with db.session() as s:
        await s.execute(sa.update(PulseRound).values(status="closed"))


def all_text(reply: Reply) -> str:
    return reply.text + "\n" + reply.to_json()


# --- opening a round -----------------------------------------------------------------


async def test_pulse_now_sends_one_dm_per_agent_with_buttons(
    db: Database, ctx: HandlerContext
) -> None:
    crew = await make_crew(db, "Billing", 6)
    reply = await run(db, ctx, crew.lead, "/pulse now")
    assert reply.ok
    assert "6 agents" in reply.text
    async with db.session() as s:
        msgs = list((await s.execute(select(OutboxMessage))).scalars())
        rnd = (await s.execute(select(PulseRound))).scalars().one()
    assert rnd.question == DEFAULT_QUESTION
    assert rnd.include_enps  # the first round of the month asks eNPS too
    assert {m.recipient_person_id for m in msgs} == {a.id for a in crew.agents}
    assert {m.dedupe_key for m in msgs} == {f"pulse:{rnd.id}:{a.id}" for a in crew.agents}
    payload = Reply.from_json(msgs[0].payload)
    values = [b.value for blk in payload.blocks if blk.kind == "buttons" for b in blk.buttons]
    assert [v for v in values if ":esat:" in v] == [f"{rnd.id}:esat:{s}" for s in range(1, 6)]
    assert [v for v in values if ":enps:" in v] == [f"{rnd.id}:enps:{s}" for s in range(11)]
    # The button values carry the round and the score, never the person.
    for m in msgs:
        assert str(m.recipient_person_id) not in {v.split(":")[0] for v in values} - {str(rnd.id)}
    assert rnd.closes_at - rnd.opens_at == dt.timedelta(hours=72)
    assert rnd.remind_at is not None
    assert rnd.remind_at - rnd.opens_at == dt.timedelta(hours=24)


async def test_second_round_refused_while_one_is_open(db: Database, ctx: HandlerContext) -> None:
    crew = await make_crew(db, "Billing", 3)
    await open_now(db, ctx, crew)
    reply = await run(db, ctx, crew.lead, "/pulse now")
    assert not reply.ok
    assert "already has a round open" in reply.text
    async with db.session() as s:
        assert await s.scalar(sa.select(sa.func.count()).select_from(PulseRound)) == 1


async def test_agents_cannot_open_or_read_results(db: Database, ctx: HandlerContext) -> None:
    crew = await make_crew(db, "Billing", 3)
    for line in ("/pulse now", "/pulse results", "/pulse schedule weekly fri 15:00"):
        reply = await run(db, ctx, crew.agents[0], line)
        assert not reply.ok, line
    async with db.session() as s:
        assert await s.scalar(sa.select(sa.func.count()).select_from(PulseRound)) == 0
        assert await s.scalar(sa.select(sa.func.count()).select_from(PulseSchedule)) == 0


async def test_schedule_and_question(db: Database, ctx: HandlerContext) -> None:
    crew = await make_crew(db, "Billing", 1)
    reply = await run(db, ctx, crew.lead, "/pulse schedule weekly fri 15:00")
    assert reply.ok, reply.text
    assert "every Friday at 15:00 (Europe/London)" in reply.text
    assert "Fri 20 Nov 15:00" in reply.text  # the next round
    reply = await run(db, ctx, crew.lead, '/pulse question "How supported did you feel this week?"')
    assert reply.ok, reply.text
    assert crew.team.id is not None
    sched = await store.get_schedule(db, team_id=crew.team.id)
    assert sched.cadence == "weekly"
    assert sched.weekday == 4
    assert sched.local_time == "15:00"
    assert sched.question == "How supported did you feel this week?"
    # Bad input is explained and changes nothing.
    for line in (
        "/pulse schedule daily",
        "/pulse schedule weekly fri 25:00",
        "/pulse schedule weekly funday",
        "/pulse schedule off now",
        '/pulse question "?"',
    ):
        bad = await run(db, ctx, crew.lead, line)
        assert not bad.ok, line
        assert "Usage" in bad.text, line
    again = await store.get_schedule(db, team_id=crew.team.id)
    assert (again.cadence, again.weekday, again.local_time, again.question) == (
        "weekly",
        4,
        "15:00",
        "How supported did you feel this week?",
    )
    off = await run(db, ctx, crew.lead, "/pulse schedule off")
    assert off.ok
    assert (await store.get_schedule(db, team_id=crew.team.id)).cadence == "off"


async def test_lead_cannot_touch_another_team(db: Database, ctx: HandlerContext) -> None:
    a = await make_crew(db, "Billing", 2)
    await make_crew(db, "Sales", 2)
    reply = await run(db, ctx, a.lead, "/pulse now team Sales")
    assert not reply.ok
    assert "isn't one of your teams" in reply.text
    async with db.session() as s:
        assert await s.scalar(sa.select(sa.func.count()).select_from(PulseRound)) == 0


# --- answering -----------------------------------------------------------------------


async def test_answer_change_and_answer_twice(db: Database, ctx: HandlerContext) -> None:
    crew = await make_crew(db, "Billing", 3)
    rid = await open_now(db, ctx, crew)
    agent = crew.agents[0]
    reply = await tap(ctx, agent, f"{rid}:esat:4")
    assert reply.ok
    assert reply.replace_original
    assert "4" in reply.text
    assert "Satisfied" in reply.text
    labels = [b.label for blk in reply.blocks if blk.kind == "buttons" for b in blk.buttons]
    assert "Add a comment" in labels
    chosen = [
        b.value for blk in reply.blocks if blk.kind == "buttons" for b in blk.buttons if b.style
    ]
    assert chosen == [f"{rid}:esat:4"]
    rows = await responses(db)
    assert [(r.question, r.score) for r in rows] == [("esat", 4)]
    # Change it.
    reply = await tap(ctx, agent, f"{rid}:esat:2")
    assert reply.ok
    assert "Dissatisfied" in reply.text
    rows = await responses(db)
    assert [(r.question, r.score) for r in rows] == [("esat", 2)]
    # The same answer twice is still one answer.
    await tap(ctx, agent, f"{rid}:esat:2")
    assert len(await responses(db)) == 1
    # eNPS is a separate answer of the same respondent.
    reply = await tap(ctx, agent, f"{rid}:enps:9")
    assert reply.ok
    assert sorted((r.question, r.score) for r in await responses(db)) == [("enps", 9), ("esat", 2)]
    async with db.session() as s:
        deliveries = list((await s.execute(select(PulseDelivery))).scalars())
    assert sum(d.answered for d in deliveries) == 1


async def test_late_tap_is_told_the_round_closed(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    crew = await make_crew(db, "Billing", 3)
    rid = await open_now(db, ctx, crew)
    await tap(ctx, crew.agents[0], f"{rid}:esat:5")
    clock.advance(hours=72, seconds=1)
    reply = await tap(ctx, crew.agents[0], f"{rid}:esat:1")
    assert not reply.ok
    assert "closed" in reply.text
    late = await tap(ctx, crew.agents[1], f"{rid}:esat:1")
    assert "closed" in late.text
    assert [r.score for r in await responses(db)] == [5]
    bad = await comment(ctx, crew.agents[0], rid, "too late")
    assert "closed" in bad.text
    assert (await responses(db))[0].comment is None


@pytest.mark.parametrize(
    "value",
    [
        "{rid}:esat:0",
        "{rid}:esat:6",
        "{rid}:enps:11",
        "{rid}:esat:-1",
        "{rid}:nps:3",
        "{rid}:esat:99",
        "{rid}:esat",
        "{rid}",
        "junk",
        "",
        "{rid}:esat:3:{person}",
    ],
)
async def test_forged_values_change_nothing(db: Database, ctx: HandlerContext, value: str) -> None:
    crew = await make_crew(db, "Billing", 3)
    rid = await open_now(db, ctx, crew)
    agent = crew.agents[0]
    reply = await tap(ctx, agent, value.format(rid=rid, person=crew.agents[1].id))
    assert not reply.ok
    assert await responses(db) == []
    async with db.session() as s:
        assert not any(d.answered for d in (await s.execute(select(PulseDelivery))).scalars())


async def test_forged_round_of_another_team_changes_nothing(
    db: Database, ctx: HandlerContext
) -> None:
    billing = await make_crew(db, "Billing", 3)
    sales = await make_crew(db, "Sales", 3)
    rid = await open_now(db, ctx, billing)
    # A Sales agent (never asked in Billing's round) and Billing's lead (not an agent).
    for who in (sales.agents[0], billing.lead):
        reply = await tap(ctx, who, f"{rid}:esat:5")
        assert not reply.ok
        assert "wasn't sent to you" in reply.text
        assert "wasn't sent to you" in (await comment(ctx, who, rid, "hi")).text
    # A round that does not exist.
    assert not (await tap(ctx, billing.agents[0], f"{rid + 99}:esat:5")).ok
    assert await responses(db) == []


async def test_enps_refused_on_a_round_without_it(db: Database, ctx: HandlerContext) -> None:
    crew = await make_crew(db, "Billing", 3)
    await run(db, ctx, crew.lead, "/pulse enps off")
    rid = await open_now(db, ctx, crew)
    reply = await tap(ctx, crew.agents[0], f"{rid}:enps:10")
    assert not reply.ok
    assert await responses(db) == []


async def test_comment_after_answer(db: Database, ctx: HandlerContext) -> None:
    crew = await make_crew(db, "Billing", 3)
    rid = await open_now(db, ctx, crew)
    first = await comment(ctx, crew.agents[0], rid, "More breaks please")
    assert not first.ok
    assert "Pick a score first" in first.text
    await tap(ctx, crew.agents[0], f"{rid}:esat:3")
    reply = await comment(ctx, crew.agents[0], rid, "More breaks please")
    assert reply.ok
    assert [r.comment for r in await responses(db)] == ["More breaks please"]
    too_long = await comment(ctx, crew.agents[0], rid, "x" * 1001)
    assert not too_long.ok
    assert "comment" in too_long.errors
    assert [r.comment for r in await responses(db)] == ["More breaks please"]
    await comment(ctx, crew.agents[0], rid, "   ")
    assert [r.comment for r in await responses(db)] == [None]


async def test_status_shows_counts_never_names(db: Database, ctx: HandlerContext) -> None:
    crew = await make_crew(db, "Billing", 6)
    rid = await open_now(db, ctx, crew)
    await tap(ctx, crew.agents[0], f"{rid}:esat:5")
    await tap(ctx, crew.agents[3], f"{rid}:esat:1")
    reply = await run(db, ctx, crew.lead, "/pulse status")
    assert reply.ok
    text = all_text(reply)
    assert "2 of 6" in text
    for a in crew.agents:
        assert a.display_name not in text
        assert a.email not in text


# --- results and the threshold -------------------------------------------------------


async def answered_round(
    db: Database, ctx: HandlerContext, clock: FakeClock, crew: Crew, scores: list[int]
) -> int:
    """Open a round, have the first len(scores) agents answer, close it, move on a week."""
    rid = await open_now(db, ctx, crew)
    for agent, score in zip(crew.agents, scores, strict=False):
        assert (await tap(ctx, agent, f"{rid}:esat:{score}")).ok
    await close_all(db)
    clock.advance(days=7)
    return rid


async def test_four_answers_hide_everything_five_show(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    crew = await make_crew(db, "Billing", 6)
    await answered_round(db, ctx, clock, crew, [5, 4, 2, 1])
    hidden = await run(db, ctx, crew.lead, "/pulse results")
    assert hidden.ok
    text = all_text(hidden)
    assert TOO_FEW in text
    assert "4 answers" in text
    assert "ESAT (4-5)" not in text
    assert "Mean" not in text
    assert "50%" not in text

    await answered_round(db, ctx, clock, crew, [5, 4, 4, 2, 1])
    shown = await run(db, ctx, crew.lead, "/pulse results")
    text = all_text(shown)
    assert "ESAT (4-5)" in text
    assert "60%" in text  # 3 of 5 answered 4-5
    assert "3.20" in text  # the mean
    assert "5 of 6 (83%)" in text
    # The older 4-answer round stays hidden in the trend.
    assert "hidden" in text


async def test_threshold_never_below_three(db: Database, clock: FakeClock) -> None:
    ctx = HandlerContext(
        db=db,
        settings=unchecked_settings(pulse_min_responses=1),
        registry=build_registry(),
        clock=clock,
    )
    crew = await make_crew(db, "Billing", 4)
    await answered_round(db, ctx, clock, crew, [5, 1])
    text = all_text(await run(db, ctx, crew.lead, "/pulse results"))
    assert TOO_FEW in text
    assert "ESAT (4-5)" not in text
    await answered_round(db, ctx, clock, crew, [5, 1, 3])
    assert "ESAT (4-5)" in all_text(await run(db, ctx, crew.lead, "/pulse results"))


async def test_comments_shown_without_names_only_when_round_is_shown(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    crew = await make_crew(db, "Billing", 5)
    rid = await open_now(db, ctx, crew)
    for i, agent in enumerate(crew.agents):
        await tap(ctx, agent, f"{rid}:esat:{1 + i % 5}")
    await comment(ctx, crew.agents[0], rid, "Secret thought")
    await close_all(db)
    text = all_text(await run(db, ctx, crew.lead, "/pulse results"))
    assert "Secret thought" in text
    for a in crew.agents:
        assert a.display_name not in text
    # With one answer fewer the comment is hidden too.
    async with db.session() as s:
        await s.execute(
            sa.delete(PulseResponse).where(
                col(PulseResponse.comment).is_(None), col(PulseResponse.score) == 5
            )
        )
    text = all_text(await run(db, ctx, crew.lead, "/pulse results"))
    assert "Secret thought" not in text
    assert TOO_FEW in text


async def test_results_ignore_a_hidden_rounds_scores_in_any_window(
    db: Database, clock: FakeClock
) -> None:
    """The difference of two windows cannot isolate a small round: whatever its answers,
    every results view reads the same."""
    outputs = []
    for hidden_scores in ([1, 1, 1], [5, 5, 5]):
        database = Database("sqlite+aiosqlite://")
        await database.create_all()
        c = FakeClock(dt.datetime(2026, 11, 17, 10, 0, tzinfo=dt.UTC))
        ctx = make_ctx(database, c, leadbot_secret="s")
        crew = await make_crew(database, "Billing", 6)
        await answered_round(database, ctx, c, crew, [5, 4, 3, 2, 1, 4])
        await answered_round(database, ctx, c, crew, hidden_scores)
        await answered_round(database, ctx, c, crew, [4, 4, 4, 5, 5])
        texts = []
        for weeks in (1, 2, 3, 4, 12):
            reply = await run(database, ctx, crew.lead, f"/pulse results weeks {weeks}")
            texts.append(reply.to_json())
        outputs.append(texts)
        await database.dispose()
    assert outputs[0] == outputs[1]
    # The small round is listed as hidden with its count, in the windows that include it.
    assert "24 Nov 2026 · 3 · hidden" not in outputs[0][0]
    assert "24 Nov 2026 · 3 · hidden" in outputs[0][-1]


async def manager_view(
    db: Database, ctx: HandlerContext, clock: FakeClock, scores: dict[str, list[int]]
) -> tuple[Person, Reply]:
    manager = await make_person(db, "big.boss", role=Role.manager)
    for name, answers in scores.items():
        crew = await make_crew(db, name, 6)
        async with db.session() as s:
            team = await s.get(Team, crew.team.id)
            assert team is not None
            team.manager_id = manager.id
        rid = await open_now(db, ctx, crew)
        for agent, score in zip(crew.agents, answers, strict=False):
            await tap(ctx, agent, f"{rid}:esat:{score}")
    await close_all(db)
    return manager, await run(db, ctx, manager, "/pulse results")


async def test_manager_sees_each_team_and_smaller_team_is_suppressed(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    _m, reply = await manager_view(
        db, ctx, clock, {"Alpha": [5, 5, 4, 4, 3], "Bravo": [5, 5, 5, 5, 5, 4], "Charlie": [1, 2]}
    )
    text = reply.text
    assert "Pulse: Alpha" in text
    assert "Pulse: Bravo" in text
    assert "Pulse: Charlie" in text
    charlie = text.split("Pulse: Charlie", 1)[1]
    assert TOO_FEW in charlie.split("All teams", 1)[0]
    # Exactly one team hidden: no totals at all, so "all minus the rest" is impossible.
    assert "Totals withheld" in text
    assert "All teams: ESAT" not in text


async def test_difference_attack_blocked(db: Database, clock: FakeClock) -> None:
    """A manager's whole view is the same whatever the hidden team answered."""
    texts = []
    for hidden in ([1, 1, 1, 1], [5, 5, 5, 5]):
        database = Database("sqlite+aiosqlite://")
        await database.create_all()
        c = FakeClock(dt.datetime(2026, 11, 17, 10, 0, tzinfo=dt.UTC))
        ctx = make_ctx(database, c, leadbot_secret="s")
        _m, reply = await manager_view(
            database,
            ctx,
            c,
            {"Alpha": [5, 4, 4, 3, 3], "Bravo": [5, 5, 2, 4, 4, 1], "Charlie": hidden},
        )
        texts.append(reply.to_json())
        await database.dispose()
    import re

    # Comments are shuffled; there are none here, so the views must match exactly.
    assert re.sub(r"\s+", " ", texts[0]) == re.sub(r"\s+", " ", texts[1])


async def test_totals_over_shown_teams_when_two_are_hidden(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    _m, reply = await manager_view(
        db,
        ctx,
        clock,
        {"Alpha": [5, 5, 4, 4, 3], "Bravo": [1, 1], "Charlie": [2, 2], "Delta": [5, 5, 5, 5, 5]},
    )
    text = reply.text
    # Pooled over Alpha and Delta only: 9 of 10 answered 4-5.
    assert "All teams: ESAT 90%, answers 10" in text
    data = json.loads(reply.to_json())
    assert "hidden rounds are left out" in json.dumps(data)


async def test_mine_shows_only_my_answers(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    crew = await make_crew(db, "Billing", 3)
    rid = await open_now(db, ctx, crew)
    await tap(ctx, crew.agents[0], f"{rid}:esat:2")
    await tap(ctx, crew.agents[1], f"{rid}:esat:5")
    mine0 = await run(db, ctx, crew.agents[0], "/pulse mine")
    mine1 = await run(db, ctx, crew.agents[1], "/pulse mine")
    mine2 = await run(db, ctx, crew.agents[2], "/pulse mine")
    assert "2 Dissatisfied" in mine0.text
    assert "5" not in mine0.text.split(":", 1)[1].replace("2026", "")
    assert "5 Very satisfied" in mine1.text
    assert "Dissatisfied" not in mine1.text
    assert "-" in mine2.text
    # `/pulse mine` takes no one else's name.
    other = await run(db, ctx, crew.lead, f"/pulse mine @{crew.agents[0].email.split('@')[0]}")
    assert not other.ok
    lead_mine = await run(db, ctx, crew.lead, "/pulse mine")
    assert "haven't been asked" in lead_mine.text


async def test_results_offer_an_action_item_with_pulse_source(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    from storage.models import ActionItem

    crew = await make_crew(db, "Billing", 5)
    rid = await answered_round(db, ctx, clock, crew, [2, 2, 3, 4, 1])
    reply = await run(db, ctx, crew.lead, "/pulse results")
    buttons = [b for blk in reply.blocks if blk.kind == "buttons" for b in blk.buttons]
    create = [b for b in buttons if b.label == "Create action item"]
    assert len(create) == 1
    assert create[0].value == f"pulse:{rid}:{crew.lead.id}"
    assert create[0].form is not None
    done = await run_action(
        Action(
            actor_of(crew.lead),
            create[0].form.action_id,
            create[0].form.value,
            form={"title": "Talk about workload", "due": ""},
        ),
        ctx,
    )
    assert done.ok, done.text
    async with db.session() as s:
        items = list((await s.execute(select(ActionItem))).scalars())
    assert [(i.source, i.source_ref, i.owner_id) for i in items] == [
        ("pulse", str(rid), crew.lead.id)
    ]


async def test_home_section(db: Database, ctx: HandlerContext) -> None:
    from handlers.pulse import home_section

    crew = await make_crew(db, "Billing", 5)
    assert await home_section(actor_of(crew.agents[0]), ctx) == []
    rid = await open_now(db, ctx, crew)
    blocks = await home_section(actor_of(crew.agents[0]), ctx)
    values = [b.value for blk in blocks if blk.kind == "buttons" for b in blk.buttons]
    assert values == [f"{rid}:esat:{s}" for s in range(1, 6)]
    await tap(ctx, crew.agents[0], f"{rid}:esat:3")
    assert await home_section(actor_of(crew.agents[0]), ctx) == []
    lead_blocks = await home_section(actor_of(crew.lead), ctx)
    assert "1 of 5 answered" in json.dumps([dataclasses.asdict(b) for b in lead_blocks])


async def test_enps_only_in_the_first_round_of_the_month(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    crew = await make_crew(db, "Billing", 3)
    first = await open_now(db, ctx, crew)
    await close_all(db)
    clock.advance(days=4)
    second = await open_now(db, ctx, crew)
    await close_all(db)
    clock.set(dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC))
    third = await open_now(db, ctx, crew)
    async with db.session() as s:
        rounds = {r.id: r for r in (await s.execute(select(PulseRound))).scalars()}
        dms = [
            m
            for m in (await s.execute(select(OutboxMessage))).scalars()
            if m.dedupe_key.startswith(f"pulse:{second}:")
        ]
    assert [rounds[i].include_enps for i in (first, second, third)] == [True, False, True]
    assert ":enps:" not in dms[0].payload
    assert not (await tap(ctx, crew.agents[0], f"{second}:enps:9")).ok


async def test_manager_of_several_teams_names_the_team(db: Database, ctx: HandlerContext) -> None:
    boss = await make_person(db, "big.boss", role=Role.manager)
    crews = [await make_crew(db, name, 2) for name in ("Alpha", "Bravo")]
    async with db.session() as s:
        for c in crews:
            team = await s.get(Team, c.team.id)
            assert team is not None
            team.manager_id = boss.id
    vague = await run(db, ctx, boss, "/pulse now")
    assert not vague.ok
    assert "Say which team" in vague.text
    ok = await run(db, ctx, boss, "/pulse now team Bravo")
    assert ok.ok, ok.text
    assert "Bravo" in ok.text
    async with db.session() as s:
        opened = list((await s.execute(select(PulseRound))).scalars())
    assert [r.team_id for r in opened] == [crews[1].team.id]
