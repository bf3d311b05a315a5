"""`leadbot privacy export EMAIL` and `leadbot privacy forget EMAIL`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.bootstrap import App
from storage import privacy
from storage.migrate import upgrade


async def main(app: App, args: argparse.Namespace) -> int:
    """Export or forget one person; exit 2 when nobody has that email."""
    db = app.db
    try:
        await upgrade(db)
        if args.privacy_cmd == "export":
            data = await privacy.export_person(db, email=args.email)
            if data is None:
                print(f"No one with the email {args.email} is stored.", file=sys.stderr)
                return 2
            text = json.dumps(data, indent=2, ensure_ascii=False)
            if args.out and args.out != "-":
                Path(args.out).write_text(text + "\n", encoding="utf-8")  # noqa: ASYNC240
                print(f"wrote {args.out}")
            else:
                print(text)
            return 0
        if not args.yes:
            print(
                f"This erases {args.email} for good (kudos and action items stay, as a former "
                "member). Run again with --yes to do it.",
                file=sys.stderr,
            )
            return 2
        if not await privacy.forget_person(db, email=args.email):
            print(f"No one with the email {args.email} is stored.", file=sys.stderr)
            return 2
        print(f"{args.email} has been forgotten.")
        return 0
    finally:
        await db.dispose()
