"""slack/manifest.yml declares every registry command, the URLs, and only the scopes used."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from bot.slack.manifest import (
    BOT_SCOPES,
    CHART_SCOPES,
    MANIFEST_PATH,
    build_manifest,
    render_manifest,
)
from handlers.registry import build_registry

# Web API methods -> the bot scopes they need (https://api.slack.com/methods).
METHOD_SCOPES: dict[str, set[str]] = {
    "auth_test": set(),
    "chat_postMessage": {"chat:write"},
    "chat_update": {"chat:write"},
    "chat_postEphemeral": {"chat:write"},
    "users_info": {"users:read", "users:read.email"},
    "conversations_info": {"channels:read", "groups:read"},
    "users_lookupByEmail": {"users:read", "users:read.email"},
    "users_list": {"users:read", "users:read.email"},
    "views_open": set(),
    "views_publish": set(),
    "views_update": set(),
    "views_push": set(),
    # The chart upload (bot/slack/upload.py), only with CHARTS_ENABLED.
    "files_getUploadURLExternal": {"files:write"},
    "files_completeUploadExternal": {"files:write"},
    "conversations_open": {"im:write"},
}
# Events the manifest subscribes to -> the bot scopes they need.
EVENT_SCOPES: dict[str, set[str]] = {
    "app_home_opened": set(),
    "member_joined_channel": {"channels:read", "groups:read"},  # public and private
}
CHART_METHODS = {"files_getUploadURLExternal", "files_completeUploadExternal", "conversations_open"}
_CALL = re.compile(r"client\.([a-z]+_[A-Za-z]+)\(")


def _loaded() -> dict[str, Any]:
    data = yaml.safe_load(MANIFEST_PATH.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_manifest_file_is_up_to_date() -> None:
    assert MANIFEST_PATH.read_text(encoding="utf-8") == render_manifest(), (
        "slack/manifest.yml is stale: run `python -m bot.slack.manifest`"
    )


def test_manifest_lists_exactly_the_registry_commands() -> None:
    commands = _loaded()["features"]["slash_commands"]
    assert sorted(c["command"] for c in commands) == sorted(
        f"/{c.verb}" for c in build_registry().commands
    )
    for c in commands:
        assert c["url"] == "https://YOUR-HOST/slack/events"
        assert c["should_escape"] is True
        assert 0 < len(c["description"]) <= 100


def test_manifest_urls_and_events() -> None:
    settings = _loaded()["settings"]
    assert settings["interactivity"] == {
        "is_enabled": True,
        "request_url": "https://YOUR-HOST/slack/events",
    }
    assert settings["event_subscriptions"]["request_url"] == "https://YOUR-HOST/slack/events"
    assert settings["event_subscriptions"]["bot_events"] == [
        "app_home_opened",
        "member_joined_channel",
    ]
    assert _loaded()["features"]["app_home"]["home_tab_enabled"] is True


def test_manifest_for_a_host() -> None:
    data = build_manifest("https://bot.example.com/")
    assert data["settings"]["interactivity"]["request_url"] == (
        "https://bot.example.com/slack/events"
    )


def test_scopes_are_exactly_those_the_code_needs() -> None:
    slack_dir = Path(__file__).resolve().parents[3] / "bot" / "slack"
    used: set[str] = set()
    for path in slack_dir.glob("*.py"):
        used.update(_CALL.findall(path.read_text(encoding="utf-8")))
    unknown = used - METHOD_SCOPES.keys()
    assert not unknown, f"add the scopes of {unknown} to METHOD_SCOPES and the manifest"
    events = _loaded()["settings"]["event_subscriptions"]["bot_events"]
    from_events: set[str] = set().union(*(EVENT_SCOPES[e] for e in events))
    needed = {"commands"}.union(*(METHOD_SCOPES[m] for m in used), from_events)
    assert set(_loaded()["oauth_config"]["scopes"]["bot"]) == needed  # charts on by default
    assert set(BOT_SCOPES) | set(CHART_SCOPES) == needed
    without_charts = {"commands"}.union(
        *(METHOD_SCOPES[m] for m in used - CHART_METHODS), from_events
    )
    assert set(BOT_SCOPES) == without_charts


def test_chart_scopes_only_when_charts_are_on() -> None:
    on = build_manifest(charts=True)["oauth_config"]["scopes"]["bot"]
    off = build_manifest(charts=False)["oauth_config"]["scopes"]["bot"]
    assert {"files:write", "im:write"} <= set(on)
    assert not {"files:write", "im:write"} & set(off)
    assert set(on) - set(off) == set(CHART_SCOPES)
