"""The alert engine on a fake queue and an injected clock: one message per incident,
edited in place, one recovery; onset, cooldown, flapping and escalation."""

from __future__ import annotations

import dataclasses
import datetime as dt

from domain.sources import IntervalRow, SubjectKind, Window
from handlers.core.dispatch import run_command
from storage import alerts, outbox
from storage.alerts import NewRule
from storage.db import Database
from storage.intervals import apply_window
from storage.models import OutboxStatus
from tests.conftest import FakeClock, command, make_ctx
from tests.handlers.alerts.helpers import FakeQueue, center, rows, step, text_of


async def _sl_rule(db: Database, team_id: int, clock: FakeClock, **kw: object) -> int:
    new = NewRule(
        team_id=team_id,
        metric="sl",
        op="<",
        warning=80,
        critical=70,
        onset_minutes=2,
        cooldown_minutes=30,
        clear_minutes=2,
        escalate_minutes=10,
    )
    [(rule, _)] = await alerts.add_rules(db, rules=[dataclasses.replace(new, **kw)], now=clock())  # type: ignore[arg-type]
    assert rule.id is not None
    return rule.id


async def test_one_alert_updated_in_place_then_one_recovery(db: Database, clock: FakeClock) -> None:
    c = await center(db)
    ctx = make_ctx(db, clock, alert_update_seconds=20)
    await _sl_rule(db, c.team.id or 0, clock)
    q = FakeQueue(clock)
    q.sl(90)
    await step(ctx, q, clock)
    assert await rows(db) == []
    q.sl(75)  # warning
    for _ in range(24):  # the breach is seen at the first tick, then 1 min 55 s: under the onset
        await step(ctx, q, clock)
    assert await rows(db) == []
    await step(ctx, q, clock)  # 2 min: the onset has elapsed
    posted = await rows(db)
    assert len(posted) == 1
    assert posted[0].kind == "message"
    assert "Warning" in text_of(posted[0])
    assert "75.0%" in text_of(posted[0])
    # Worse: critical, edited in place (the post has not gone out: its payload changes).
    q.sl(60)
    await step(ctx, q, clock)
    posted = await rows(db)
    assert len(posted) == 1
    assert "Critical" in text_of(posted[0])
    assert "60.0%" in text_of(posted[0])
    # Once the post is out, edits are rows of kind "update", one waiting at a time.
    await _deliver(db, posted[0].id or 0)
    for v in (58, 55, 52, 50):
        q.sl(v)
        await step(ctx, q, clock, seconds=30)
    updates = [m for m in await rows(db) if m.kind == "update"]
    assert len(updates) == 1
    assert "50.0%" in text_of(updates[0])
    # Recovery: clear for 2 min resolves the same message.
    q.sl(95)
    for _ in range(25):
        await step(ctx, q, clock)
    all_rows = await rows(db)
    assert [m.kind for m in all_rows] == ["message", "update"]
    assert "Resolved" in text_of(all_rows[1])
    [inc] = await alerts.incidents_between(
        db, team_ids=None, start=clock() - dt.timedelta(hours=1), end=clock()
    )
    assert inc.resolved_at is not None
    assert inc.worst_severity == 2


async def _deliver(db: Database, message_id: int) -> None:
    await outbox.mark_sent(db, message_id=message_id, external_ref="ts-1")
    got = await outbox.get_message(db, message_id=message_id)
    assert got is not None
    assert got.status is OutboxStatus.sent


async def test_escalation_dms_the_manager_once(db: Database, clock: FakeClock) -> None:
    c = await center(db)
    ctx = make_ctx(db, clock)
    await _sl_rule(db, c.team.id or 0, clock, escalate_minutes=5)
    q = FakeQueue(clock)
    q.sl(60)
    for _ in range(12 * 20):  # 20 minutes critical
        await step(ctx, q, clock)
    dms = [m for m in await rows(db) if m.recipient_person_id is not None]
    assert len(dms) == 1
    assert dms[0].recipient_person_id == c.manager.id
    assert "critical for 5 min" in text_of(dms[0])  # critical from its first value
    [inc] = await alerts.open_incidents(db)
    assert inc.escalated_at is not None


async def test_outside_the_leads_hours_held_until_they_begin(db: Database) -> None:
    night = FakeClock(dt.datetime(2026, 11, 17, 3, 0, tzinfo=dt.UTC))  # Tuesday 03:00 UTC
    c = await center(db, lead_hours="Mon-Fri 09:00-17:00")
    ctx = make_ctx(db, night)
    await _sl_rule(db, c.team.id or 0, night)
    q = FakeQueue(night)
    q.sl(60)
    for _ in range(30):
        await step(ctx, q, night)
    [post] = await rows(db)
    assert post.next_attempt_at == dt.datetime(2026, 11, 17, 9, 0, tzinfo=dt.UTC)
    # It resolves before 09:00: the held post is edited in place, so it goes out resolved.
    q.sl(95)
    for _ in range(30):
        await step(ctx, q, night)
    [post] = await rows(db)
    assert "Resolved" in text_of(post)


