"""The slot arithmetic: recurring slots keep their wall-clock time across DST (two zones)."""

from __future__ import annotations

from domain.localtime import fmt_local
from handlers.core.context import HandlerContext
from handlers.oneonone.schedule import is_regular, next_slot, slot_at
from storage.db import Database
from tests.conftest import FakeClock
from tests.handlers.oneonone.helpers import at, pair, run, the_1on1


async def test_recurring_slots_keep_the_wall_clock_time_across_dst(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    p = await pair(db)
    clock.set(at(2027, 3, 1, 12))  # Mon 1 Mar 2027
    assert (await run(db, ctx, p.lead, "/1on1 schedule @maria.lopez every 1 weeks mon 10:00")).ok
    o = await the_1on1(db)
    slots = [slot_at(o, k) for k in range(5)]
    # London moves to BST on 28 Mar: 10:00 London is 10:00 UTC, then 09:00 UTC.
    assert slots == [
        at(2027, 3, 8, 10),
        at(2027, 3, 15, 10),
        at(2027, 3, 22, 10),
        at(2027, 3, 29, 9),
        at(2027, 4, 5, 9),
    ]
    # Chicago moves to CDT on 14 Mar, two weeks earlier: the agent's local time shifts.
    chicago = [fmt_local(t, "America/Chicago") for t in slots]
    assert chicago == [
        "Mon 08 Mar 04:00",
        "Mon 15 Mar 05:00",
        "Mon 22 Mar 05:00",
        "Mon 29 Mar 04:00",
        "Mon 05 Apr 04:00",
    ]
    assert all(is_regular(o, t) for t in slots)
    assert not is_regular(o, at(2027, 3, 9, 10))
    assert next_slot(o, at(2027, 3, 15, 10)) == at(2027, 3, 22, 10)
    assert next_slot(o, at(2027, 3, 15, 10), taken={at(2027, 3, 22, 10)}) == at(2027, 3, 29, 9)
