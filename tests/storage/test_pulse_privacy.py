"""The database alone cannot tie a pulse score to a person: read the raw tables."""

from __future__ import annotations

import hashlib
import hmac

import sqlalchemy as sa

from domain.privacy import respondent_hash
from domain.roles import Role
from domain.types import Action
from handlers.core.context import HandlerContext
from handlers.core.dispatch import run_action, run_command
from storage.db import Database
from tests.conftest import FakeClock, actor_of, command, make_person, make_team


async def raw(db: Database, sql: str) -> list[dict[str, object]]:
    async with db.engine.connect() as conn:
        result = await conn.execute(sa.text(sql))
        return [dict(r._mapping) for r in result]


async def test_pulseresponse_holds_no_identity_and_no_time(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    team = await make_team(db, "Billing")
    lead = await make_person(db, "lead.one", role=Role.lead, team=team)
    agents = [await make_person(db, f"agent{i}", team=team) for i in range(4)]
    rids = []
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
        async with db.session() as s:
            await s.execute(sa.text("UPDATE pulseround SET status = 'closed'"))
        clock.advance(days=7 + week)

    # The columns themselves: no person, no time.
    cols = {c["name"] for c in await raw(db, "PRAGMA table_info(pulseresponse)")}
    assert cols == {"id", "round_id", "question", "respondent_hash", "score", "comment"}
    delivery_cols = {c["name"] for c in await raw(db, "PRAGMA table_info(pulsedelivery)")}
    assert delivery_cols == {"id", "round_id", "person_id", "answered", "reminded"}

    rows = await raw(db, "SELECT * FROM pulseresponse")
    assert len(rows) == 8
    identities: set[str] = set()
    for p in agents:
        assert p.id is not None
        identities |= {str(p.id), p.email, p.email.split("@")[0], p.display_name}
        # Plain (unkeyed) hashes of the identity must not appear either.
        for ident in (str(p.id), p.email):
            identities.add(hashlib.sha256(ident.encode()).hexdigest())
            identities.add(hashlib.md5(ident.encode()).hexdigest())  # noqa: S324
    for row in rows:
        # Scores and round ids are small numbers that may equal a person id by chance;
        # the columns that could carry an identity are the hash and the comment.
        for key in ("respondent_hash", "comment"):
            value = str(row[key])
            assert value not in identities
            assert all(ident not in value for ident in identities if len(ident) > 3)
        h = str(row["respondent_hash"])
        assert len(h) == 64
        # Without the secret the hash cannot be recomputed: another key gives another hash.
        for p in agents:
            assert p.id is not None
            rid = row["round_id"]
            assert isinstance(rid, int)
            guess = hmac.new(b"", f"pulse:{rid}:{p.id}".encode(), hashlib.sha256).hexdigest()
            assert h != guess
            assert h != respondent_hash("dev-secret-change-me", round_id=rid, person_id=p.id)

    # The same person's hashes differ from round to round: rounds cannot be joined.
    by_round: dict[object, set[str]] = {}
    for row in rows:
        by_round.setdefault(row["round_id"], set()).add(str(row["respondent_hash"]))
    assert len(by_round) == 2
    first, second = by_round.values()
    assert not first & second
    for p in agents:
        assert p.id is not None
        hashes = {respondent_hash("test-secret", round_id=r, person_id=p.id) for r in rids}
        assert len(hashes) == 2
    # With the secret (only the bot has it) the link can be made: that is the key's job.
    assert agents[0].id is not None
    mine = respondent_hash("test-secret", round_id=rids[0], person_id=agents[0].id)
    assert mine in first

    # Deliveries know who answered, never what: nothing in them equals a score or a hash.
    for d in await raw(db, "SELECT * FROM pulsedelivery"):
        assert str(d["person_id"]) in {str(p.id) for p in agents}
        assert all(str(v) not in first | second for v in d.values())

    # Row order must not give away who answered first: ids follow answer order, but
    # nothing ties an id to a delivery (deliveries have no order of answering).
    assert not any("_at" in str(c) for c in delivery_cols | cols)

    # No outbox message (what leads and agents are sent) carries an individual's score
    # to anyone but the person themself: every outbox row here is a round's DM.
    for m in await raw(db, "SELECT dedupe_key, recipient_person_id FROM outboxmessage"):
        assert str(m["dedupe_key"]).startswith("pulse:")
        assert str(m["dedupe_key"]).endswith(f":{m['recipient_person_id']}")
