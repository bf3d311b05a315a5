"""A dispatcher process for the kill-and-restart test: sends pending Slack messages to a
fake Slack Web API until none is pending, with its clock moved by an offset.

python -m tests.jobs.proc_dispatch DB_URL SLACK_API_URL CLOCK_OFFSET_SECONDS LEASE_SECONDS
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys

from bot.slack.sender import SlackSender
from domain.settings import Settings
from jobs.dispatcher import Dispatcher, DispatcherConfig, PlatformLimits, Rate
from storage import outbox
from storage.db import Database


async def main(url: str, api_url: str, offset: float, lease: float) -> None:
    db = Database(url)
    settings = Settings(slack_bot_token="xoxb-test", slack_api_url=api_url)
    sender = SlackSender.from_settings(settings)

    def clock() -> dt.datetime:
        return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=offset)

    limits = {"slack": PlatformLimits(app=(Rate(10_000),), per_target=(Rate(10_000),))}
    d = Dispatcher(
        db,
        {"slack": sender},
        config=DispatcherConfig(limits=limits, lease_seconds=lease, poll_seconds=0.05),
        clock=clock,
    )
    stop = asyncio.Event()

    async def watch() -> None:
        for _ in range(100_000):
            if (await outbox.counts(db))["pending"] == 0:
                break
            await asyncio.sleep(0.05)  # polls the database, not a schedule
        stop.set()

    watcher = asyncio.create_task(watch())
    await d.run(stop)
    await watcher
    await sender.close()
    await db.dispose()
    print(f"sent={d.stats.sent}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])))
