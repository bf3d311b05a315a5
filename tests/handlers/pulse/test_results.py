"""Results behind the privacy threshold: hidden rounds in every window, comments,
complementary suppression of a manager's totals, and the action-item button."""

from __future__ import annotations

import datetime as dt
import json
import re

import sqlalchemy as sa
from sqlmodel import col, select

from domain.types import Action
from handlers.core.context import HandlerContext
from handlers.core.dispatch import run_action
from handlers.pulse import TOO_FEW
from handlers.registry import build_registry
from storage.db import Database
from storage.models import ActionItem, PulseResponse
from tests.conftest import FakeClock, actor_of, make_ctx, unchecked_settings
from tests.handlers.pulse.helpers import (
    all_text,
    answered_round,
    close_all,
    comment,
    make_crew,
    manager_view,
    open_now,
    run,
    tap,
)


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


async def test_results_offer_an_action_item_with_pulse_source(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
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
