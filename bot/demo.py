"""`leadbot demo`: seed the sample contact center (once) and say what is in it."""

from __future__ import annotations

from domain.privacy import respondent_hash
from handlers.core.context import HandlerContext
from storage import demo


async def seed_and_describe(ctx: HandlerContext) -> str:
    """Seed the demo data unless present; a short summary of what the store holds."""
    secret = ctx.settings.secret

    def hasher(round_id: int, person_id: int) -> str:
        return respondent_hash(secret, round_id=round_id, person_id=person_id)

    created = await demo.seed(ctx.db, now=ctx.now(), hasher=hasher)
    counts = await demo.table_counts(ctx.db)
    head = "Seeded the demo contact center" if created else "The demo contact center is ready"
    teams = ", ".join(t.name for t in demo.TEAMS)
    summary = ", ".join(f"{n:,} {name}" for name, n in counts.items())
    return f"{head}: {teams} (lead of Billing: {demo.DEFAULT_USER_EMAIL}).\nRows: {summary}."
