"""The Teams app manifest (built from the command registry) and its two icons.

`teams/manifest.json` in the repository is `build_manifest()` with a placeholder app id;
`leadbot teams package` writes the zip with TEAMS_APP_ID filled in. The icons are drawn
here (a 192x192 colour icon and a 32x32 white-on-transparent outline), so the package
needs no binary files.
"""

from __future__ import annotations

import io
import json
import re
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from handlers.core.context import CommandSpec
from handlers.registry import build_registry

SCHEMA_URL = "https://developer.microsoft.com/json-schemas/teams/v1.17/MicrosoftTeams.schema.json"
MANIFEST_VERSION = "1.17"
PLACEHOLDER_APP_ID = "00000000-0000-0000-0000-000000000000"
APP_VERSION = "1.0.0"
ACCENT = (0x2E, 0x6B, 0xE6)

# Teams' limits for a bot's command list.
MAX_COMMANDS = 10
MAX_TITLE = 32
MAX_DESCRIPTION = 128

_GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def is_guid(value: str) -> bool:
    return bool(_GUID_RE.match(value))


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def command_list(commands: tuple[CommandSpec, ...]) -> list[dict[str, str]]:
    """The registry's commands as Teams suggests them (the first ten, Teams' maximum)."""
    return [
        {"title": _clip(c.verb, MAX_TITLE), "description": _clip(c.summary, MAX_DESCRIPTION)}
        for c in commands[:MAX_COMMANDS]
    ]


def build_manifest(
    app_id: str = PLACEHOLDER_APP_ID,
    *,
    commands: tuple[CommandSpec, ...] | None = None,
    valid_domains: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The manifest for a bot with id `app_id` (the Azure Bot's Microsoft App ID)."""
    if commands is None:
        commands = build_registry().commands
    cmds = command_list(commands)
    return {
        "$schema": SCHEMA_URL,
        "manifestVersion": MANIFEST_VERSION,
        "version": APP_VERSION,
        "id": app_id,
        "developer": {
            "name": "leadbot",
            "websiteUrl": "https://github.com/leadbot/leadbot",
            "privacyUrl": "https://github.com/leadbot/leadbot#privacy",
            "termsOfUseUrl": "https://github.com/leadbot/leadbot#license",
        },
        "name": {"short": "leadbot", "full": "leadbot for contact-center team leads"},
        "description": {
            "short": "Goals, KPIs, kudos, 1:1s and pulse surveys for contact-center teams",
            "full": (
                "leadbot supports the team leads and managers of a contact center: clear "
                "daily goals next to the team's KPIs, recognition, regular one-on-ones, "
                "action items that get followed up, and anonymous pulse (ESAT) surveys. "
                "Message it in a personal chat (type help), or @mention it in your team's "
                "channel."
            ),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [
            {
                "botId": app_id,
                "scopes": ["personal", "team", "groupChat"],
                "supportsFiles": False,
                "isNotificationOnly": False,
                "commandLists": [
                    {"scopes": ["personal"], "commands": cmds},
                    {"scopes": ["team", "groupChat"], "commands": cmds},
                ],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": list(valid_domains),
    }


# --- icons ------------------------------------------------------------------------------


def png(width: int, height: int, pixel: Callable[[int, int], tuple[int, int, int, int]]) -> bytes:
    """An RGBA PNG drawn by `pixel(x, y)`."""
    raw = bytearray()
    for y in range(height):
        raw.append(0)  # filter: none
        for x in range(width):
            raw.extend(pixel(x, y))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + chunk(b"IEND", b"")
    )


def _glyph(u: float, v: float) -> bool:
    """leadbot's mark in a unit square: three rising bars and a star-like dot above."""
    bars = ((0.18, 0.62), (0.42, 0.45), (0.66, 0.28))
    for left, top in bars:
        if left <= u <= left + 0.17 and top <= v <= 0.84:
            return True
    dx, dy = u - 0.745, v - 0.15
    return dx * dx + dy * dy <= 0.075**2


def color_icon(size: int = 192) -> bytes:
    """The 192x192 colour icon: the mark in white on the accent colour, rounded corners."""
    r = size * 0.18

    def pixel(x: int, y: int) -> tuple[int, int, int, int]:
        cx = min(max(x + 0.5, r), size - r)
        cy = min(max(y + 0.5, r), size - r)
        if (x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 > r * r:
            return (0, 0, 0, 0)
        if _glyph((x + 0.5) / size, (y + 0.5) / size):
            return (255, 255, 255, 255)
        return (*ACCENT, 255)

    return png(size, size, pixel)


def outline_icon(size: int = 32) -> bytes:
    """The 32x32 outline icon: the mark in white on a transparent background."""

    def pixel(x: int, y: int) -> tuple[int, int, int, int]:
        inside = _glyph((x + 0.5) / size, (y + 0.5) / size)
        return (255, 255, 255, 255) if inside else (255, 255, 255, 0)

    return png(size, size, pixel)


def package_bytes(manifest: dict[str, Any]) -> bytes:
    """The app package: manifest.json and the two icons at the root of a zip."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        z.writestr("color.png", color_icon())
        z.writestr("outline.png", outline_icon())
    return buf.getvalue()


def write_repo_files(directory: str) -> None:
    """Write manifest.json (placeholder app id) and the icons into `directory`."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(build_manifest(), indent=2, ensure_ascii=False) + "\n"
    (out / "manifest.json").write_text(text, encoding="utf-8")
    (out / "color.png").write_bytes(color_icon())
    (out / "outline.png").write_bytes(outline_icon())


if __name__ == "__main__":
    write_repo_files(sys.argv[1] if len(sys.argv) > 1 else "teams")
