"""Load shedding: when the background queue is full, slash commands are answered "busy" in
the acknowledgement instead of queuing without bound (benchmarks/load.py floods it)."""

from __future__ import annotations

import asyncio
import json

from bot.slack.app import BUSY_TEXT, TaskTracker
from storage import people
from storage.db import Database
from tests.bot.slack.conftest import SlackServer
from tests.conftest import make_person


async def test_tracker_is_busy_only_beyond_slots_plus_waiting() -> None:
    tracker = TaskTracker(slots=1, max_waiting=1)
    release = asyncio.Event()
    assert not tracker.busy
    tracker.spawn(release.wait())
    assert not tracker.busy
    tracker.spawn(release.wait())
    assert tracker.busy
    release.set()
    assert await tracker.drain(5) == 0
    assert not tracker.busy


async def test_a_full_queue_answers_busy_in_the_ack_and_runs_nothing(
    slack: SlackServer, file_db: Database
) -> None:
    p = await make_person(file_db, "ana.silva")
    assert p.id is not None
    await people.set_platform_id(file_db, person_id=p.id, slack_user_id="U1")
    tracker = slack.bot.tracker
    tracker.slots, tracker.max_waiting = 1, 0
    release = asyncio.Event()
    tracker.spawn(release.wait())

    status, body = await slack.command("leadbot", "help")

    assert status == 200
    assert body == BUSY_TEXT  # a plain-text ack: Slack shows it to the user alone
    assert slack.bot.turned_away == 1
    assert len(tracker.tasks) == 1  # the command was not queued
    release.set()
    assert await tracker.drain(5) == 0
    assert slack.fake.of("response_url") == []

    # Once the queue has room again, commands run as usual.
    status, body = await slack.command("leadbot", "help")
    assert (status, body) == (200, "")
    [call] = await slack.fake.wait_calls("response_url")
    assert "/leadbot" in json.dumps(call.data["blocks"])
