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


def function_level_imports(source: str) -> list[str]:
    """Modules imported inside a function (a cycle dodged, or a module loaded lazily)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import):
                    found += [a.name for a in inner.names]
                elif isinstance(inner, ast.ImportFrom) and inner.module:
                    found.append(inner.module)
    return found


# The only imports inside functions: the platform SDKs (about a second each to import),
# loaded when that platform is on rather than by every CLI command (docs/architecture.md);
# and matplotlib, loaded by the first chart drawn (about 0.5 s and 30 MB that a server
# nobody asks for a chart, the CLI and the console never pay: bot/charts.py).
LAZY_SDK_LOADS = {
    "bot/charts.py": [
        "matplotlib",
        "matplotlib.backends.backend_agg",
        "matplotlib.figure",
    ],
    "bot/senders.py": ["bot.slack.sender", "bot.teams.sender"],
    "bot/server.py": [
        "bot.slack.app",
        "slack_bolt.adapter.socket_mode.aiohttp",
        "slack_bolt.adapter.aiohttp",
        "slack_bolt.context.async_context",
        "slack_bolt.request.async_internals",
        "slack_bolt.request.async_request",
    ],
    "bot/teams/routes.py": ["bot.teams.web"],
    # The KPI connectors' optional extras: a missing one answers with the extra to install.
    "bot/sources/connect.py": ["boto3", "botocore.config"],
    "bot/sources/flex.py": ["twilio.http.async_http_client", "twilio.rest"],
}


def test_no_import_inside_a_function_but_the_lazy_sdk_loads() -> None:
    layers = ("bot", "domain", "handlers", "jobs", "storage")
    files = [f for layer in layers for f in sorted((ROOT / layer).rglob("*.py"))]
    found = {
        str(f.relative_to(ROOT)): hits
        for f in files
        if "migrations" not in f.parts
        and (hits := function_level_imports(f.read_text(encoding="utf-8")))
    }
    assert found == LAZY_SDK_LOADS
