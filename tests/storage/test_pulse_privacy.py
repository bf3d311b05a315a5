"""The database cannot tie a pulse answer to a person: read the raw tables.

While a round is open, an answer is tied to its respondent only by a keyed hash (so they
can change it). Once it closes nothing is: someone holding the whole database and every
secret still cannot say who gave which score or wrote which comment.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import sqlalchemy as sa
import time_machine
from pydantic import SecretStr
from sqlmodel import SQLModel

from domain.privacy import respondent_hash
from domain.roles import Role
from domain.settings import Settings
from domain.types import Action
from handlers.core.context import HandlerContext
from handlers.core.dispatch import run_action, run_command
from jobs.pulse_jobs import close_and_summarise, remind_non_responders
from jobs.spec import JobRunInfo
from storage import demo
from storage import pulse as store
from storage.db import Database
from storage.models import Person
from tests.conftest import (
    FakeClock,
    actor_of,
    command,
    fresh_store,
    make_ctx,
    make_person,
    make_team,
)

NOW = dt.datetime(2026, 11, 17, 10, 0, tzinfo=dt.UTC)


async def raw(db: Database, sql: str) -> list[dict[str, object]]:
    async with db.engine.connect() as conn:
        result = await conn.execute(sa.text(sql))
        return [dict(r._mapping) for r in result]


async def dump(db: Database) -> str:
    """Every row of every table, in primary-key order (the order a reader would see)."""
    parts = []
    async with db.engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            rows = (await conn.execute(sa.select(table).order_by(*order))).all()
            parts.append(f"{table.name}: {[tuple(r) for r in rows]}")
    return "\n".join(parts)


def secrets_of(settings: Settings) -> list[str]:
    """Every secret the process holds."""
    return [
        v.get_secret_value()
        for v in (getattr(settings, name) for name in type(settings).model_fields)
        if isinstance(v, SecretStr)
    ]


def every_link(secrets: list[str], round_ids: list[int], people: list[Person]) -> set[str]:
    """Every tie an attacker could compute for (round, person): the keyed hash under every
    secret (and none), and plain hashes of the person's id and email."""
    out: set[str] = set()
    for p in people:
        assert p.id is not None
        for ident in (str(p.id), p.email):
            out.add(hashlib.sha256(ident.encode()).hexdigest())
            out.add(hashlib.md5(ident.encode()).hexdigest())  # noqa: S324
        for rid in round_ids:
            msg = f"pulse:{rid}:{p.id}".encode()
            out.add(hmac.new(b"", msg, hashlib.sha256).hexdigest())
            for key in secrets:
                out.add(respondent_hash(key, round_id=rid, person_id=p.id))
    return out


