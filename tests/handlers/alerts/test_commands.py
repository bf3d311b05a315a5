"""`/alert` and `/wallboard`: who may, what bad input answers, and the wallboard's
updates coalesced to its interval and stopped by `off`."""

from __future__ import annotations

import pytest

from domain.roles import Role
from handlers.alerts import digest
from handlers.core.dispatch import run_command
from storage import alerts, outbox, people
from storage.db import Database
from storage.models import OutboxStatus
from tests.conftest import FakeClock, command, make_ctx, make_person, make_team
from tests.handlers.alerts.helpers import FakeQueue, center, rows, step, text_of


async def _run(db: Database, clock: FakeClock, who: object, line: str) -> tuple[bool, str]:
    ctx = make_ctx(db, clock)
    reply = await run_command(await command(db, who, line), ctx)  # type: ignore[arg-type]
    texts = [reply.text] + [str(getattr(b, "text", "")) for b in reply.blocks]
    return reply.ok, "\n".join(texts)


async def test_defaults_once_then_kept(db: Database, clock: FakeClock) -> None:
    c = await center(db)
    ok, text = await _run(db, clock, c.lead, "/alert add defaults")
    assert ok
    assert "4 default alert(s) added" in text
    ok, text = await _run(db, clock, c.lead, "/alert add defaults")
    assert "nothing changed" in text
    rules = await alerts.list_rules(db)
    assert sorted(r.metric for r in rules) == ["abandon", "longest", "sl", "waiting"]
    sl = next(r for r in rules if r.metric == "sl")
    assert (sl.op, sl.warning, sl.critical, sl.onset_minutes) == ("<", 80, 70, 5)


async def test_add_edit_list_remove(db: Database, clock: FakeClock) -> None:
    c = await center(db)
    ok, text = await _run(
        db,
        clock,
        c.lead,
        "/alert add longest >= 1:00 3m for 2m queue billing-voice escalate never hours always",
    )
    assert ok, text
    [r] = await alerts.list_rules(db)
    assert (r.warning, r.critical, r.onset_minutes, r.escalate_minutes, r.hours, r.queue_key) == (
        60,
        180,
        2,
        None,
        "always",
        "billing-voice",
    )
    ok, text = await _run(
        db, clock, c.lead, f"/alert edit {r.id} warning 90s hours Mon-Fri 08:00-20:00 outside drop"
    )
    assert ok, text
    got = await alerts.get_rule(db, rule_id=r.id or 0)
    assert got is not None
    assert (got.warning, got.hours, got.outside) == (90, "Mon-Fri 08:00-20:00", "drop")
    ok, text = await _run(db, clock, c.manager, "/alert list")
    assert (ok and f"#{r.id}" in str(text)) or ok
    ok, text = await _run(db, clock, c.lead, f"/alert remove {r.id}")
    assert ok
    assert await alerts.list_rules(db) == []


@pytest.mark.parametrize(
    "line",
    [
        "/alert add",
        "/alert add speed < 1 2",
        "/alert add sl = 80 70",
        "/alert add sl < 70% 80%",
        "/alert add sl < 80% 70% for soon",
        "/alert add sl < 80% 70% hours Funday 25:00-26:00",
        "/alert add sl < 80% 70% outside later",
        "/alert add sl < 180% 70%",
        "/alert add sl < 80% 70% banana",
        "/alert edit",
        "/alert edit 99 warning 70%",
        "/alert pause",
        "/alert history days 400",
        "/wallboard on every 5s",
        "/alert frobnicate",
    ],
)
async def test_bad_input_answers_and_changes_nothing(
    db: Database, clock: FakeClock, line: str
) -> None:
    c = await center(db)
    ok, text = await _run(db, clock, c.lead, line)
    assert not ok, text
    assert await alerts.list_rules(db) == []
    assert await rows(db) == []


