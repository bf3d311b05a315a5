"""`leadbot demo`: seed the sample contact center (once) and say what is in it; and the
secret the demo and the console use when LEADBOT_SECRET is not set.

`serve`, `run` and `scheduler` refuse to start without a real LEADBOT_SECRET
(bot/runner.py). The demo and the console must start with nothing set, so they make a
random secret once and keep it beside the SQLite database (`leadbot.db.secret`, mode
600): the pulse answers of that database stay linked to the same people from one run to
the next, and the public default is never used.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from pathlib import Path

from pydantic import SecretStr

from bot.bootstrap import App
from domain.privacy import respondent_hash
from handlers.core.context import HandlerContext
from storage import demo

KEY_FILE_SUFFIX = ".secret"


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


def _secret_is_unset(app: App) -> bool:
    field = type(app.settings).model_fields["leadbot_secret"].default
    return field is not None and app.settings.secret == field.get_secret_value()


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for PostgreSQL and an in-memory database)."""
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme.startswith("sqlite"):
        return None
    path = rest.split("?", 1)[0].removeprefix("/")
    return Path(path) if path and path != ":memory:" else None


def _read_or_make(path: Path) -> tuple[str, bool]:
    """The secret kept in `path`, made (mode 600) when there is none yet; (secret, made)."""
    if path.exists():
        kept = path.read_text(encoding="utf-8").strip()
        if len(kept) >= 32:
            return kept, False
        path.unlink()
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(value + "\n")
    return value, True


def with_demo_secret(app: App) -> tuple[App, str]:
    """`app` with a secret of its own when LEADBOT_SECRET is not set, and a note for
    stderr ('' when nothing was done); raises ValueError when it can't (PostgreSQL)."""
    if not _secret_is_unset(app):
        return app, ""
    url = app.settings.database_url
    file = sqlite_file(url)
    if file is None and not url.startswith("sqlite"):
        raise ValueError(
            "LEADBOT_SECRET is not set. On a PostgreSQL database, set it to the server's "
            "secret (the demo secret is kept only beside a SQLite file)."
        )
    if file is None:
        value, note = secrets.token_urlsafe(48), ""  # in memory: gone with the process
    else:
        path = file.with_name(file.name + KEY_FILE_SUFFIX)
        value, made = _read_or_make(path)
        note = (
            f"LEADBOT_SECRET is not set: using a random one kept in {path} (mode 600) "
            "for this database."
            if made
            else ""
        )
    settings = app.settings.model_copy(update={"leadbot_secret": SecretStr(value)})
    ctx = dataclasses.replace(app.ctx, settings=settings)
    return dataclasses.replace(app, settings=settings, ctx=ctx), note
