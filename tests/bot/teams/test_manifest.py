"""The Teams app manifest follows the command registry and Teams' limits, the committed
teams/ files are what the code builds, and `leadbot teams package` writes a valid zip."""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from bot.cli import main as cli_main
from bot.teams.manifest import (
    MAX_COMMANDS,
    MAX_DESCRIPTION,
    MAX_TITLE,
    PLACEHOLDER_APP_ID,
    build_manifest,
    color_icon,
    outline_icon,
)
from handlers.registry import build_registry

REPO = Path(__file__).resolve().parents[3]
APP_ID = "6f1c2d3e-1111-2222-3333-444455556666"


def png_info(data: bytes) -> tuple[int, int, bytes]:
    """(width, height, raw RGBA rows) of a PNG we wrote (one IDAT chunk)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body)
        chunks[kind] = body
        pos += 12 + length
    width, height = struct.unpack(">II", chunks[b"IHDR"][:8])
    return width, height, zlib.decompress(chunks[b"IDAT"])


def test_command_lists_are_the_registry_verbs_within_teams_limits() -> None:
    manifest = build_manifest()
    [bot] = manifest["bots"]
    assert set(bot["scopes"]) == {"personal", "team", "groupChat"}
    expected = [c.verb for c in build_registry().commands][:MAX_COMMANDS]
    scopes_seen: set[str] = set()
    for cl in bot["commandLists"]:
        scopes_seen.update(cl["scopes"])
        assert [c["title"] for c in cl["commands"]] == expected
        assert len(cl["commands"]) <= MAX_COMMANDS
        for c in cl["commands"]:
            assert 0 < len(c["title"]) <= MAX_TITLE
            assert 0 < len(c["description"]) <= MAX_DESCRIPTION
    assert scopes_seen == {"personal", "team", "groupChat"}
    if len(build_registry().commands) <= MAX_COMMANDS:
        assert expected == [c.verb for c in build_registry().commands]


def test_the_committed_manifest_and_icons_are_what_the_code_builds() -> None:
    committed = json.loads((REPO / "teams" / "manifest.json").read_text())
    assert committed == build_manifest(), (
        "teams/manifest.json is stale: regenerate it with "
        "`python -m bot.teams.manifest teams/` after changing the command registry"
    )
    assert (REPO / "teams" / "color.png").read_bytes() == color_icon()
    assert (REPO / "teams" / "outline.png").read_bytes() == outline_icon()
    assert committed["id"] == PLACEHOLDER_APP_ID
    assert committed["manifestVersion"] == "1.17"
    assert "v1.17" in committed["$schema"]


def test_icons_have_the_sizes_teams_requires() -> None:
    w, h, raw = png_info(color_icon())
    assert (w, h) == (192, 192)
    w, h, raw = png_info(outline_icon())
    assert (w, h) == (32, 32)
    # The outline icon is white on transparent: every pixel is white, alpha 0 or 255.
    stride = 1 + 32 * 4
    alphas = set()
    for y in range(32):
        row = raw[y * stride + 1 : (y + 1) * stride]
        for x in range(32):
            r, g, b, a = row[x * 4 : x * 4 + 4]
            assert (r, g, b) == (255, 255, 255)
            alphas.add(a)
    assert alphas == {0, 255}


def test_package_command_writes_the_zip_with_the_app_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TEAMS_APP_ID", APP_ID)
    out = tmp_path / "dist" / "leadbot.zip"
    assert cli_main(["teams", "package", "--out", str(out)]) == 0
    with zipfile.ZipFile(io.BytesIO(out.read_bytes())) as z:
        assert sorted(z.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(z.read("manifest.json"))
        assert z.read("color.png") == color_icon()
    assert manifest["id"] == APP_ID
    assert manifest["bots"][0]["botId"] == APP_ID
    assert str(out) in capsys.readouterr().out


@pytest.mark.parametrize("value", ["", "not-a-guid"])
def test_package_refuses_a_missing_or_bad_app_id(
    value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TEAMS_APP_ID", value)
    out = tmp_path / "x.zip"
    assert cli_main(["teams", "package", "--out", str(out)]) == 2
    assert not out.exists()


def test_manifest_fields_within_schema_limits() -> None:
    m = build_manifest(APP_ID)
    assert len(m["name"]["short"]) <= 30
    assert len(m["name"]["full"]) <= 100
    assert len(m["description"]["short"]) <= 80
    assert len(m["description"]["full"]) <= 4000
    assert m["id"] == m["bots"][0]["botId"] == APP_ID
    assert all(
        m["developer"][k].startswith("https://")
        for k in ("websiteUrl", "privacyUrl", "termsOfUseUrl")
    )
    assert m["icons"] == {"color": "color.png", "outline": "outline.png"}
