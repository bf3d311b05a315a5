"""handlers/, jobs/ and storage/ stay platform-neutral: no Slack, Teams or bot/ imports."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NEUTRAL = ("handlers", "jobs", "storage")
FORBIDDEN = ("slack_bolt", "slack_sdk", "microsoft_agents", "bot")


def forbidden_imports(source: str) -> list[str]:
    """Modules a piece of source imports that the neutral layers must not."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        found += [n for n in names if n.split(".")[0] in FORBIDDEN]
    return found


def test_the_checker_catches_every_form() -> None:
    src = (
        "import slack_sdk\n"
        "import os, microsoft_agents.hosting.core as m\n"
        "from slack_bolt.async_app import AsyncApp\n"
        "def f():\n    from bot import console\n"
        "from handlers import types\nimport botocore\n"
    )
    assert forbidden_imports(src) == [
        "slack_sdk",
        "microsoft_agents.hosting.core",
        "slack_bolt.async_app",
        "bot",
    ]


def test_neutral_layers_import_no_platform_code() -> None:
    files = [f for layer in NEUTRAL for f in sorted((ROOT / layer).rglob("*.py"))]
    assert len(files) > 10
    bad = {
        str(f.relative_to(ROOT)): hits
        for f in files
        if (hits := forbidden_imports(f.read_text(encoding="utf-8")))
    }
    assert bad == {}
