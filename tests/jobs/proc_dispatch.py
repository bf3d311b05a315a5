"""A dispatcher process for the multi-process tests: sends pending Slack messages to a
fake Slack Web API until none is pending, with its clock moved by an offset.

python -m tests.jobs.proc_dispatch DB_URL SLACK_API_URL CLOCK_OFFSET_SECONDS LEASE_SECONDS \
    [--rate R [--burst B] [--unshared]] [--batch N]

Without --rate the limits are out of the way (10,000/s). With it, Slack's workspace budget
is R/s with bursts of B (default R), shared with every other dispatcher on the database
unless --unshared. It prints "started NAME" once its dispatcher runs, "sent=N" at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt

from bot.slack.sender import SlackSender
from domain.settings import Settings
from jobs.dispatcher import Dispatcher, DispatcherConfig, PlatformLimits, Rate
from storage import outbox
from storage.db import Database


async def main(args: argparse.Namespace) -> None:
    db = Database(args.url)
    settings = Settings(slack_bot_token="xoxb-test", slack_api_url=args.api_url)
    sender = SlackSender.from_settings(settings)

    def clock() -> dt.datetime:
        return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=args.offset)

    app = Rate(args.rate, 1.0, burst=args.burst) if args.rate else Rate(10_000)
    limits = {"slack": PlatformLimits(app=(app,), per_target=(Rate(10_000),))}
    d = Dispatcher(
        db,
        {"slack": sender},
        config=DispatcherConfig(
            limits=limits,
            lease_seconds=args.lease,
            poll_seconds=0.05,
            batch_size=args.batch,
            max_in_flight=args.batch,
            shared_rate=not args.unshared,
        ),
        clock=clock,
    )
    stop = asyncio.Event()

    async def watch() -> None:
        for _ in range(100_000):
            if (await outbox.counts(db))["pending"] == 0:
                break
            await asyncio.sleep(0.05)  # polls the database, not a schedule
        stop.set()

    print(f"started {d.name}", flush=True)
    watcher = asyncio.create_task(watch())
    await d.run(stop)
    await watcher
    await sender.close()
    await db.dispose()
    print(f"sent={d.stats.sent}", flush=True)


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("api_url")
    p.add_argument("offset", type=float)
    p.add_argument("lease", type=float)
    p.add_argument("--rate", type=float)
    p.add_argument("--burst", type=float)
    p.add_argument("--unshared", action="store_true")
    p.add_argument("--batch", type=int, default=200)
    return p.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse()))