async def test_pulseresponse_holds_no_identity_and_no_time(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    team = await make_team(db, "Billing")
    lead = await make_person(db, "lead.one", role=Role.lead, team=team)
    agents = [await make_person(db, f"agent{i}", team=team) for i in range(4)]
    rids = []
    open_hashes: list[set[str]] = []
    for week in range(2):
        reply = await run_command(await command(db, lead, "/pulse now"), ctx)
        assert reply.ok
        rid = (await raw(db, "SELECT max(id) AS id FROM pulseround"))[0]["id"]
        assert isinstance(rid, int)
        rids.append(rid)
        for i, a in enumerate(agents):
            await run_action(Action(actor_of(a), "pulse.answer", f"{rid}:esat:{1 + i}"), ctx)
            await run_action(
                Action(actor_of(a), "pulse.comment", str(rid), form={"comment": f"c{i}"}), ctx
            )
        # While it is open: a keyed hash, meaningless without the secret.
        rows = await raw(db, f"SELECT * FROM pulseresponse WHERE round_id = {rid}")  # noqa: S608
        assert len(rows) == 4
        hashes = {str(r["respondent_hash"]) for r in rows}
        assert all(len(h) == 64 for h in hashes)
        for p in agents:
            assert p.id is not None
            guess = hmac.new(b"", f"pulse:{rid}:{p.id}".encode(), hashlib.sha256).hexdigest()
            assert guess not in hashes
            assert respondent_hash("dev-secret-change-me", round_id=rid, person_id=p.id) not in (
                hashes
            )
        # With the secret (only the bot has it) the link can be made while the round is
        # open: that is the key's job, so `/pulse mine` and changing an answer work.
        assert agents[0].id is not None
        assert respondent_hash("test-secret", round_id=rid, person_id=agents[0].id) in hashes
        open_hashes.append(hashes)
        clock.advance(hours=73)
        await close_and_summarise(ctx, JobRunInfo(job_id="pulse.close", fire_time=clock()))
        clock.advance(days=4 + week)
    # The same person's hashes differed from round to round: rounds could not be joined.
    assert not open_hashes[0] & open_hashes[1]

    # The columns themselves: no person, no time.
    cols = {c["name"] for c in await raw(db, "PRAGMA table_info(pulseresponse)")}
    assert cols == {"id", "round_id", "question", "respondent_hash", "score", "comment"}
    delivery_cols = {c["name"] for c in await raw(db, "PRAGMA table_info(pulsedelivery)")}
    assert delivery_cols == {"id", "round_id", "person_id", "answered", "reminded"}
    assert not any("_at" in str(c) for c in delivery_cols | cols)

    # Closed: the hashes are gone, and nothing left holds an identity.
    rows = await raw(db, "SELECT * FROM pulseresponse")
    assert len(rows) == 8
    assert {r["respondent_hash"] for r in rows} == {None}
    identities = every_link(["test-secret", "dev-secret-change-me"], rids, agents)
    for p in agents:
        identities |= {str(p.id), p.email, p.email.split("@")[0], p.display_name}
    for row in rows:
        value = str(row["comment"])
        assert value not in identities
        assert all(ident not in value for ident in identities if len(ident) > 3)
    # Row order no longer follows the order of answering: rows are sorted by what they say.
    content = [(r["round_id"], r["question"], r["score"], r["comment"] or "") for r in rows]
    assert [r["id"] for r in rows] == sorted(int(str(r["id"])) for r in rows)
    assert content == sorted(content)

    # Deliveries know who answered, never what: nothing in them equals a score or a hash.
    for d in await raw(db, "SELECT * FROM pulsedelivery"):
        assert str(d["person_id"]) in {str(p.id) for p in agents}
        assert all(str(v) not in open_hashes[0] | open_hashes[1] for v in d.values())

    # No outbox message carries an individual's score to anyone: besides each agent's own
    # DMs, there are only the lead's summaries (aggregates).
    for m in await raw(db, "SELECT dedupe_key, recipient_person_id FROM outboxmessage"):
        key = str(m["dedupe_key"])
        assert key.startswith("pulse:")
        assert key.endswith((f":{m['recipient_person_id']}", ":summary"))


# --- a realistic round, closed, against someone holding the database and every secret ---

# What each agent does while the round is open. Agents 0-4 answer before the reminder,
# 5 and 6 after it, 7 never; who answers when (and so who was reminded) is recorded on
# purpose (the bot reminds non-responders), what they answered must not be.
EARLY = (
    (("esat", 4), ("enps", 9), ("comment", "Great coaching from Sam this week")),
    (("esat", 2), ("comment", "Too many escalations, not enough breaks")),
    (("esat", 5), ("esat", 3)),  # changed their answer
    (("esat", 1), ("enps", 2), ("comment", "Thinking of leaving")),
    (("esat", 4), ("enps", 7)),
)
LATE = (
    (("esat", 3), ("comment", "Rota came too late again")),
    (("esat", 5), ("enps", 10)),
)


@dataclasses.dataclass
class Round:
    db: Database
    ctx: HandlerContext
    agents: list[Person]
    round_id: int
    while_open: str  # the whole database while the round was open
    after_close: str  # the whole database once it closed


async def _act(
    ctx: HandlerContext, who: Person, rid: int, steps: tuple[tuple[str, int | str], ...]
) -> None:
    for kind, what in steps:
        if kind == "comment":
            form = {"comment": str(what)}
            reply = await run_action(
                Action(actor_of(who), "pulse.comment", str(rid), form=form), ctx
            )
        else:
            reply = await run_action(
                Action(actor_of(who), "pulse.answer", f"{rid}:{kind}:{what}"), ctx
            )
        assert reply.ok, reply.text


@asynccontextmanager
async def realistic_round(kind: str, early: list[int], late: list[int]) -> AsyncIterator[Round]:
    """Eight agents; agent i answers as EARLY[early[i]] (i < 5) or LATE[late[i - 5]]."""
    clock = FakeClock(NOW)
    with time_machine.travel(NOW, tick=False):  # the outbox stamps rows with real time
        async with fresh_store(kind) as db:
            ctx = make_ctx(
                db,
                clock,
                leadbot_secret="a-long-production-secret-0123456789",
                slack_bot_token="xoxb-1-2-3",
                slack_signing_secret="signing-secret",
                teams_app_id="app",
                teams_app_password="teams-password",
                kpi_source_token="kpi-token",
            )
            team = await make_team(db, "Billing")
            lead = await make_person(db, "sam.carter", role=Role.lead, team=team)
            agents = [
                await make_person(db, f"agent.{n}", team=team, work_hours="Mon-Sun 00:00-23:59")
                for n in ("ana", "ben", "cho", "dev", "eli", "fay", "gus", "hal")
            ]
            assert (await run_command(await command(db, lead, "/pulse now"), ctx)).ok
            assert team.id is not None
            rnd = await store.latest_round(db, team_id=team.id)
            assert rnd is not None
            assert rnd.id is not None
            assert rnd.include_enps
            for i, script in enumerate(early):
                await _act(ctx, agents[i], rnd.id, EARLY[script])
            clock.advance(hours=25)
            await remind_non_responders(ctx, JobRunInfo(job_id="pulse.remind", fire_time=clock()))
            for i, script in enumerate(late):
                await _act(ctx, agents[5 + i], rnd.id, LATE[script])
            while_open = await dump(db)
            clock.advance(hours=48)
            await close_and_summarise(ctx, JobRunInfo(job_id="pulse.close", fire_time=clock()))
            yield Round(db, ctx, agents, rnd.id, while_open, await dump(db))


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_after_close_nothing_ties_an_answer_to_anyone(kind: str) -> None:
    """The same round twice, the agents' answers shuffled among them: once closed, the two
    databases are identical, so nothing in them (with any secret) says who answered what."""
    async with (
        realistic_round(kind, [0, 1, 2, 3, 4], [0, 1]) as one,
        realistic_round(kind, [3, 0, 4, 2, 1], [1, 0]) as other,
    ):
        # While open they differ: the keyed hashes tie each answer to its person.
        assert one.while_open != other.while_open
        assert one.after_close == other.after_close
        for r in (one, other):
            rows = await raw(r.db, "SELECT * FROM pulseresponse ORDER BY id")
            assert len([x for x in rows if x["question"] == "esat"]) == 7
            assert {x["respondent_hash"] for x in rows} == {None}
            assert {x["comment"] for x in rows} - {None} == {
                "Great coaching from Sam this week",
                "Too many escalations, not enough breaks",
                "Thinking of leaving",
                "Rota came too late again",
            }
            # Whoever holds every secret computes every tie; none is stored anywhere.
            links = every_link(secrets_of(r.ctx.settings), [r.round_id], r.agents)
            assert not any(link in r.after_close for link in links)
            assert sum(link in r.while_open for link in links) == 7  # one per respondent


async def test_mine_before_and_after_close(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    """`/pulse mine` shows one's score while the round is open; afterwards only that one
    answered (from the delivery), since nothing ties the answer to anyone any more."""
    team = await make_team(db, "Billing")
    lead = await make_person(db, "lead.one", role=Role.lead, team=team)
    ana, ben = [await make_person(db, f"agent.{n}", team=team) for n in ("ana", "ben")]
    assert (await run_command(await command(db, lead, "/pulse now"), ctx)).ok
    rid = (await raw(db, "SELECT max(id) AS id FROM pulseround"))[0]["id"]
    await run_action(Action(actor_of(ana), "pulse.answer", f"{rid}:esat:2"), ctx)
    await run_action(Action(actor_of(ana), "pulse.answer", f"{rid}:enps:8"), ctx)
    await run_action(Action(actor_of(ana), "pulse.comment", str(rid), form={"comment": "hm"}), ctx)
    before = await run_command(await command(db, ana, "/pulse mine"), ctx)
    row = next(b for b in before.blocks if b.kind == "table").rows[0]
    assert row[2:5] == ("2 Dissatisfied", "8", "yes")
    assert row[5].startswith("open until")
    clock.advance(hours=73)
    await close_and_summarise(ctx, JobRunInfo(job_id="pulse.close", fire_time=clock()))
    after = await run_command(await command(db, ana, "/pulse mine"), ctx)
    row = next(b for b in after.blocks if b.kind == "table").rows[0]
    assert row[2:] == ("answered", "", "", "closed")
    assert "Dissatisfied" not in after.to_json()
    assert "answered (closed)" in after.text
    assert "unlinked from you for good" in after.to_json()
    not_answered = await run_command(await command(db, ben, "/pulse mine"), ctx)
    assert "no answer (closed)" in not_answered.text


async def test_a_round_closed_before_the_rule_is_unlinked_by_the_close_job(
    any_db: Database, clock: FakeClock
) -> None:
    """Rounds closed some other way (before this rule existed, or by hand) still carry
    their hashes: the next close run cuts them too."""
    ctx = make_ctx(any_db, clock)
    team = await make_team(any_db, "Billing")
    lead = await make_person(any_db, "lead.one", role=Role.lead, team=team)
    agents = [await make_person(any_db, f"agent{i}", team=team) for i in range(3)]
    assert (await run_command(await command(any_db, lead, "/pulse now"), ctx)).ok
    rid = (await raw(any_db, "SELECT max(id) AS id FROM pulseround"))[0]["id"]
    for i, a in enumerate(agents):
        await run_action(Action(actor_of(a), "pulse.answer", f"{rid}:esat:{i + 2}"), ctx)
    async with any_db.session() as s:  # closed the old way: the status alone
        await s.execute(sa.text("UPDATE pulseround SET status = 'closed'"))
    assert all(r["respondent_hash"] for r in await raw(any_db, "SELECT * FROM pulseresponse"))
    await close_and_summarise(ctx, JobRunInfo(job_id="pulse.close", fire_time=clock()))
    rows = await raw(any_db, "SELECT * FROM pulseresponse ORDER BY id")
    assert [(r["respondent_hash"], r["score"]) for r in rows] == [(None, 2), (None, 3), (None, 4)]


async def test_no_closed_demo_round_can_be_tied_to_anyone(any_db: Database) -> None:
    """The demo center, seeded with a known secret: its rounds are all closed, and not
    even that secret ties one of their answers to a person."""
    secret = "demo-secret"

    def hasher(round_id: int, person_id: int) -> str:
        return respondent_hash(secret, round_id=round_id, person_id=person_id)

    await demo.seed(any_db, now=dt.datetime(2026, 11, 23, 11, 0, tzinfo=dt.UTC), hasher=hasher)
    rounds = await raw(any_db, "SELECT id, status FROM pulseround")
    assert rounds
    assert {r["status"] for r in rounds} == {"closed"}
    async with any_db.session() as s:
        persons = list((await s.execute(sa.select(Person))).scalars())
    links = every_link([secret], [int(str(r["id"])) for r in rounds], persons)
    everything = await dump(any_db)
    assert not any(link in everything for link in links)
    rows = await raw(any_db, "SELECT * FROM pulseresponse ORDER BY id")
    assert len(rows) > 50
    assert {r["respondent_hash"] for r in rows} == {None}
    # Ids follow what the rows say, not who was seeded first.
    content = [(r["round_id"], r["question"], r["score"], r["comment"] or "") for r in rows]
    assert content == sorted(content)
