"""Enqueueing messages: routing, dedupe keys and quiet-hours holds, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.types import Reply
from storage import outbox, people
from storage.db import Database
from storage.models import OutboxStatus, utcnow
from storage.outbox import OutboxNew
from tests.conftest import make_person, make_team

PAYLOAD = Reply(text="hi").to_json()


async def test_routes_by_platform_identity(any_db: Database) -> None:
    team = await make_team(any_db)
    console_p = await make_person(any_db, "a.console", team=team)
    slack_p = await make_person(any_db, "b.slack", team=team)
    teams_p = await make_person(any_db, "c.teams", team=team)
    await people.set_platform_id(any_db, person_id=slack_p.id or 0, slack_user_id="U0SLACK")
    await people.set_platform_id(any_db, person_id=teams_p.id or 0, teams_user_id="29:abc")
    msgs = [
        OutboxNew(dedupe_key=f"k{p.id}", payload=PAYLOAD, person_id=p.id)
        for p in (console_p, slack_p, teams_p)
    ] + [OutboxNew(dedupe_key="team", payload=PAYLOAD, team_id=team.id)]
    assert await outbox.enqueue(any_db, messages=msgs) == 4
    rows = await outbox.messages_after(any_db, after_id=0)
    assert [(r.platform, r.target) for r in rows] == [
        ("console", "a.console@example.com"),
        ("slack", "U0SLACK"),
        ("teams", "29:abc"),
        ("console", "#Billing"),
    ]
    assert all(r.status is OutboxStatus.pending and r.attempts == 0 for r in rows)
    assert Reply.from_json(rows[0].payload).fallback == "hi"


async def test_a_dedupe_key_is_enqueued_once(any_db: Database) -> None:
    p = await make_person(any_db, "a.person")
    m = OutboxNew(dedupe_key="action:1:due:2026-11-17", payload=PAYLOAD, person_id=p.id)
    assert await outbox.enqueue(any_db, messages=[m]) == 1
    assert await outbox.enqueue(any_db, messages=[m, m]) == 0
    assert len(await outbox.messages_after(any_db, after_id=0)) == 1


async def test_holds_and_past_times(any_db: Database) -> None:
    p = await make_person(any_db, "a.person")
    later = utcnow() + dt.timedelta(days=2)
    past = utcnow() - dt.timedelta(days=2)
    await outbox.enqueue(
        any_db,
        messages=[
            OutboxNew(dedupe_key="later", payload=PAYLOAD, person_id=p.id, not_before=later),
            OutboxNew(dedupe_key="past", payload=PAYLOAD, person_id=p.id, not_before=past),
        ],
    )
    held, due = await outbox.messages_after(any_db, after_id=0)
    assert abs((held.next_attempt_at - later).total_seconds()) < 1
    # A time in the past means due at once; it is kept as given (callers run on their clock).
    assert abs((due.next_attempt_at - past).total_seconds()) < 1
    assert due.next_attempt_at <= utcnow()


async def test_one_recipient_and_unknown_ones_skipped(any_db: Database) -> None:
    team = await make_team(any_db)
    p = await make_person(any_db, "a.person", team=team)
    with pytest.raises(ValueError, match="one person or one team"):
        await outbox.enqueue(
            any_db,
            messages=[OutboxNew(dedupe_key="x", payload=PAYLOAD, person_id=p.id, team_id=team.id)],
        )
    with pytest.raises(ValueError, match="one person or one team"):
        await outbox.enqueue(any_db, messages=[OutboxNew(dedupe_key="y", payload=PAYLOAD)])
    added = await outbox.enqueue(
        any_db,
        messages=[
            OutboxNew(dedupe_key="ghost", payload=PAYLOAD, person_id=9999),
            OutboxNew(dedupe_key="ghost-team", payload=PAYLOAD, team_id=9999),
        ],
    )
    assert added == 0
    assert await outbox.enqueue(any_db, messages=[]) == 0


async def test_last_id_messages_after_and_mark_sent(any_db: Database) -> None:
    p = await make_person(any_db, "a.person")
    assert await outbox.last_id(any_db) == 0
    await outbox.enqueue(
        any_db,
        messages=[OutboxNew(dedupe_key=f"m{i}", payload=PAYLOAD, person_id=p.id) for i in range(3)],
    )
    first, *rest = await outbox.messages_after(any_db, after_id=0)
    assert await outbox.last_id(any_db) == rest[-1].id
    assert [r.id for r in await outbox.messages_after(any_db, after_id=first.id or 0)] == [
        r.id for r in rest
    ]
    await outbox.mark_sent(any_db, message_id=first.id or 0, external_ref="ts-1")
    sent = (await outbox.messages_after(any_db, after_id=0))[0]
    assert sent.status is OutboxStatus.sent
    assert sent.external_ref == "ts-1"
    assert sent.sent_at
    await outbox.mark_sent(any_db, message_id=first.id or 0, external_ref="other")
    assert (await outbox.messages_after(any_db, after_id=0))[0].external_ref == "ts-1"
