"""The `leadbot` command line, run the way people run it."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import _parser, main

LEADBOT = Path(sys.executable).parent / "leadbot"


def _cmd(*args: str) -> list[str]:
    if LEADBOT.exists():
        return [str(LEADBOT), *args]
    return [sys.executable, "-m", "bot.cli", *args]


def _run(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'leadbot.db'}",
        "LOG_LEVEL": "WARNING",
        "KPI_SOURCE_URL": "",
    }
    return subprocess.run(
        _cmd(*args),
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )


def _subcommands(
    parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()
) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out.append((*prefix, name))
                out += _subcommands(sub, (*prefix, name))
    return out


def test_top_level_help(tmp_path: Path) -> None:
    done = _run(tmp_path, "--help")
    assert done.returncode == 0
    for word in ("demo", "console", "import", "serve", "scheduler", "db"):
        assert word in done.stdout


SUBCOMMANDS = _subcommands(_parser())


def test_the_subcommand_list_is_complete() -> None:
    assert {
        ("demo",),
        ("console",),
        ("db", "upgrade"),
        ("import", "roster"),
        ("import", "kpis"),
        ("serve",),
        ("scheduler",),
    } <= set(SUBCOMMANDS)


@pytest.mark.parametrize("words", SUBCOMMANDS, ids=" ".join)
def test_every_subcommand_has_help(
    words: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([*words, "--help"])
    assert exit_.value.code == 0
    assert "usage: leadbot " + " ".join(words) in capsys.readouterr().out


def test_demo_seed_only_twice_gives_the_same_counts(tmp_path: Path) -> None:
    first = _run(tmp_path, "demo", "--seed-only")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("Seeded the demo contact center")
    second = _run(tmp_path, "demo", "--seed-only")
    assert second.returncode == 0, second.stderr
    assert second.stdout.startswith("The demo contact center is ready")
    counts = [line for line in first.stdout.splitlines() if line.startswith("Rows:")]
    assert counts
    assert "3 teams" in counts[0]
    assert "41 people" in counts[0]
    assert counts == [line for line in second.stdout.splitlines() if line.startswith("Rows:")]
    # The console then starts as the Billing lead, and piped help prints the command list.
    piped = _run(tmp_path, "console", stdin="/leadbot help\n")
    assert piped.returncode == 0, piped.stderr
    assert "you are Sam Carter <sam.carter@example.com> (lead)" in piped.stdout
    assert "leadbot commands" in piped.stdout


def test_piped_console_prints_the_command_list(tmp_path: Path) -> None:
    done = _run(tmp_path, "console", stdin="/leadbot help\n")
    assert done.returncode == 0, done.stderr
    assert "leadbot commands" in done.stdout
    assert "/leadbot" in done.stdout
    assert "Traceback" not in done.stderr


def test_console_as_unknown_email_is_explained(tmp_path: Path) -> None:
    done = _run(tmp_path, "console", "--as", "nobody@example.com")
    assert done.returncode == 2
    assert "No one with the email nobody@example.com is on the roster." in done.stdout


def test_imports_from_files(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "email,name,role,team,timezone\n"
        "lee.lead@acme.test,Lee Lead,lead,Billing,Europe/London\n"
        "maria.lopez@acme.test,Maria Lopez,agent,Billing,\n",
        encoding="utf-8",
    )
    first = _run(tmp_path, "import", "roster", str(roster))
    assert first.returncode == 0, first.stderr
    assert "Imported 2 people: 2 new, 0 updated, 0 unchanged. 1 new team." in first.stdout
    again = _run(tmp_path, "import", "roster", str(roster))
    assert "Imported 2 people: 0 new, 0 updated, 2 unchanged. 0 new teams." in again.stdout
    kpis = tmp_path / "kpis.csv"
    kpis.write_text(
        "date,email,metric,value,contacts\n2026-01-05,maria.lopez@acme.test,aht,290,40\n"
        "2026-01-05,maria.lopez@acme.test,csat,250,12\n",
        encoding="utf-8",
    )
    bad = _run(tmp_path, "import", "kpis", str(kpis))
    assert bad.returncode == 1
    assert "line 3: csat 250 is above its maximum 100" in bad.stdout
    missing = _run(tmp_path, "import", "kpis", str(tmp_path / "nope.csv"))
    assert missing.returncode == 2
    assert "No such file" in missing.stdout
    no_url = _run(tmp_path, "import", "kpis", "--from-url")
    assert no_url.returncode == 2
    assert "KPI_SOURCE_URL is not set" in no_url.stdout


def test_db_upgrade(tmp_path: Path) -> None:
    done = _run(tmp_path, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    assert "database is up to date" in done.stdout
    assert (tmp_path / "leadbot.db").exists()
