"""The kudos suggestions' Post / Edit & post / Dismiss buttons."""

from __future__ import annotations

import datetime as dt

from domain.types import Action
from handlers.core.context import HandlerContext
from handlers.core.dispatch import run_action
from storage import kudos as store
from storage.db import Database
from storage.models import KudosSuggestion
from tests.conftest import actor_of
from tests.handlers.kudos.helpers import Crew, block_text, crew, outbox, recognitions


async def make_suggestion(db: Database, c: Crew) -> int:
    sid = await store.create_suggestion(
        db,
        key=f"streak:{c.maria.id}:csat:2026-11-10",
        team_id=c.team.id or 0,
        person_id=c.maria.id or 0,
        kind="streak",
        detail="5 working days in a row on target for CSAT (goal >= 90.0 %)",
        value_tag="ownership",
        at=dt.datetime(2026, 11, 17, 8, 30, tzinfo=dt.UTC),
        messages=lambda sid: [],
    )
    assert sid is not None
    return sid


async def test_suggestion_post_records_once_and_posts(db: Database, ctx: HandlerContext) -> None:
    c = await crew(db)
    sid = await make_suggestion(db, c)
    press = Action(actor_of(c.lead), "kudos.suggest.post", str(sid))
    reply = await run_action(press, ctx)
    assert reply.ok
    assert reply.replace_original
    assert "Posted" in reply.text
    again = await run_action(press, ctx)
    assert "already" in block_text(again.blocks)
    recs = await recognitions(db)
    assert len(recs) == 1
    assert (recs[0].giver_id, recs[0].receiver_id, recs[0].source) == (
        c.lead.id,
        c.maria.id,
        "suggested",
    )
    assert recs[0].message.startswith("5 working days in a row")
    msgs = await outbox(db)
    assert sum(1 for m in msgs if m.recipient_team_id == c.team.id) == 1
    async with db.session() as s:
        sug = await s.get(KudosSuggestion, sid)
        assert sug is not None
        assert sug.status == "posted"


async def test_suggestion_buttons_refuse_forged_values_and_strangers(
    db: Database, ctx: HandlerContext
) -> None:
    c = await crew(db)
    other = await crew(db, "Sales")
    sid = await make_suggestion(db, c)
    for actor, value in (
        (other.lead, str(sid)),
        (c.sam, str(sid)),
        (c.lead, "x1"),
        (c.lead, "999"),
    ):
        reply = await run_action(Action(actor_of(actor), "kudos.suggest.post", value), ctx)
        assert not reply.ok
    assert await recognitions(db) == []
    edited = await run_action(
        Action(actor_of(c.lead), "kudos.suggest.post", str(sid), form={"message": "Superb week!"}),
        ctx,
    )
    assert edited.ok
    assert [r.message for r in await recognitions(db)] == ["Superb week!"]
    sid2 = await store.create_suggestion(
        db,
        key="best:x",
        team_id=c.team.id or 0,
        person_id=c.sam.id or 0,
        kind="personal_best",
        detail="a personal best",
        value_tag=None,
        at=ctx.now(),
        messages=lambda _sid: [],
    )
    dismissed = await run_action(Action(actor_of(c.lead), "kudos.suggest.dismiss", str(sid2)), ctx)
    assert dismissed.ok
    assert "Dismissed" in dismissed.text
    assert len(await recognitions(db)) == 1
