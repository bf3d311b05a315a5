"""`leadbot teams package`: the Teams app package (manifest.json + icons) as a zip.

The manifest's app id and bot id are TEAMS_APP_ID (the Azure Bot's Microsoft App ID).
Upload the zip in Teams (Apps > Manage your apps > Upload an app) or the Teams admin centre.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.bootstrap import App
from bot.teams.manifest import build_manifest, is_guid, package_bytes


def main(app: App, args: argparse.Namespace) -> int:
    """Write the zip; exit 2 when TEAMS_APP_ID is missing or not a GUID."""
    settings = app.settings
    app_id = (settings.teams_app_id or "").strip()
    if not app_id:
        print(
            "leadbot teams package: set TEAMS_APP_ID to your Azure Bot's Microsoft App ID first.",
            file=sys.stderr,
        )
        return 2
    if not is_guid(app_id):
        print(
            f"leadbot teams package: TEAMS_APP_ID {app_id!r} is not an app id "
            "(expected a GUID like 6f1c2d3e-...).",
            file=sys.stderr,
        )
        return 2
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(package_bytes(build_manifest(app_id, commands=app.registry.commands)))
    print(f"wrote {out} (manifest.json, color.png, outline.png) for app {app_id}")
    print("Upload it in Teams: Apps > Manage your apps > Upload an app.")
    return 0
