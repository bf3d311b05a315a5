"""A round keeps the privacy threshold it was opened under: lowering PULSE_MIN_RESPONSES
later (even while it is open) never shows it, anywhere a round is shown; raising it hides
rounds opened under a lower one."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from domain.roles import Role
from domain.types import Reply
from handlers.core.context import HandlerContext
from handlers.core.home import home
from handlers.pulse import TOO_FEW, home_section, summary_reply
from jobs.pulse_jobs import close_and_summarise
from jobs.spec import JobRunInfo
from storage import people
from storage import pulse as store
from storage.db import Database
from storage.models import OutboxMessage, Team
from tests.conftest import FakeClock, actor_of, make_ctx, make_person
from tests.handlers.pulse.helpers import Crew, all_text, comment, make_crew, open_now, run, tap

START = dt.datetime(2026, 11, 17, 10, 0, tzinfo=dt.UTC)
HIDDEN_COMMENT = "The new rota is wrecking my evenings"


async def _close(ctx: HandlerContext, clock: FakeClock) -> None:
    """Move past closing and run the close job (the summary is computed then)."""
    clock.advance(hours=73)
    await close_and_summarise(ctx, JobRunInfo(job_id="pulse.close", fire_time=clock()))


async def _round(
    db: Database,
    ctx: HandlerContext,
    clock: FakeClock,
    crew: Crew,
    scores: list[int],
    *,
    note: str | None = None,
) -> int:
    rid = await open_now(db, ctx, crew)
    for agent, score in zip(crew.agents, scores, strict=False):
        assert (await tap(ctx, agent, f"{rid}:esat:{score}")).ok
    if note:
        assert (await comment(ctx, crew.agents[0], rid, note)).ok
    await _close(ctx, clock)
    clock.advance(days=4)
    return rid


async def _summaries(db: Database) -> dict[str, str]:
    async with db.session() as s:
        rows = (await s.execute(OutboxMessage.__table__.select())).all()  # type: ignore[attr-defined]
    return {r.dedupe_key: r.payload for r in rows if r.dedupe_key.endswith(":summary")}


async def _world(hidden: list[int]) -> list[str]:
    """Billing's middle round gets `hidden` answers (and a comment) while the setting is 5;
    the setting is lowered to 3 while it is open. Every view a lead or manager has."""
    database = Database("sqlite+aiosqlite://")
    await database.create_all()
    clock = FakeClock(START)
    at5 = make_ctx(database, clock, leadbot_secret="s")
    at3 = make_ctx(database, clock, leadbot_secret="s", pulse_min_responses=3)
    boss = await make_person(database, "big.boss", role=Role.manager)
    billing = await make_crew(database, "Billing", 6)
    sales = await make_crew(database, "Sales", 6)
    async with database.session() as s:
        for crew in (billing, sales):
            team = await s.get(Team, crew.team.id)
            assert team is not None
            team.manager_id = boss.id
    await _round(database, at5, clock, billing, [5, 4, 3, 2, 1, 4])
    await _round(database, at5, clock, sales, [5, 5, 4, 4, 3])
    # Opened under 5; the admin lowers the setting to 3 before it closes.
    rid = await open_now(database, at5, billing)
    for agent, score in zip(billing.agents, hidden, strict=False):
        assert (await tap(at3, agent, f"{rid}:esat:{score}")).ok
    assert (await comment(at3, billing.agents[0], rid, HIDDEN_COMMENT)).ok
    await _close(at3, clock)
    out = []
    rnd = await store.get_round(database, round_id=rid)
    assert rnd is not None
    team = await people.get_team(database, team_id=rnd.team_id)
    assert team is not None
    out.append((await summary_reply(at3, rnd, team)).to_json())
    out.append((await _summaries(database))[f"pulse:{rid}:summary"])
    for who in (billing.lead, boss):
        out.append(
            json.dumps([dataclasses.asdict(b) for b in await home_section(actor_of(who), at3)])
        )
    clock.advance(days=4)
    await _round(database, at3, clock, billing, [4, 4, 4, 5, 5])
    for weeks in (1, 2, 3, 12):
        out.append(
            (await run(database, at3, billing.lead, f"/pulse results weeks {weeks}")).to_json()
        )
    out.append((await run(database, at3, boss, "/pulse results")).to_json())
    out.append((await run(database, at3, boss, "/pulse results team Billing")).to_json())
    out.append((await home(actor_of(boss), at3)).to_json())
    await database.dispose()
    return out


async def test_lowering_the_threshold_never_reveals_a_round() -> None:
    """Whatever the three answers of a round opened under 5 were, every view is the same
    after the setting drops to 3, and none holds its comment."""
    low = await _world([1, 1, 1])
    high = await _world([5, 5, 5])
    assert low == high
    summary, queued, lead_home, boss_home, *results = low
    everything = "\n".join(low)
    assert HIDDEN_COMMENT not in everything
    for text in (summary, queued):
        assert TOO_FEW in text
        assert "closed with 3 answers from 6 asked" in text
        assert "at least 5 are needed" in text
        assert "ESAT" not in text
    assert "closed with 3 answers" in lead_home
    assert TOO_FEW in lead_home
    assert "ESAT" not in lead_home
    assert "Billing: the round of" in boss_home
    lead_all = Reply.from_json(results[3]).text
    assert "01 Dec 2026 · 3 · hidden" in lead_all  # in the trend by its count only
    assert "Over the 2 rounds shown" in lead_all  # pooled without it
    boss_all = Reply.from_json(results[4]).text
    # Exactly one team has a hidden round: the totals are still withheld.
    assert "Totals withheld" in boss_all
    assert "All teams: ESAT" not in boss_all
    assert "opened under a higher threshold" in results[4]


async def test_a_round_is_shown_at_the_threshold_it_was_opened_under(
    db: Database, clock: FakeClock
) -> None:
    at3 = make_ctx(db, clock, pulse_min_responses=3)
    at6 = make_ctx(db, clock, pulse_min_responses=6)
    crew = await make_crew(db, "Billing", 6)
    rid = await open_now(db, at3, crew)
    rnd = await store.get_round(db, round_id=rid)
    assert rnd is not None
    assert rnd.min_responses == 3
    for agent, score in zip(crew.agents, [5, 4, 4, 2], strict=False):
        await tap(ctx=at3, who=agent, value=f"{rid}:esat:{score}")
    await _close(at3, clock)
    assert "ESAT (4-5)" in all_text(await run(db, at3, crew.lead, "/pulse results"))
    # Raised later: today's threshold is higher, so the round is hidden after all.
    raised = all_text(await run(db, at6, crew.lead, "/pulse results"))
    assert "ESAT (4-5)" not in raised
    assert "closed with 4 answers" in raised
    assert "at least 6 are needed" in raised


async def test_the_dm_and_status_state_the_rounds_own_threshold(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    crew = await make_crew(db, "Billing", 6)
    at8 = make_ctx(db, clock, pulse_min_responses=8)
    await open_now(db, at8, crew)
    status = all_text(await run(db, ctx, crew.lead, "/pulse status"))
    assert "with at least 8 answers" in status
    home_text = all_text(await run(db, ctx, crew.agents[0], "/pulse status"))
    assert "only when at least 8 people answered" in home_text
