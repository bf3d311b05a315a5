"""`leadbot import roster FILE [--dry-run] [--deactivate-missing]` and
`leadbot import kpis FILE|--from-url`."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.bootstrap import App
from handlers.core.context import HandlerContext
from handlers.imports import ImportResult, import_kpis_stream, import_roster
from jobs import kpi_pull
from storage.migrate import upgrade


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        print(f"No such file: {path}")
    except UnicodeDecodeError:
        print(f"{path} is not UTF-8 text; save the CSV as UTF-8 and try again.")
    except OSError as exc:
        print(f"Cannot read {path}: {exc.strerror}")
    return None


async def main(app: App, args: argparse.Namespace) -> int:
    """Run one import; 0 when it succeeded, 1 when the file was refused (nothing imported)."""
    db, ctx = app.db, app.ctx
    try:
        await upgrade(db)
        if args.import_cmd == "kpis" and getattr(args, "from_url", False):
            return await _pull(app, ctx)
        if not args.file:
            print("Give a CSV file (or --from-url to pull from KPI_SOURCE_URL).")
            return 2
        result: ImportResult | None
        if args.import_cmd == "roster":
            text = _read(args.file)
            if text is None:
                return 2
            result = await import_roster(
                ctx,
                text,
                dry_run=getattr(args, "dry_run", False),
                deactivate_missing=getattr(args, "deactivate_missing", False),
            )
        else:
            result = await _kpis(ctx, args.file)
            if result is None:
                return 2
        print(result.summary())
        return 0 if result.ok else 1
    finally:
        await db.dispose()


async def _kpis(ctx: HandlerContext, path: str) -> ImportResult | None:
    """A KPI file, read as it streams (memory stays flat whatever its size)."""
    try:
        # The CLI process does nothing else meanwhile: a blocking read is what it needs.
        with Path(path).open(encoding="utf-8-sig", newline="") as f:  # noqa: ASYNC230
            return await import_kpis_stream(ctx, f)
    except FileNotFoundError:
        print(f"No such file: {path}")
    except UnicodeDecodeError:
        print(f"{path} is not UTF-8 text; save the CSV as UTF-8 and try again.")
    except OSError as exc:
        print(f"Cannot read {path}: {exc.strerror}")
    return None


async def _pull(app: App, ctx: HandlerContext) -> int:
    """`--from-url`: one HTTP pull, the same as `leadbot sources pull http`."""
    source = app.sources.get("http")
    if source is None:
        print("KPI_SOURCE_URL is not set; set it (and KPI_SOURCE_TOKEN) to pull KPIs over HTTP.")
        return 2
    result = await kpi_pull.pull(ctx, source)
    print(result.summary())
    return 0 if result.ok else 1
