"""The pulse page has exactly chat's privacy: it is chat's own answer. Whatever a hidden
round (too few answers) answered, the page, its chart data and chat are byte-for-byte
the same; the page's results are the blocks `/pulse results` gives in chat."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import aiohttp
import pytest
from sqlmodel import col, select

from domain.privacy import respondent_hash
from domain.roles import Role
from domain.types import Command
from handlers.core.dispatch import run_command
from handlers.core.signin import actor_of
from handlers.dashboard import pulse_page
from handlers.dashboard.pulse import chat_blocks
from storage import people
from storage.db import Database
from storage.models import Person, PulseDelivery, PulseResponse, PulseRound, Team
from tests.bot.web.harness import NOW, Dashboard, running
from tests.conftest import TEST_SECRET, FakeClock, make_person, make_team


@pytest.fixture
async def dashboard(db: Database) -> AsyncIterator[Dashboard]:
    async with running(db, FakeClock(NOW)) as d:
        yield d


async def _round(
    db: Database,
    team: Team,
    agents: list[Person],
    *,
    weeks_ago: int,
    scores: list[int],
    enps: list[int] | None = None,
    comment: str | None = None,
) -> int:
    """A closed round that asked every agent; `scores` are the ESAT answers given."""
    opens = NOW - dt.timedelta(weeks=weeks_ago)
    async with db.session() as s:
        rnd = PulseRound(
            team_id=team.id or 0,
            question="How was your week?",
            include_enps=enps is not None,
            opens_at=opens,
            closes_at=opens + dt.timedelta(days=3),
            status="closed",
            summary_sent=True,
        )
        s.add(rnd)
        await s.flush()
        assert rnd.id is not None
        for i, p in enumerate(agents):
            assert p.id is not None
            s.add(PulseDelivery(round_id=rnd.id, person_id=p.id, answered=i < len(scores)))
            if i < len(scores):
                h = respondent_hash(TEST_SECRET, round_id=rnd.id, person_id=p.id)
                s.add(
                    PulseResponse(
                        round_id=rnd.id,
                        question="esat",
                        respondent_hash=h,
                        score=scores[i],
                        comment=comment,
                    )
                )
                if enps is not None:
                    s.add(
                        PulseResponse(
                            round_id=rnd.id, question="enps", respondent_hash=h, score=enps[i]
                        )
                    )
        return rnd.id


async def _set_answers(db: Database, round_id: int, score: int, comment: str) -> None:
    """Rewrite every answer of a round (the hidden one) to something else."""
    async with db.session() as s:
        rows = await s.execute(select(PulseResponse).where(col(PulseResponse.round_id) == round_id))
        for r in rows.scalars():
            r.score = score if r.question == "esat" else 10 - score
            r.comment = comment if r.question == "esat" else None


async def _team(db: Database, name: str) -> tuple[Team, list[Person]]:
    team = await make_team(db, name)
    agents = [await make_person(db, f"{name.lower()}.agent{i}", team=team) for i in range(7)]
    return team, agents


async def test_a_hidden_round_changes_nothing_on_the_page_or_in_chat(
    db: Database, dashboard: Dashboard
) -> None:
    team, agents = await _team(db, "Billing")
    lead = await make_person(db, "sam.lead", role=Role.lead, team=team)
    assert lead.id is not None
    assert team.id is not None
    lead = await people.assign_member(db, person_id=lead.id, team_id=team.id, role=Role.lead)
    await _round(db, team, agents, weeks_ago=6, scores=[4, 5, 3, 4, 5], enps=[9, 10, 6, 8, 9])
    hidden = await _round(
        db, team, agents, weeks_ago=4, scores=[1, 1, 2], enps=[0, 1, 2], comment="a"
    )
    await _round(db, team, agents, weeks_ago=2, scores=[5, 4, 4, 2, 5, 3], enps=[9, 9, 7, 3, 10, 8])

    async def seen(b: aiohttp.ClientSession) -> tuple[str, bytes, str]:
        async with b.get(dashboard.url(f"/dashboard/pulse?team={team.id}")) as r:
            assert r.status == 200
            html = await r.text()
        async with b.get(dashboard.url(f"/dashboard/api/pulse?team={team.id}")) as r:
            data = await r.read()
        chat = await run_command(
            Command(
                actor=actor_of(lead),
                verb="pulse",
                args=("results", "weeks", "12", "team", "Billing"),
            ),
            dashboard.app.ctx,
        )
        return html, data, chat.to_json()

    async with dashboard.signed_in(lead.email) as b:
        await _set_answers(db, hidden, 1, "the hidden round's secret one")
        first = await seen(b)
        await _set_answers(db, hidden, 5, "the hidden round's secret two")
        second = await seen(b)
    assert first == second  # page HTML, chart JSON and chat: byte for byte
    html, data, _ = first
    assert "secret" not in html
    assert b"secret" not in data
    assert "hidden" in html  # the round is there, as chat says it, without figures


async def test_the_page_shows_exactly_the_blocks_chat_answers(
    db: Database, dashboard: Dashboard
) -> None:
    billing, b_agents = await _team(db, "Billing")
    support, s_agents = await _team(db, "Support")
    manager = await make_person(db, "alex.manager", role=Role.manager)
    assert manager.id is not None
    for t in (billing, support):
        assert t.id is not None
        manager = await people.assign_member(
            db, person_id=manager.id, team_id=t.id, role=Role.manager
        )
    await _round(db, billing, b_agents, weeks_ago=3, scores=[4, 5, 3, 4, 5, 4])
    await _round(db, billing, b_agents, weeks_ago=1, scores=[4, 4, 5, 5, 2])
    await _round(db, support, s_agents, weeks_ago=2, scores=[2, 3])  # hidden
    await _round(db, support, s_agents, weeks_ago=1, scores=[3, 4, 4, 5, 5])
    actor = actor_of(manager)
    model = await pulse_page(dashboard.app.ctx, actor, None, 12)
    chat = await run_command(
        Command(actor=actor, verb="pulse", args=("results", "weeks", "12")), dashboard.app.ctx
    )
    assert list(model.blocks) == chat_blocks(chat)
    texts = [b.text for b in model.blocks]
    assert any(t.startswith("Totals withheld: Support") for t in texts)  # chat's suppression
    # The chart holds what the trend tables hold, and nothing of the hidden round.
    support_points = next(t for t in model.teams if t.name == "Support").points
    assert [p.shown for p in support_points] == [False, True]
    assert support_points[0].esat is None
    assert support_points[0].participation is None
    async with dashboard.signed_in(manager.email) as b:
        async with b.get(dashboard.url("/dashboard/pulse")) as r:
            html = await r.text()
        for block in model.blocks:
            if block.kind == "header":
                assert f"<h3>{block.text}</h3>" in html
