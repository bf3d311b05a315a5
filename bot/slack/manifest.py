"""The Slack app manifest, generated from the command registry.

`leadbot slack manifest --url https://bot.example.com` prints it with your host filled in;
`python -m bot.slack.manifest` rewrites slack/manifest.yml (a test keeps it in step with
handlers.registry).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from domain.settings import Settings
from handlers.core.context import CommandSpec
from handlers.registry import build_registry

PLACEHOLDER_URL = "https://YOUR-HOST"
MANIFEST_PATH = Path(__file__).resolve().parents[2] / "slack" / "manifest.yml"

# Only what the code calls: slash commands; chat.postMessage (DMs by user id, channel
# posts); users.info and the email on it (matching a Slack user to the roster).
# views.open / views.publish and response_url posts need no scope.
BOT_SCOPES = (
    "commands",
    "chat:write",
    "users:read",
    "users:read.email",
    # member_joined_channel (leadbot invited to a linked channel) needs these two.
    "channels:read",
    "groups:read",
)
# With CHARTS_ENABLED: files.getUploadURLExternal / files.completeUploadExternal (a chart's
# PNG) and conversations.open (the asker's DM with leadbot, where a private chart goes).
CHART_SCOPES = ("files:write", "im:write")
BOT_EVENTS = ("app_home_opened", "member_joined_channel")


def _usage_hint(usage: tuple[str, ...], verb: str) -> str:
    first = usage[0] if usage else ""
    # Usage lines may carry an aligned explanation after two spaces; the hint is the syntax.
    hint = first.removeprefix(f"/{verb}").strip().split("  ")[0]
    return hint[:100]


def bot_scopes(*, charts: bool) -> list[str]:
    """The bot token scopes: what the code calls, and the chart upload's when charts are on."""
    return [*BOT_SCOPES, *(CHART_SCOPES if charts else ())]


def build_manifest(
    base_url: str = PLACEHOLDER_URL,
    *,
    commands: Sequence[CommandSpec] | None = None,
    charts: bool | None = None,
) -> dict[str, Any]:
    """The manifest as data, for the app's public base URL and the registry's commands;
    `charts` (default: CHARTS_ENABLED's default) adds the chart upload's scopes."""
    if charts is None:
        charts = bool(Settings.model_fields["charts_enabled"].default)
    url = base_url.rstrip("/") + "/slack/events"
    slash = []
    for spec in build_registry().commands if commands is None else commands:
        cmd: dict[str, Any] = {
            "command": f"/{spec.verb}",
            "url": url,
            "description": spec.summary[:100],
            "should_escape": True,  # mentions arrive as <@U123|name>
        }
        hint = _usage_hint(spec.all_usage, spec.verb)
        if hint:
            cmd["usage_hint"] = hint
        slash.append(cmd)
    return {
        "display_information": {
            "name": "leadbot",
            "description": "Goals, kudos, 1:1s, action items and pulse surveys next to your KPIs",
            "background_color": "#1d4e89",
            "long_description": (
                "leadbot helps contact-center team leads and managers: team KPIs and SMART "
                "goals, recognition (kudos), one-on-ones with prep cards, owned action items "
                "that get followed up, and private pulse (ESAT) surveys whose answers are only "
                "ever shown in aggregate. Agents see their own figures; leads their team; "
                "managers the teams under them."
            ),
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": True,
            },
            "bot_user": {"display_name": "leadbot", "always_online": True},
            "slash_commands": slash,
        },
        "oauth_config": {"scopes": {"bot": bot_scopes(charts=charts)}},
        "settings": {
            "event_subscriptions": {"request_url": url, "bot_events": list(BOT_EVENTS)},
            "interactivity": {"is_enabled": True, "request_url": url},
            "org_deploy_enabled": False,
            "socket_mode_enabled": False,
            "token_rotation_enabled": False,
        },
    }


def _yaml(value: Any, indent: int = 0) -> list[str]:
    """A small YAML writer (block style; strings JSON-quoted, which YAML reads as-is)."""
    pad = "  " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, dict | list) and v:
                lines.append(f"{pad}{k}:")
                lines.extend(_yaml(v, indent + 1))
            else:
                lines.append(f"{pad}{k}: {_scalar(v)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and item:
                sub = _yaml(item, indent + 1)
                sub[0] = f"{pad}- " + sub[0].lstrip()
                lines.extend(sub)
            else:
                lines.append(f"{pad}- {_scalar(item)}")
    return lines


def _scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v == [] or v == {}:
        return json.dumps(v)
    return json.dumps(v, ensure_ascii=False)


def render_manifest(
    base_url: str = PLACEHOLDER_URL,
    *,
    commands: Sequence[CommandSpec] | None = None,
    charts: bool | None = None,
) -> str:
    header = (
        "# Slack app manifest for leadbot (generated by `python -m bot.slack.manifest`).\n"
        "# Create the app at https://api.slack.com/apps -> Create New App -> From a manifest,\n"
        f"# after replacing {PLACEHOLDER_URL} with your server's public https address\n"
        "# (or print it filled in: `leadbot slack manifest --url https://bot.example.com`).\n"
    )
    data = build_manifest(base_url, commands=commands, charts=charts)
    return header + "\n".join(_yaml(data)) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Rewrite slack/manifest.yml from the registry (and CHARTS_ENABLED from the
    environment: off, the manifest asks for no chart scopes)."""
    MANIFEST_PATH.parent.mkdir(parents=True, exist_ok=True)
    charts = Settings().charts_enabled  # the environment and .env, as the server reads them
    MANIFEST_PATH.write_text(render_manifest(charts=charts), encoding="utf-8")
    print(f"wrote {MANIFEST_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
