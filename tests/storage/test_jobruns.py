"""Claims of scheduled runs (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import datetime as dt

from storage import jobruns
from storage.db import Database

FIRE = dt.datetime(2026, 3, 9, 13, 0, tzinfo=dt.UTC)


async def test_first_claim_wins_and_second_finds_it_taken(any_db: Database) -> None:
    first = await jobruns.claim(
        any_db, job_id="goal", scope="team:1", fire_time=FIRE, claimed_by="a"
    )
    second = await jobruns.claim(
        any_db, job_id="goal", scope="team:1", fire_time=FIRE, claimed_by="b"
    )
    assert first is not None
    assert second is None
    run = await jobruns.get_run(any_db, job_id="goal", scope="team:1", fire_time=FIRE)
    assert run is not None
    assert run.claimed_by == "a"
    assert run.status == "running"


async def test_same_instant_in_another_zone_is_the_same_claim(any_db: Database) -> None:
    from zoneinfo import ZoneInfo

    local = FIRE.astimezone(ZoneInfo("America/New_York"))
    assert await jobruns.claim(any_db, job_id="j", scope="", fire_time=FIRE, claimed_by="a")
    assert (
        await jobruns.claim(any_db, job_id="j", scope="", fire_time=local, claimed_by="b") is None
    )


async def test_other_scope_or_fire_time_is_a_separate_claim(any_db: Database) -> None:
    assert await jobruns.claim(any_db, job_id="j", scope="team:1", fire_time=FIRE, claimed_by="a")
    assert await jobruns.claim(any_db, job_id="j", scope="team:2", fire_time=FIRE, claimed_by="a")
    later = FIRE + dt.timedelta(days=1)
    assert await jobruns.claim(any_db, job_id="j", scope="team:1", fire_time=later, claimed_by="a")
    assert await jobruns.claim(any_db, job_id="k", scope="team:1", fire_time=FIRE, claimed_by="a")


async def test_concurrent_claims_only_one_wins(concurrent_db: Database) -> None:
    results = await asyncio.gather(
        *(
            jobruns.claim(
                concurrent_db, job_id="race", scope="", fire_time=FIRE, claimed_by=f"n{i}"
            )
            for i in range(8)
        )
    )
    assert sum(r is not None for r in results) == 1


async def test_finish_records_ok_and_failure(any_db: Database) -> None:
    ok_id = await jobruns.claim(any_db, job_id="a", scope="", fire_time=FIRE, claimed_by="x")
    bad_id = await jobruns.claim(any_db, job_id="b", scope="", fire_time=FIRE, claimed_by="x")
    assert ok_id
    assert bad_id
    await jobruns.finish(any_db, run_id=ok_id, ok=True, now=FIRE)
    await jobruns.finish(any_db, run_id=bad_id, ok=False, error="KeyError: 'x'" * 200, now=FIRE)
    runs = {r.job_id: r for r in await jobruns.list_runs(any_db)}
    assert runs["a"].status == "ok"
    assert runs["a"].error is None
    assert runs["b"].status == "failed"
    assert runs["b"].error is not None
    assert runs["b"].error.startswith("KeyError")
    assert len(runs["b"].error) <= 1000
    assert runs["a"].finished_at == FIRE
    latest = await jobruns.last_runs(any_db)
    assert set(latest) == {("a", ""), ("b", "")}
