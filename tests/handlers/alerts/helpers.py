"""A fake live source on the test's clock, and a team with a lead and a manager."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from domain.live import Observation
from domain.roles import Role
from domain.types import Reply
from handlers import alerts as feature
from handlers.core.context import HandlerContext
from storage import outbox, people
from storage.db import Database
from storage.models import OutboxMessage, Person, Team
from tests.conftest import FakeClock, make_person, make_team


@dataclass
class FakeQueue:
    """A LiveSource whose one queue's figures the test sets."""

    clock: FakeClock
    queue_id: str = "billing-voice"
    team: str | None = "Billing"
    obs: Observation | None = None
    name: str = "fake"
    poll_seconds: float = 5.0

    def set(self, **figures: object) -> None:
        base = self.obs or Observation(
            queue_id=self.queue_id,
            observed_at=self.clock(),
            queue_name="Billing voice",
            team=self.team,
        )
        self.obs = dataclasses.replace(base, observed_at=self.clock(), **figures)  # type: ignore[arg-type]

    def sl(self, percent: float, offered: int = 100) -> None:
        self.set(offered=offered, answered_in_sl=round(offered * percent / 100))

    async def observe(self) -> list[Observation]:
        # A platform answers with the figures as of now.
        return [dataclasses.replace(self.obs, observed_at=self.clock())] if self.obs else []


@dataclass
class Center:
    team: Team
    lead: Person
    manager: Person
    agent: Person


async def center(db: Database, *, lead_hours: str = "Mon-Sun 00:00-23:59") -> Center:
    team = await make_team(db, "Billing", tz="UTC")
    lead = await make_person(
        db, "lena.lead", role=Role.lead, team=team, tz="UTC", work_hours=lead_hours
    )
    manager = await make_person(db, "max.manager", role=Role.manager, team=team, tz="UTC")
    agent = await make_person(db, "ada.agent", team=team, tz="UTC")
    got = await people.get_team(db, team_id=team.id or 0)
    assert got is not None
    assert got.lead_id == lead.id
    assert got.manager_id == manager.id
    return Center(got, lead, manager, agent)


async def step(
    ctx: HandlerContext, source: FakeQueue, clock: FakeClock, seconds: float = 5
) -> feature.TickStats:
    """Advance the clock, poll the source, run one tick."""
    clock.advance(seconds=seconds)
    await feature.poll(ctx, [source])
    return await feature.tick(ctx)


async def rows(db: Database) -> list[OutboxMessage]:
    return await outbox.messages_after(db, after_id=0, limit=10_000)


def text_of(m: OutboxMessage) -> str:
    r = Reply.from_json(m.payload)
    parts = [r.text]
    for b in r.blocks:
        for attr in ("text",):
            if hasattr(b, attr):
                parts.append(str(getattr(b, attr)))
        if hasattr(b, "pairs"):
            parts += [f"{k}: {v}" for k, v in b.pairs]
    return "\n".join(parts)


__all__ = ["Center", "FakeQueue", "center", "dt", "rows", "step", "text_of"]
