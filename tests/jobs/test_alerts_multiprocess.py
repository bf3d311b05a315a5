"""Two scheduler processes evaluating the same alerts at the same moments: one incident,
one message, each change written once."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

from domain.live import Observation
from domain.roles import Role
from storage import alerts, outbox
from storage.alerts import NewRule
from storage.db import Database
from storage.models import OutboxStatus
from tests.conftest import make_person, make_team
from tests.jobs.test_multiprocess import shared_db, spawn

__all__ = ["shared_db"]

T0 = dt.datetime(2026, 11, 17, 10, 0, tzinfo=dt.UTC)


async def test_two_schedulers_one_incident_message_no_duplicate_updates(
    shared_db: tuple[str, Database],
) -> None:
    url, db = shared_db
    team = await make_team(db, "Billing", tz="UTC")
    await make_person(
        db, "lena.lead", role=Role.lead, team=team, tz="UTC", work_hours="Mon-Sun 00:00-23:59"
    )
    await make_person(db, "max.manager", role=Role.manager, team=team, tz="UTC")
    rule = NewRule(
        team_id=team.id or 0,
        metric="sl",
        op="<",
        warning=80,
        critical=70,
        onset_minutes=1,
        clear_minutes=1,
        escalate_minutes=3,
    )
    await alerts.add_rules(db, rules=[rule], now=T0)
    procs = [await spawn("tests.jobs.proc_alerts", url, f"node{i}") for i in range(2)]
    for p in procs:
        assert p.stdout is not None
        assert (await asyncio.wait_for(p.stdout.readline(), 60)).strip() == b"ready"
    base = Observation(
        queue_id="q1", queue_name="Billing voice", team="Billing", observed_at=T0, offered=100
    )
    # 2 min fine, 6 min critical (sinking), 3 min fine: open, worse, escalate, resolve.
    timeline = [95] * 24 + [60 - i // 6 for i in range(72)] + [95] * 36
    for i, sl in enumerate(timeline):
        now = T0 + dt.timedelta(seconds=5 * i)
        await alerts.save_observations(
            db,
            observations=[dataclasses.replace(base, observed_at=now, answered_in_sl=sl)],
            now=now,
        )
        for p in procs:
            assert p.stdin is not None
            p.stdin.write(f"{now.isoformat()}\n".encode())
        await asyncio.gather(*(p.stdin.drain() for p in procs if p.stdin))
        for p in procs:
            assert p.stdout is not None
            assert (await asyncio.wait_for(p.stdout.readline(), 60)).strip() == b"done"
        # The dispatcher's part: every message goes out before the next tick.
        for m in await outbox.list_messages(db, status=OutboxStatus.pending):
            await outbox.mark_sent(db, message_id=m.id or 0, external_ref=f"ts-{m.id}")
    for p in procs:
        assert p.stdin is not None
        p.stdin.close()
        await asyncio.wait_for(p.wait(), 60)
    rows = await outbox.messages_after(db, after_id=0, limit=10_000)
    posts = [m for m in rows if m.kind == "message" and m.recipient_team_id]
    dms = [m for m in rows if m.recipient_person_id]
    updates = [m for m in rows if m.kind == "update"]
    assert len(posts) == 1
    assert len(dms) == 1  # one escalation
    incidents = await alerts.incidents_between(
        db, team_ids=None, start=T0, end=T0 + dt.timedelta(hours=1)
    )
    assert len(incidents) == 1
    assert incidents[0].resolved_at is not None
    # At most one edit per tick (never two processes editing for the same change), and
    # edits no more often than ALERT_UPDATE_SECONDS apart unless something happened.
    ticks = [m.created_at for m in updates]
    assert len(ticks) == len(set(ticks))
    assert 3 <= len(updates) <= 6 * 60 // 20 + 4
