"""The alert engine on a fake queue and an injected clock: one message per incident,
edited in place, one recovery; onset, cooldown, flapping and escalation."""

from __future__ import annotations

from domain.types import Reply
from handlers import alerts as feature
from storage import alerts
from storage.alerts import NewRule
from storage.db import Database
from storage.models import OutboxStatus
from tests.conftest import FakeClock, make_ctx
from tests.handlers.alerts.helpers import FakeQueue, center, rows, step, text_of


async def _sl_rule(db: Database, team_id: int, clock: FakeClock, **kw: object) -> int:
    new = NewRule(team_id=team_id, metric="sl", op="<", warning=80, critical=70, onset_minutes=2,
                  cooldown_minutes=30, clear_minutes=2, escalate_minutes=10)
    import dataclasses

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
    assert len(posted) == 1 and posted[0].kind == "message"
    assert "Warning" in text_of(posted[0]) and "75.0%" in text_of(posted[0])
    # Worse: critical, edited in place (the post has not gone out: its payload changes).
    q.sl(60)
    await step(ctx, q, clock)
    posted = await rows(db)
    assert len(posted) == 1 and "Critical" in text_of(posted[0]) and "60.0%" in text_of(posted[0])
    # Once the post is out, edits are rows of kind "update", one waiting at a time.
    await _deliver(db, posted[0].id or 0)
    for v in (58, 55, 52, 50):
        q.sl(v)
        await step(ctx, q, clock, seconds=30)
    updates = [m for m in await rows(db) if m.kind == "update"]
    assert len(updates) == 1 and "50.0%" in text_of(updates[0])
    # Recovery: clear for 2 min resolves the same message.
    q.sl(95)
    for _ in range(25):
        await step(ctx, q, clock)
    all_rows = await rows(db)
    assert [m.kind for m in all_rows] == ["message", "update"]
    assert "Resolved" in text_of(all_rows[1])
    [inc] = await alerts.incidents_between(db, team_ids=None, start=clock() - __import__("datetime").timedelta(hours=1), end=clock())
    assert inc.resolved_at is not None and inc.worst_severity == 2


async def _deliver(db: Database, message_id: int) -> None:
    from storage import outbox

    await outbox.mark_sent(db, message_id=message_id, external_ref="ts-1")
    got = await outbox.get_message(db, message_id=message_id)
    assert got is not None and got.status is OutboxStatus.sent
