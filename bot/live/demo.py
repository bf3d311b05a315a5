"""`leadbot demo live`: a scripted live feed for the demo's Billing team, on a simulated
clock, so an incident can be watched open, update, escalate and resolve in the console.

The feed goes through the same path as a real source (ingest, then the alert job's tick);
the console prints each post and edit as the outbox gets it. Nothing here is a fake of
leadbot's own: only time and the platform are simulated.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import sys
from collections.abc import Callable
from typing import TextIO

from bot.bootstrap import App
from bot.console import Console, StdinSource, actor_from, parse_line
from bot.demo import seed_and_describe
from domain.live import Observation
from domain.shifts import next_working_moment
from domain.types import Action, Platform
from handlers import alerts
from handlers.core.context import HandlerContext
from handlers.core.dispatch import run_action, run_command
from storage import alerts as alert_store
from storage import people
from storage.migrate import upgrade
from storage.models import Person, Team

STEP = dt.timedelta(seconds=30)

# (minute, service level %, waiting, longest wait s, agents available)
SCRIPT = (
    (0, 88, 3, 20, 4),
    (1, 78, 5, 35, 2),
    (4, 76, 6, 40, 2),
    (7, 64, 8, 50, 0),
    (12, 60, 9, 55, 0),
    (15, 72, 6, 45, 1),
    (16, 83, 3, 25, 3),
    (18, 86, 2, 15, 4),
    (22, 88, 2, 12, 4),
)
ACK_AT = 9  # the lead presses "I'm on it"


def figures_at(minute: float) -> tuple[int, int, int, int]:
    """The script's figures in force at a simulated minute."""
    current = SCRIPT[0][1:]
    for row in SCRIPT:
        if row[0] <= minute:
            current = row[1:]
    return current


class SimClock:
    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now


async def _lead_of(ctx: HandlerContext) -> tuple[Team, Person]:
    team = await people.get_team_by_name(ctx.db, name="Billing")
    if team is None or team.lead_id is None:
        raise RuntimeError("the demo's Billing team is missing: run `leadbot demo --seed-only`")
    lead = await people.get_person(ctx.db, person_id=team.lead_id)
    assert lead is not None
    return team, lead


async def _command(
    ctx: HandlerContext, lead: Person, text: str, say: Callable[[str], None]
) -> None:
    cmd = await parse_line(ctx.db, actor_from(lead), text, platform=Platform.console)
    reply = await run_command(cmd, ctx)
    say(f"{lead.display_name.split()[0].lower()}> {text}\n  {reply.fallback}")


async def run(app: App, *, pause: float = 0.4, out: TextIO | None = None) -> int:
    """Play the script; `pause` is the real seconds per simulated 30 s."""
    stream = out or sys.stdout
    await upgrade(app.db)
    print(await seed_and_describe(app.ctx), file=stream, flush=True)
    team, lead = await _lead_of(app.ctx)
    start = next_working_moment(lead.work_hours, lead.timezone, app.ctx.now()).replace(
        second=0, microsecond=0
    )
    clock = SimClock(start + dt.timedelta(hours=1) if start > app.ctx.now() else start)
    ctx = dataclasses.replace(app.ctx, clock=clock)
    console = Console(ctx, actor_from(lead), stream, StdinSource(sys.stdin, interactive=False))
    await console.start()

    def say(text: str) -> None:
        print(text, file=stream, flush=True)

    say(
        f"\nA scripted live feed for {team.name}'s queue 'Billing voice' "
        f"(30 s of queue time every {pause:g} s)."
    )
    await _command(ctx, lead, "/alert add defaults", say)
    rules = await alert_store.list_rules(ctx.db, team_ids=[team.id or 0])
    sl_rule = next(r for r in rules if r.metric == "sl" and not r.queue_key)
    await _command(
        ctx,
        lead,
        f"/alert edit {sl_rule.id} warning 80% critical 70% for 5m escalate 5m hours always",
        say,
    )
    await console.show_new_messages()
    shown: tuple[int, int, int, int] | None = None
    acked = False
    minute = 0.0
    while minute <= SCRIPT[-1][0] + 1:
        sl, waiting, longest, available = figures_at(minute)
        if (sl, waiting, longest, available) != shown:
            say(
                f"\n[{clock.now:%H:%M} queue] Billing voice: SL {sl}% (30 min), "
                f"{waiting} waiting, longest {longest}s, {available} agent(s) available"
            )
            shown = (sl, waiting, longest, available)
        obs = Observation(
            queue_id="billing-voice",
            queue_name="Billing voice",
            team=team.name,
            observed_at=clock.now,
            source="demo",
            waiting=waiting,
            longest_wait_seconds=float(longest),
            agents_available=available,
            offered=100,
            answered_in_sl=sl,
            abandoned=2,
        )
        await alerts.ingest(ctx, [obs])
        await alerts.tick(ctx)
        if minute >= ACK_AT and not acked:
            acked = await _ack(ctx, lead, say)
        await console.show_new_messages()
        await asyncio.sleep(pause)
        clock.now += STEP
        minute += STEP.total_seconds() / 60
    say(
        "\nThat was one incident: posted once, edited in place, escalated, resolved. "
        "`/alert history` lists it."
    )
    await _command(ctx, lead, "/alert history days 1", say)
    return 0


async def _ack(ctx: HandlerContext, lead: Person, say: Callable[[str], None]) -> bool:
    found = await alerts.open_incident_ids(ctx)
    if not found:
        return False
    say(f'\n{lead.display_name} presses "I\'m on it".')
    await run_action(
        Action(actor=actor_from(lead), action_id="alert.ack", value=str(found[0])), ctx
    )
    return True


async def main(app: App, args: argparse.Namespace) -> int:
    try:
        return await run(app, pause=getattr(args, "pause", 0.4))
    finally:
        await app.db.dispose()
