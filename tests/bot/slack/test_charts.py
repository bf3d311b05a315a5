"""`/stats METRIC chart` in Slack, end to end against the loopback fake: the PNG is drawn,
uploaded in Slack's three steps and shown in the asker's DM; the ephemeral answer keeps
the figures as text; a refused upload still answers, and the log says why once."""

from __future__ import annotations

import logging
import struct

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.bootstrap import bootstrap
from bot.server import build_web_app
from bot.slack.app import SLACK_BOT_KEY
from handlers.registry import build_registry
from storage import people
from storage.db import Database
from tests.bot.slack.conftest import SlackServer, slack_settings
from tests.bot.slack.fake_slack import FakeSlack
from tests.conftest import FakeClock
from tests.handlers.stats.world import World, make_world

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


async def _world(db: Database) -> World:
    w = await make_world(db)
    assert w.lead.id is not None
    await people.set_platform_id(db, person_id=w.lead.id, slack_user_id="U1")
    return w


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_MAGIC
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def _answered(fake: FakeSlack) -> dict[str, object]:
    [call] = await fake.wait_calls("response_url")
    return call.data


async def test_chart_is_uploaded_in_three_steps_and_shown_in_the_dm(
    slack: SlackServer, file_db: Database
) -> None:
    await _world(file_db)
    fake = slack.fake
    status, _ = await slack.command("stats", "aht chart week", channel="C1")
    assert status == 200
    answer = await _answered(fake)
    # The three calls, in order, and nothing shared before the bytes arrived.
    methods = [
        c.method
        for c in fake.calls
        if c.method.startswith("files.") or c.method in ("upload", "conversations.open")
    ]
    assert methods == [
        "conversations.open",
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]
    [ask] = fake.of("files.getUploadURLExternal")
    [file_id] = fake.uploads
    png = fake.uploads[file_id]
    assert int(ask.data["length"]) == len(png)
    assert str(ask.data["filename"]).endswith(".png")
    assert "Average handle time" in str(ask.data["alt_txt"])
    width, height = _png_size(png)
    assert (width, height) == (960, 480)
    assert 5_000 < len(png) < 300_000
    # Shown in the asker's DM with leadbot, titled, with the chart's title as its comment.
    [opened] = fake.of("conversations.open")
    assert opened.data["users"] == "U1"
    [shared] = fake.shared
    assert shared["id"] == file_id
    assert shared["channel"] == "DU1"
    assert "Average handle time" in str(shared["title"])
    assert "Billing" in str(shared["initial_comment"])
    # The ephemeral answer: the figures as text (the table) and where the image went.
    assert answer["response_type"] == "ephemeral"
    body = str(answer["blocks"])
    assert "Mon 16 Nov" in body
    assert "The chart is in your DM with leadbot." in body
    assert "Line chart of Average handle time" in str(answer["text"])


async def test_a_chart_asked_in_the_dm_goes_to_that_dm_without_a_note(
    slack: SlackServer, file_db: Database
) -> None:
    await _world(file_db)
    slack.fake.bot_dms["U1"] = "D1"
    await slack.command("stats", "aht chart week", channel="D1")
    answer = await _answered(slack.fake)
    [shared] = slack.fake.shared
    assert shared["channel"] == "D1"
    assert "The chart is in your DM" not in str(answer["blocks"])


@pytest.mark.parametrize("error", ["missing_scope", "not_in_channel"])
async def test_a_refused_upload_still_answers_and_logs_why_once(
    slack: SlackServer, file_db: Database, caplog: pytest.LogCaptureFixture, error: str
) -> None:
    await _world(file_db)
    slack.fake.refuse["files.getUploadURLExternal"] = error
    caplog.set_level(logging.WARNING, logger="bot.slack.upload")
    for n in (1, 2):
        slack.fake.calls.clear()
        await slack.command("stats", "aht chart week")
        answer = await _answered(slack.fake)
        assert "Mon 16 Nov" in str(answer["blocks"])  # the figures went out
        assert "I couldn't post the chart image" in str(answer["blocks"])
        assert not slack.fake.shared, n
    logged = [r for r in caplog.records if "chart image not posted" in r.getMessage()]
    assert len(logged) == 1
    assert error in logged[0].getMessage()


async def test_charts_off_upload_nothing(
    fake_slack: FakeSlack, file_db: Database, clock: FakeClock
) -> None:
    await _world(file_db)
    settings = slack_settings(fake_slack, file_db, charts_enabled=False)
    app = build_web_app(bootstrap(settings, db=file_db, clock=clock, registry=build_registry()))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            off = SlackServer(server, session, fake_slack, app[SLACK_BOT_KEY])
            await off.command("stats", "aht chart week")
            answer = await _answered(fake_slack)
    finally:
        await server.close()
    assert "Charts are turned off" in str(answer["blocks"])
    assert "Mon 16 Nov" in str(answer["blocks"])
    assert not fake_slack.of("files.getUploadURLExternal")
    assert not fake_slack.of("conversations.open")


def test_the_first_chart_loads_matplotlib_not_the_import_of_the_app() -> None:
    import subprocess
    import sys

    code = (
        "import sys, bot.slack.app, bot.server, bot.charts\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib loaded at startup'\n"
        "from domain.types import Chart, ChartSeries\n"
        "png = bot.charts.render_png(Chart('line', 't', ('a', 'b'),"
        " (ChartSeries('s', (1.0, 2.0), ('1', '2')),)))\n"
        "assert 'matplotlib' in sys.modules and png[:4] == b'\\x89PNG'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
