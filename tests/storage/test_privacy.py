"""Export, forget and retention, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

from sqlmodel import select

from domain.privacy import respondent_hash
from domain.roles import Role
from storage import privacy
from storage.db import Database
from storage.models import (
    ActionItem,
    OneOnOne,
    OutboxMessage,
    OutboxStatus,
    Person,
    PulseDelivery,
    PulseResponse,
    PulseRound,
    Recognition,
    Team,
)
from storage.outbox import OutboxNew, enqueue
from tests.conftest import make_person, make_team

NOW = dt.datetime(2026, 11, 17, 10, 0, tzinfo=dt.UTC)


async def _world(db: Database) -> tuple[Team, Person, Person, int]:
    team = await make_team(db)
    lead = await make_person(db, "lee.lead", role=Role.lead, team=team)
    maria = await make_person(db, "maria.lopez", team=team)
    assert team.id
    assert lead.id
    assert maria.id
    async with db.session() as s:
        s.add(
            Recognition(
                giver_id=lead.id, receiver_id=maria.id, team_id=team.id, message="great save"
            )
        )
        s.add(
            ActionItem(
                title="call back Smith", owner_id=maria.id, assigned_by_id=lead.id, team_id=team.id
            )
        )
        s.add(OneOnOne(lead_id=lead.id, agent_id=maria.id, timezone="Europe/London"))
        rnd = PulseRound(
            team_id=team.id,
            question="How satisfied are you?",
            opens_at=NOW - dt.timedelta(days=400),
            closes_at=NOW - dt.timedelta(days=397),
            status="closed",
        )
        s.add(rnd)
        await s.flush()
        assert rnd.id is not None
        s.add(PulseDelivery(round_id=rnd.id, person_id=maria.id, answered=True))
        s.add(
            PulseResponse(
                round_id=rnd.id,
                respondent_hash=respondent_hash("k", round_id=rnd.id, person_id=maria.id),
                score=2,
                comment="too many escalations",
            )
        )
        round_id = rnd.id
    await enqueue(
        db, messages=[OutboxNew(dedupe_key="dm:1", payload='{"blocks":[]}', person_id=maria.id)]
    )
    return team, lead, maria, round_id


async def test_export_holds_their_data_but_no_pulse_answers(any_db: Database) -> None:
    await _world(any_db)
    data = await privacy.export_person(any_db, email="MARIA.LOPEZ@example.com")
    assert data is not None
    text = json.dumps(data)
    assert data["person"]["email"] == "maria.lopez@example.com"
    assert data["team"] == "Billing"
    assert [k["message"] for k in data["kudos_received"]] == ["great save"]
    assert [a["title"] for a in data["action_items"]] == ["call back Smith"]
    assert len(data["one_on_ones"]) == 1
    assert len(data["messages_to_them"]) == 1
    assert data["pulse"]["rounds_invited"] == 1
    # Neither the score, the comment nor whether they answered is in the export.
    assert "too many escalations" not in text
    assert '"answered":' not in text
    assert "score" not in text
    assert await privacy.export_person(any_db, email="nobody@example.com") is None


async def test_forget_anonymises_and_keeps_shared_history(any_db: Database) -> None:
    team, lead, maria, round_id = await _world(any_db)
    assert await privacy.forget_person(any_db, email="maria.lopez@example.com")
    async with any_db.session() as s:
        p = await s.get(Person, maria.id)
        assert p is not None
        assert p.display_name == privacy.FORMER_MEMBER
        assert "maria" not in p.email
        assert p.active is False
        # Kudos and action items stay, attributed to the former member.
        assert len((await s.execute(select(Recognition))).scalars().all()) == 1
        assert len((await s.execute(select(ActionItem))).scalars().all()) == 1
        assert (await s.execute(select(OneOnOne))).scalars().all() == []
        deliveries = (await s.execute(select(PulseDelivery))).scalars().all()
        assert [d.person_id for d in deliveries] == [None]
        assert (await s.execute(select(OutboxMessage))).scalars().all() == []
    assert await privacy.export_person(any_db, email="maria.lopez@example.com") is None
    assert not await privacy.forget_person(any_db, email="maria.lopez@example.com")
    # The lead is untouched.
    async with any_db.session() as s:
        lead_row = await s.get(Person, lead.id)
        assert lead_row is not None
        assert lead_row.display_name == "Lee Lead"
    assert team.id is not None
    assert round_id > 0


async def test_retention_drops_old_comments_and_delivered_messages(any_db: Database) -> None:
    *_rest, round_id = await _world(any_db)
    async with any_db.session() as s:
        for m in (await s.execute(select(OutboxMessage))).scalars():
            m.status = OutboxStatus.sent
            m.created_at = NOW - dt.timedelta(days=31)
    counts = await privacy.apply_retention(any_db, now=NOW, pulse_comment_days=365, outbox_days=30)
    assert counts["pulse_comments"] == 1
    assert counts["outbox_messages"] == 1
    async with any_db.session() as s:
        resp = (await s.execute(select(PulseResponse))).scalars().one()
        assert resp.comment is None
        assert resp.score == 2  # the score itself stays for the trend
        assert resp.round_id == round_id
    again = await privacy.apply_retention(any_db, now=NOW, pulse_comment_days=365, outbox_days=30)
    assert again["pulse_comments"] == 0
    assert again["outbox_messages"] == 0


async def test_retention_keeps_recent_data(any_db: Database) -> None:
    await _world(any_db)
    counts = await privacy.apply_retention(any_db, now=NOW, pulse_comment_days=500, outbox_days=30)
    assert counts["pulse_comments"] == 0
    assert counts["outbox_messages"] == 0
