"""The prep card: KPIs vs goals, action items, kudos, notes and agenda; no pulse data."""

from __future__ import annotations

import datetime as dt

from domain.items import ActionStatus
from domain.kpi import KpiRow
from domain.types import Buttons
from handlers.core.context import HandlerContext
from storage import kudos as kudos_store
from storage.db import Database
from storage.kpis import upsert_values
from storage.models import (
    ActionItem,
    Goal,
    PulseResponse,
    PulseRound,
)
from tests.conftest import FakeClock
from tests.handlers.kudos.helpers import text_of
from tests.handlers.oneonone.helpers import Pair, at, pair, run


async def add_prep_data(db: Database, p: Pair, now: dt.datetime) -> None:
    async with db.session() as s:
        s.add(Goal(team_id=p.team.id or 0, metric_key="csat", op=">=", target=90.0))
        s.add(Goal(team_id=p.team.id or 0, metric_key="aht", op="<=", target=300.0))
        s.add(
            ActionItem(
                title="Shadow Sam on escalations",
                owner_id=p.maria.id,
                assigned_by_id=p.lead.id,
                team_id=p.team.id,
                due_date=dt.date(2026, 11, 30),
            )
        )
        s.add(
            ActionItem(
                title="Finish the refunds course",
                owner_id=p.maria.id,
                team_id=p.team.id,
                status=ActionStatus.done,
                closed_at=now - dt.timedelta(days=2),
            )
        )
        # Pulse data exists for the team: none of it may reach the card.
        rnd = PulseRound(
            team_id=p.team.id or 0,
            question="How satisfied are you?",
            opens_at=now - dt.timedelta(days=3),
            closes_at=now - dt.timedelta(days=1),
        )
        s.add(rnd)
        await s.flush()
        s.add(
            PulseResponse(
                round_id=rnd.id or 0,
                respondent_hash="h" * 64,
                score=1,
                comment="SECRET-PULSE-COMMENT",
            )
        )
    rows = []
    for i in range(1, 29):
        day = now.date() - dt.timedelta(days=i)
        recent = i <= 14
        # 40 contacts a day: enough for every figure to be compared (STATS_MIN_CONTACTS).
        for key, value in (("csat", 93.0 if recent else 85.0), ("aht", 320.0 if recent else 290.0)):
            rows.append(KpiRow(day, key, value, person_id=p.maria.id, team_id=p.team.id, weight=40))
    await upsert_values(db, rows=rows)
    await kudos_store.record(
        db,
        giver_id=p.sam.id or 0,
        receivers=[kudos_store.NewRecognition(p.maria.id or 0, p.team.id)],
        message="calmed down a very angry caller",
        value_tag="communication",
        group_key="g-prep",
        at=now - dt.timedelta(days=1),
    )


async def test_prep_card_content_and_no_pulse_data(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    p = await pair(db)
    assert (await run(db, ctx, p.lead, "/1on1 schedule @maria.lopez every 2 weeks tue 10:00")).ok
    # The last 1:1: held two weeks ago (an extra one), with notes.
    clock.set(at(2026, 11, 3, 10))
    assert (await run(db, ctx, p.lead, "/1on1 done @maria.lopez wants to try the chat queue")).ok
    clock.set(at(2026, 11, 17, 10))
    assert (await run(db, ctx, p.maria, "/1on1 agenda my weekend shifts")).ok
    await add_prep_data(db, p, clock.now)
    card = await run(db, ctx, p.lead, "/1on1 prep @maria.lopez")
    assert card.ok, card.text
    body = text_of(card)
    assert "1:1 prep: Maria Lopez" in body
    assert "since the last 1:1 (03 Nov)" in body
    # KPIs vs goals with trends (since 3 Nov: on target for CSAT, over the AHT goal).
    assert "CSAT | 93.0% | ≥ 90.0% | ✓ on target | ▲ +8.0 pts |" in body
    assert "Average handle time | 5:20 | ≤ 5:00 | ✗ off target | ▲ +30s ! |" in body
    assert "Shadow Sam on escalations | open | 30 Nov" in body
    assert "Finish the refunds course | done | closed 15 Nov" in body
    assert "Kudos received: 1" in body
    assert "calmed down a very angry caller" in body
    assert "wants to try the chat queue" in body
    assert "my weekend shifts (Maria Lopez)" in body
    assert "SECRET-PULSE-COMMENT" not in card.to_json()
    assert "How satisfied" not in card.to_json()
    buttons = [b for blk in card.blocks if isinstance(blk, Buttons) for b in blk.buttons]
    add = next(b for b in buttons if b.action_id == "action.create")
    assert add.form is not None
    assert add.value.startswith("one_on_one:")
    # An agent can't see a prep card, nor a lead for someone outside their team.
    assert not (await run(db, ctx, p.sam, "/1on1 prep @maria.lopez")).ok
