"""`leadbot privacy export|forget` on a seeded demo database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main


@pytest.fixture
def demo_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "demo.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.chdir(tmp_path)  # no stray .env
    assert main(["demo", "--seed-only"]) == 0
    return path


def test_export_then_forget(
    demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "maria.json"
    assert main(["privacy", "export", "maria.lopez@example.com", "--out", str(out)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["person"]["display_name"] == "Maria Lopez"
    assert data["metric_values"], "her KPIs are part of the export"
    assert data["pulse"]["rounds_invited"] > 0
    assert "pulse_responses" not in data

    # Without --yes nothing is erased.
    assert main(["privacy", "forget", "maria.lopez@example.com"]) == 2
    assert main(["privacy", "export", "maria.lopez@example.com", "--out", "-"]) == 0
    capsys.readouterr()

    assert main(["privacy", "forget", "maria.lopez@example.com", "--yes"]) == 0
    assert "forgotten" in capsys.readouterr().out
    assert main(["privacy", "export", "maria.lopez@example.com"]) == 2
    assert "No one" in capsys.readouterr().err
