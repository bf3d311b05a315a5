"""storage.pulse on SQLite and PostgreSQL: rounds, answers, counts and sweeps."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence

from domain.privacy import respondent_hash
from domain.roles import Role
from storage import pulse as store
from storage.db import Database
from storage.models import Person, PulseRound
from storage.outbox import OutboxNew
from tests.conftest import make_person, make_team

NOW = dt.datetime(2026, 11, 17, 10, 0, tzinfo=dt.UTC)
A = store.AnswerOutcome


def no_messages(_rnd: PulseRound, _people: Sequence[Person]) -> list[OutboxNew]:
    return []


def dms(rnd: PulseRound, people: Sequence[Person]) -> list[OutboxNew]:
    return [
        OutboxNew(dedupe_key=f"pulse:{rnd.id}:{p.id}", payload="{}", person_id=p.id) for p in people
    ]


async def setup(db: Database, n: int = 3) -> tuple[int, list[Person]]:
    team = await make_team(db, "Billing")
    assert team.id is not None
    await make_person(db, "lead.one", role=Role.lead, team=team)
    agents = [await make_person(db, f"agent{i}", team=team) for i in range(n)]
    return team.id, agents


async def open_one(db: Database, team_id: int, **kw: object) -> PulseRound:
    result = await store.open_round(
        db,
        team_id=team_id,
        question="Q?",
        include_enps=True,
        opens_at=NOW,
        closes_at=NOW + dt.timedelta(hours=72),
        remind_at=NOW + dt.timedelta(hours=24),
        created_by_id=None,
        min_responses=5,
        build_messages=dms,
        **kw,  # type: ignore[arg-type]
    )
    assert result is not None
    return result[0]


def h(rid: int, pid: int) -> str:
    return respondent_hash("k", round_id=rid, person_id=pid)


async def test_open_round_asks_agents_only_once(any_db: Database) -> None:
    team_id, _agents = await setup(any_db)
    rnd = await open_one(any_db, team_id, claim_key="slot-1")
    assert rnd.id is not None
    assert await store.asked_and_answered(any_db, round_id=rnd.id) == (3, 0)
    # A second open while this one is open, or the same claim again: nothing.
    again = await store.open_round(
        any_db,
        team_id=team_id,
        question="Q?",
        include_enps=False,
        opens_at=NOW + dt.timedelta(hours=1),
        closes_at=NOW + dt.timedelta(hours=73),
        remind_at=None,
        created_by_id=None,
        min_responses=5,
        build_messages=dms,
    )
    assert again is None
    later = NOW + dt.timedelta(days=7)
    claimed = await store.open_round(
        any_db,
        team_id=team_id,
        question="Q?",
        include_enps=False,
        opens_at=later,
        closes_at=later + dt.timedelta(hours=72),
        remind_at=None,
        created_by_id=None,
        min_responses=5,
        build_messages=no_messages,
        claim_key="slot-1",
    )
    assert claimed is None
    assert (await store.latest_round(any_db, team_id=team_id)) is not None
    assert await store.enps_asked_since(any_db, team_id=team_id, since=NOW)
    assert not await store.enps_asked_since(any_db, team_id=team_id, since=NOW + dt.timedelta(1))


async def test_answer_change_and_refusals(any_db: Database) -> None:
    team_id, agents = await setup(any_db)
    rnd = await open_one(any_db, team_id)
    rid = rnd.id
    assert rid is not None
    p = agents[0].id
    assert p is not None
    args = {"round_id": rid, "person_id": p, "respondent": h(rid, p), "now": NOW}
    assert (await store.record_answer(any_db, question="esat", score=4, **args))[0] is A.recorded  # type: ignore[arg-type]
    assert (await store.record_answer(any_db, question="esat", score=2, **args))[0] is A.changed  # type: ignore[arg-type]
    assert (await store.record_answer(any_db, question="esat", score=6, **args))[0] is A.invalid  # type: ignore[arg-type]
    assert (await store.record_answer(any_db, question="enps", score=10, **args))[0] is A.recorded  # type: ignore[arg-type]
    assert (await store.record_answer(any_db, question="other", score=1, **args))[0] is A.invalid  # type: ignore[arg-type]
    late = {**args, "now": NOW + dt.timedelta(hours=72)}
    assert (await store.record_answer(any_db, question="esat", score=5, **late))[0] is A.closed  # type: ignore[arg-type]
    stranger = await make_person(any_db, "stranger")
    assert stranger.id is not None
    forged = {**args, "person_id": stranger.id, "respondent": h(rid, stranger.id)}
    assert (await store.record_answer(any_db, question="esat", score=5, **forged))[0] is A.not_asked  # type: ignore[arg-type]
    answers = await store.answers_of(any_db, round_id=rid, respondent=h(rid, p))
    assert {q: r.score for q, r in answers.items()} == {"esat": 2, "enps": 10}
    assert await store.asked_and_answered(any_db, round_id=rid) == (3, 1)
    out, _ = await store.record_comment(
        any_db, round_id=rid, person_id=p, respondent=h(rid, p), comment=" ok ", now=NOW
    )
    assert out is A.changed
    q = agents[1].id
    assert q is not None
    out, _ = await store.record_comment(
        any_db, round_id=rid, person_id=q, respondent=h(rid, q), comment="x", now=NOW
    )
    assert out is A.no_answer


async def test_round_stats_counts_and_closing(any_db: Database) -> None:
    team_id, agents = await setup(any_db, 4)
    rnd = await open_one(any_db, team_id)
    assert rnd.id is not None
    for agent, score in zip(agents, [5, 4, 4, 1], strict=True):
        assert agent.id is not None
        await store.record_answer(
            any_db,
            round_id=rnd.id,
            person_id=agent.id,
            respondent=h(rnd.id, agent.id),
            question="esat",
            score=score,
            now=NOW,
        )
    assert agents[0].id is not None
    await store.record_comment(
        any_db,
        round_id=rnd.id,
        person_id=agents[0].id,
        respondent=h(rnd.id, agents[0].id),
        comment="great",
        now=NOW,
    )
    # Open rounds are not in the results.
    assert await store.round_stats(any_db, team_ids=[team_id], since=NOW) == []
    assert await store.close_due(any_db, now=NOW + dt.timedelta(hours=71)) == []
    closed = await store.close_due(any_db, now=NOW + dt.timedelta(hours=72))
    assert [r.id for r in closed] == [rnd.id]
    stats = await store.round_stats(any_db, team_ids=[team_id], since=NOW)
    assert len(stats) == 1
    assert stats[0].asked == 4
    assert stats[0].esat == Counter({4: 2, 5: 1, 1: 1})
    assert stats[0].responses == 4
    assert stats[0].comments == ("great",)
    assert [r.id for r in await store.rounds_needing_summary(any_db)] == [rnd.id]
    await store.mark_summary_sent(any_db, round_id=rnd.id, messages=[])
    assert await store.rounds_needing_summary(any_db) == []


async def test_reminder_candidates_and_mark(any_db: Database) -> None:
    team_id, agents = await setup(any_db, 3)
    rnd = await open_one(any_db, team_id)
    assert rnd.id is not None
    p = agents[0].id
    assert p is not None
    await store.record_answer(
        any_db,
        round_id=rnd.id,
        person_id=p,
        respondent=h(rnd.id, p),
        question="esat",
        score=3,
        now=NOW,
    )
    assert await store.reminder_candidates(any_db, now=NOW + dt.timedelta(hours=23)) == []
    due = await store.reminder_candidates(any_db, now=NOW + dt.timedelta(hours=24))
    assert {person.id for _r, _d, person in due} == {agents[1].id, agents[2].id}
    delivery = due[0][1]
    assert delivery.id is not None
    assert await store.mark_reminded(any_db, delivery_id=delivery.id, message=None)
    assert not await store.mark_reminded(any_db, delivery_id=delivery.id, message=None)
    left = await store.reminder_candidates(any_db, now=NOW + dt.timedelta(hours=24))
    assert len(left) == 1
    assert await store.reminder_candidates(any_db, now=NOW + dt.timedelta(hours=72)) == []


async def test_my_rounds_and_responses(any_db: Database) -> None:
    team_id, agents = await setup(any_db, 2)
    rnd = await open_one(any_db, team_id)
    assert rnd.id is not None
    p = agents[0].id
    assert p is not None
    await store.record_answer(
        any_db,
        round_id=rnd.id,
        person_id=p,
        respondent=h(rnd.id, p),
        question="esat",
        score=5,
        now=NOW,
    )
    mine = await store.rounds_delivered_to(any_db, person_id=p)
    assert [(r.id, answered) for r, answered in mine] == [(rnd.id, True)]
    found = await store.responses_for(any_db, pairs=[(rnd.id, h(rnd.id, p))])
    assert found[rnd.id]["esat"].score == 5
    assert await store.responses_for(any_db, pairs=[(rnd.id, h(rnd.id, p + 100))]) == {}


async def test_schedule_upsert(any_db: Database) -> None:
    team_id, _ = await setup(any_db, 1)
    default = await store.get_schedule(any_db, team_id=team_id)
    assert default.cadence == "off"
    assert await store.active_schedules(any_db) == []
    await store.set_schedule(any_db, team_id=team_id, now=NOW, cadence="weekly", weekday=2)
    await store.set_schedule(any_db, team_id=team_id, now=NOW, question="New?")
    s = await store.get_schedule(any_db, team_id=team_id)
    assert (s.cadence, s.weekday, s.question) == ("weekly", 2, "New?")
    assert [t.id for _s, t in await store.active_schedules(any_db)] == [team_id]