async def test_outside_hours_dropped_when_the_rule_says_so(db: Database) -> None:
    night = FakeClock(dt.datetime(2026, 11, 17, 3, 0, tzinfo=dt.UTC))
    c = await center(db, lead_hours="Mon-Fri 09:00-17:00")
    ctx = make_ctx(db, night)
    await _sl_rule(db, c.team.id or 0, night, outside="drop", escalate_minutes=1)
    q = FakeQueue(night)
    q.sl(60)
    for _ in range(60):
        await step(ctx, q, night)
    assert await rows(db) == []  # no post, no escalation DM
    [inc] = await alerts.open_incidents(db)
    assert inc.posted is False  # but the incident is in the history


async def test_a_restart_resumes_the_open_incident_instead_of_announcing_it_again(
    db: Database, clock: FakeClock
) -> None:
    c = await center(db)
    await _sl_rule(db, c.team.id or 0, clock)
    q = FakeQueue(clock)
    q.sl(60)
    ctx = make_ctx(db, clock)
    for _ in range(30):
        await step(ctx, q, clock)
    assert len(await rows(db)) == 1
    restarted = make_ctx(db, clock)  # a new process: nothing in memory
    for _ in range(30):
        await step(restarted, q, clock)
    posts = [m for m in await rows(db) if m.kind == "message" and m.recipient_team_id]
    assert len(posts) == 1
    assert len(await alerts.open_incidents(db)) == 1


async def test_cooldown_reopens_the_same_message_then_a_new_one_after_it(
    db: Database, clock: FakeClock
) -> None:
    c = await center(db)
    ctx = make_ctx(db, clock)
    await _sl_rule(db, c.team.id or 0, clock, cooldown_minutes=30)
    q = FakeQueue(clock)
    q.sl(75)
    for _ in range(30):
        await step(ctx, q, clock)
    q.sl(95)
    for _ in range(30):
        await step(ctx, q, clock)
    assert len(await alerts.open_incidents(db)) == 0
    q.sl(75)  # back within the cooldown
    for _ in range(30):
        await step(ctx, q, clock)
    posts = [m for m in await rows(db) if m.kind == "message"]
    assert len(posts) == 1  # the same incident, reopened: no new post
    [inc] = await alerts.open_incidents(db)
    assert inc.reopened == 1
    q.sl(95)
    for _ in range(30):
        await step(ctx, q, clock)
    clock.advance(minutes=31)
    q.sl(75)
    for _ in range(30):
        await step(ctx, q, clock)
    posts = [m for m in await rows(db) if m.kind == "message"]
    assert len(posts) == 2


async def test_a_paused_rule_closes_its_incident_and_stays_quiet(
    db: Database, clock: FakeClock
) -> None:
    c = await center(db)
    ctx = make_ctx(db, clock)
    rule_id = await _sl_rule(db, c.team.id or 0, clock)
    q = FakeQueue(clock)
    q.sl(60)
    for _ in range(30):
        await step(ctx, q, clock)
    reply = await run_command(await command(db, c.lead, f"/alert pause {rule_id}"), ctx)
    assert reply.ok
    assert "1 open alert(s) closed" in reply.text + str(reply.blocks)
    [post] = await rows(db)
    assert "Resolved" in text_of(post)
    assert "paused by Lena Lead" in text_of(post)
    for _ in range(60):
        await step(ctx, q, clock)
    assert len(await rows(db)) == 1
    assert await alerts.open_incidents(db) == []


async def test_service_level_from_pulled_intervals_raises_the_alert(
    db: Database, clock: FakeClock
) -> None:
    """A poller gives only real-time figures; the connector's 15-minute intervals of the
    same queue give the service level over the last 30 minutes."""
    c = await center(db)
    ctx = make_ctx(db, clock)
    await _sl_rule(db, c.team.id or 0, clock)
    start = clock().replace(minute=0, second=0, microsecond=0) - dt.timedelta(minutes=30)
    window = Window(start, start + dt.timedelta(minutes=30))
    rows_in = [
        IntervalRow(
            start + dt.timedelta(minutes=m), 15, SubjectKind.queue, "billing-voice", k, n, 50, 50
        )
        for m, k, n in (
            (0, "service_level", 30),
            (15, "service_level", 35),
            (0, "abandon_rate", 5),
            (15, "abandon_rate", 5),
        )
    ]
    await apply_window(db, source="genesys", window=window, rows=rows_in)
    q = FakeQueue(clock)
    q.set(waiting=12)  # no window figures of its own
    for _ in range(26):
        await step(ctx, q, clock)
    [posted] = await rows(db)
    assert "Critical" in text_of(posted)
    assert "65.0%" in text_of(posted)  # (30 + 35) / 100
    [live] = await alerts.live_queues(db)
    assert (live.offered, live.answered_in_sl, live.abandoned) == (100, 65, 10)
