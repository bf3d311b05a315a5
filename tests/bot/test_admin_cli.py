"""`leadbot people ...`, `leadbot teams ...` and `leadbot import roster --dry-run`: the same
handlers as the chat commands, on the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main

ROSTER = """\
email,name,role,team,timezone
ada.admin@acme.test,Ada Admin,admin,,Europe/London
lee.lead@acme.test,Lee Lead,lead,Billing,Europe/London
maria.lopez@acme.test,Maria Lopez,agent,Billing,
tom.night@acme.test,Tom Night,agent,Billing,
"""


@pytest.fixture
def roster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    monkeypatch.chdir(tmp_path)  # no stray .env
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER, encoding="utf-8")
    return path


def test_people_and_teams_on_the_command_line(
    roster: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", "roster", str(roster)]) == 0
    capsys.readouterr()
    assert main(["teams", "create", "Tech Support", "--tz", "America/New_York"]) == 0
    assert "Team Tech Support created (time zone America/New_York)." in capsys.readouterr().out
    assert main(["people", "add", "nia@acme.test", "Nia Night", "--team", "Tech Support"]) == 0
    assert "Added Nia Night <nia@acme.test> as an agent in Tech Support" in capsys.readouterr().out
    assert main(["teams", "lead", "Tech Support", "nia@acme.test"]) == 0
    out = capsys.readouterr().out
    assert "Nia Night is now the lead of Tech Support." in out
    assert main(["people", "move", "tom.night@acme.test", "Tech Support"]) == 0
    assert "Moved Tom Night from Billing to Tech Support." in capsys.readouterr().out
    assert main(["people", "deactivate", "lee.lead@acme.test"]) == 0
    out = capsys.readouterr().out
    assert "Billing has no lead now." in out
    assert main(["people", "role", "maria.lopez@acme.test", "lead"]) == 0
    assert "They are Billing's lead." in capsys.readouterr().out
    assert main(["teams", "post", "Billing", "--at", "08:15", "--days", "Mon-Sat"]) == 0
    assert "goes out at 08:15 on Mon-Sat" in capsys.readouterr().out
    assert main(["teams", "rename", "Tech Support", "Customer Care"]) == 0
    assert main(["teams", "list"]) == 0
    listing = capsys.readouterr().out
    assert "Customer Care" in listing
    assert "Maria Lopez" in listing
    assert main(["people", "list", "deactivated"]) == 0
    assert "lee.lead@acme.test" in capsys.readouterr().out
    # Refusals are printed with the reason, exit code 1, and change nothing.
    assert main(["people", "move", "ghost@acme.test", "Billing"]) == 1
    assert "No one with the email ghost@acme.test is on the roster." in capsys.readouterr().out
    # Archiving says what it would do until --yes.
    assert main(["teams", "archive", "Customer Care"]) == 0
    assert "run it again with --yes" in capsys.readouterr().out
    assert main(["teams", "archive", "Customer Care", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "Archived Customer Care." in out
    assert "replaces the message" not in out
    assert main(["teams", "list"]) == 0
    assert "Customer Care" not in capsys.readouterr().out


def test_import_dry_run_and_deactivate_missing(
    roster: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", "roster", str(roster)]) == 0
    capsys.readouterr()
    smaller = tmp_path / "smaller.csv"
    smaller.write_text(ROSTER.replace("tom.night@acme.test,Tom Night,agent,Billing,\n", ""))
    assert main(["import", "roster", str(smaller), "--dry-run", "--deactivate-missing"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "Dry run, nothing was changed. Would import 3 people: 0 new, 0 updated, 3 unchanged. "
        "0 new teams. 1 deactivated (not in the file)."
    )
    assert "Deactivated (1): Tom Night <tom.night@acme.test>" in out
    assert main(["people", "list", "deactivated"]) == 0
    assert "Nobody." in capsys.readouterr().out
    assert main(["import", "roster", str(smaller), "--deactivate-missing"]) == 0
    assert "1 deactivated (not in the file)." in capsys.readouterr().out
    assert main(["people", "list", "deactivated"]) == 0
    assert "tom.night@acme.test" in capsys.readouterr().out


def test_the_doctor_exits_1_when_something_blocks(
    roster: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LEADBOT_SECRET", raising=False)
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("leadbot doctor: ")
    assert "BLOCK  LEADBOT_SECRET" in out
    assert "BLOCK  Chat platform" in out