async def test_who_may(db: Database, clock: FakeClock) -> None:
    c = await center(db)
    other = await make_team(db, "Sales", tz="UTC")
    other_lead = await make_person(db, "olga.lead", role=Role.lead, team=other, tz="UTC")
    admin = await make_person(db, "ann.admin", role=Role.admin, tz="UTC")
    ok, text = await _run(db, clock, c.agent, "/alert add defaults")
    assert not ok
    assert "Only leads" in text
    ok, text = await _run(db, clock, other_lead, "/alert add defaults team Billing")
    assert not ok
    assert "isn't one of yours" in text
    ok, _ = await _run(db, clock, c.lead, "/alert add defaults")
    assert ok
    [rule, *_] = await alerts.list_rules(db)
    ok, text = await _run(db, clock, other_lead, f"/alert pause {rule.id}")
    assert not ok
    ok, text = await _run(db, clock, admin, "/alert add defaults")
    assert not ok
    assert "Say which team" in text
    ok, _ = await _run(db, clock, admin, "/alert add defaults team Sales")
    assert ok
    assert {r.team_id for r in await alerts.list_rules(db)} == {c.team.id, other.id}


async def test_wallboard_coalesces_to_its_interval_and_stops_on_off(
    db: Database, clock: FakeClock
) -> None:
    c = await center(db)
    ctx = make_ctx(db, clock)
    q = FakeQueue(clock)
    q.sl(85)
    q.set(waiting=3, longest_wait_seconds=20.0, agents_available=2, abandoned=1)
    await step(ctx, q, clock)
    ok, text = await _run(db, clock, c.lead, "/wallboard on")
    assert ok, text
    [post] = await rows(db)
    assert "Billing wallboard" in text_of(post)
    await outbox.mark_sent(db, message_id=post.id or 0, external_ref="ts-wb")
    for _ in range(12 * 5):  # five minutes of 5 s ticks
        await step(ctx, q, clock)
    edits = [m for m in await rows(db) if m.kind == "update"]
    assert len(edits) == 1  # never sent: one edit waiting, its payload replaced each minute
    assert "Updated 10:05" in text_of(edits[0])
    # Sent each time: one edit a minute, not one a tick.
    for m in edits:
        await outbox.mark_sent(db, message_id=m.id or 0, external_ref="ts-wb")
    for _ in range(12 * 5):
        await step(ctx, q, clock)
        for m in [
            m for m in await rows(db) if m.kind == "update" and m.status is OutboxStatus.pending
        ]:
            await outbox.mark_sent(db, message_id=m.id or 0, external_ref="ts-wb")
    edits = [m for m in await rows(db) if m.kind == "update"]
    assert 5 <= len(edits) <= 6
    ok, _ = await _run(db, clock, c.lead, "/wallboard off")
    assert ok
    last = [m for m in await rows(db) if m.kind == "update"][-1]
    assert "stopped" in text_of(last)
    before = len(await rows(db))
    for _ in range(12 * 3):
        await step(ctx, q, clock)
    assert len(await rows(db)) == before
    ok, text = await _run(db, clock, c.lead, "/wallboard off")
    assert not ok
    assert "no wallboard" in text


async def test_history_and_yesterdays_line(db: Database, clock: FakeClock) -> None:
    c = await center(db)
    ctx = make_ctx(db, clock)
    await _run(db, clock, c.lead, "/alert add sl < 80% 70% for 1m clear 1m")
    q = FakeQueue(clock)
    q.sl(60)
    for _ in range(30):
        await step(ctx, q, clock)
    q.sl(95)
    for _ in range(30):
        await step(ctx, q, clock)
    ok, text = await _run(db, clock, c.lead, "/alert history")
    assert ok
    assert "1 alert(s) in the last 7 day(s)" in text
    clock.advance(days=1)
    found = await digest.yesterday_incidents(ctx, c.team, today=clock().date())
    assert found.count == 1
    assert found.worst_queue == "Billing voice"
    line = digest.incidents_line(found)
    assert line is not None
    assert line.startswith("Yesterday: 1 queue alert, the longest")


async def test_without_a_linked_channel_alerts_say_so_and_no_wallboard_starts(
    db: Database, clock: FakeClock
) -> None:
    c = await center(db)
    db.unmapped_platform = "slack"  # production: nothing goes to a console
    ok, text = await _run(db, clock, c.lead, "/alert add defaults")
    assert ok
    assert "Billing has no channel linked" in text
    assert "/leadbot link" in text
    ok, text = await _run(db, clock, c.lead, "/wallboard on")
    assert not ok
    assert "no channel linked" in text
    assert await alerts.active_wallboards(db) == []
    await people.update_team(db, team_id=c.team.id or 0, slack_channel_id="C0BILLING")
    ok, text = await _run(db, clock, c.lead, "/alert add defaults")  # kept, and now linked
    assert "no channel linked" not in text
    ok, _ = await _run(db, clock, c.lead, "/wallboard on")
    assert ok
