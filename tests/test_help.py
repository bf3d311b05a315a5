"""Help is generated from the registry: every command and every sub-command answers
`help` (and `/leadbot help ...`), on the console, Slack and Teams renderers alike."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest

from bot.render_text import render_text
from bot.slack.render import fallback_text, render_blocks
from bot.teams.cards import render_card
from domain.roles import Role
from domain.types import Header, Reply
from handlers.core.context import CommandSpec, HandlerContext
from handlers.core.dispatch import run_command
from handlers.registry import build_registry
from tests.conftest import command, make_person, make_team

NODES: list[tuple[tuple[str, ...], CommandSpec]] = [
    pair for spec in build_registry().commands for pair in spec.walk()
]
GROUPS = [(path, node) for path, node in NODES if node.subcommands and node.handler is None]


def _strings(obj: Any) -> str:
    """Every string in a rendered payload, joined: what a person could read."""
    if isinstance(obj, str):
        return obj
    if isinstance(obj, dict):
        return "\n".join(_strings(v) for v in obj.values())
    if isinstance(obj, list):
        return "\n".join(_strings(v) for v in obj)
    return ""


def _plain(text: str) -> str:
    """Rendered text back to what was written: entities, markup and spacing undone."""
    text = html.unescape(text)
    text = re.sub(r"[`*_]", "", text)
    return " ".join(text.split())


def rendered(reply: Reply) -> dict[str, str]:
    """The reply as each platform shows it."""
    return {
        "console": _plain(render_text(reply)),
        "slack": _plain(_strings(render_blocks(reply)) + "\n" + fallback_text(reply)),
        "teams": _plain(_strings(render_card(reply))),
    }


@pytest.fixture
async def admin(ctx: HandlerContext) -> Any:
    team = await make_team(ctx.db)
    return await make_person(ctx.db, "ada.admin", role=Role.admin, team=team)


@pytest.mark.parametrize(("path", "node"), NODES, ids=["/" + " ".join(p) for p, _ in NODES])
async def test_every_command_and_sub_command_answers_help(
    ctx: HandlerContext, admin: Any, path: tuple[str, ...], node: CommandSpec
) -> None:
    name = "/" + " ".join(path)
    reply = await run_command(await command(ctx.db, admin, f"{name} help"), ctx)
    assert reply.ok, reply.text
    if path == ("leadbot",):  # `/leadbot help` is the help command itself: the list
        shown = rendered(reply)
        for platform, text in shown.items():
            for spec in ctx.registry.commands:
                assert f"/{spec.verb}" in text, (platform, spec.verb)
        return
    assert reply.blocks[0] == Header(name)
    for platform, text in rendered(reply).items():
        assert _plain(node.summary) in text, (platform, name)
        for line in node.all_usage:
            assert _plain(line) in text, (platform, name, line)
    # The same help through /leadbot help, word for word.
    words = " ".join(path)
    again = await run_command(await command(ctx.db, admin, f"/leadbot help {words}"), ctx)
    assert json.loads(again.to_json()) == json.loads(reply.to_json())


@pytest.mark.parametrize(("path", "node"), GROUPS, ids=["/" + " ".join(p) for p, _ in GROUPS])
async def test_an_unknown_sub_command_gets_the_one_usage_error(
    ctx: HandlerContext, admin: Any, path: tuple[str, ...], node: CommandSpec
) -> None:
    name = "/" + " ".join(path)
    reply = await run_command(await command(ctx.db, admin, f"{name} frobnicate now"), ctx)
    assert not reply.ok
    assert reply.text.startswith(f"I don't know `{name} frobnicate now`. Say ")
    for sub in node.subcommands:
        assert f"`{' '.join((*path[1:], sub.verb))}`" in reply.text
    assert "Usage:" in reply.text
    for line in node.all_usage:
        assert line in reply.text


def test_the_tree_is_well_formed() -> None:
    """Verbs are single lower-case words, unique among siblings; every node says what it
    does and every usage line starts with its command's path."""
    for path, node in NODES:
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]*", node.verb), path
        assert node.summary.strip(), path
        words = [w for s in node.subcommands for w in (s.verb, *s.aliases)]
        assert len(words) == len(set(words)), path
        for line in node.usage:
            assert line.startswith("/" + " ".join(path)) or not line.startswith("/"), line
        assert node.handler is not None or node.subcommands, path
