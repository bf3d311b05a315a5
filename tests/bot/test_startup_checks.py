"""Start-up checks, run as people run leadbot (a subprocess): `serve`, `run` and
`scheduler` refuse an unsafe LEADBOT_SECRET; a bad setting is one clear line per field;
`demo` and `console` start with nothing set, on a secret kept beside their database."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.cli import settings_errors
from domain.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
GOOD = "a-long-random-secret-for-the-start-up-tests-0123456789"


def _run(
    tmp_path: Path, *args: str, stdin: str = "", **env_extra: str
) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "TEAMS_", "KPI_", "LEADBOT_", "PULSE_", "DEFAULT_"))
    }
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'leadbot.db'}",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,  # no .env
        timeout=120,
        check=False,
    )


UNSET = "LEADBOT_SECRET is not set (it is the public development default)"


@pytest.mark.parametrize(
    ("cmd", "secret", "reason"),
    [
        ("serve", None, UNSET),
        ("run", None, UNSET),
        ("scheduler", None, UNSET),
        ("serve", "dev-secret-change-me", UNSET),
        (
            "scheduler",
            "only-twenty-one-chars",
            "LEADBOT_SECRET is 21 characters long; it must be at least 32",
        ),
    ],
)
def test_the_server_refuses_an_unsafe_secret(
    tmp_path: Path, cmd: str, secret: str | None, reason: str
) -> None:
    extra = {"LEADBOT_SECRET": secret} if secret is not None else {}
    port = ["--port", "1"] if cmd != "scheduler" else []
    done = _run(tmp_path, cmd, *port, **extra)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"leadbot {cmd}: refusing to start: {reason}.")
    assert "token_urlsafe" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "leadbot.db").exists()  # refused before touching anything
    if secret:
        assert secret not in done.stderr.replace("dev-secret-change-me", "")


@pytest.mark.parametrize(
    ("env", "lines"),
    [
        (
            {"PULSE_MIN_RESPONSES": "1"},
            ["leadbot: PULSE_MIN_RESPONSES: Must be at least 3 (it is '1')."],
        ),
        (
            {"PULSE_MIN_RESPONSES": "many"},
            ["leadbot: PULSE_MIN_RESPONSES: Must be a whole number (it is 'many')."],
        ),
        (
            {"DEFAULT_TIMEZONE": "Mars/Base", "PORT": "http"},
            [
                "leadbot: DEFAULT_TIMEZONE: Unknown time zone 'Mars/Base' (use an IANA name "
                "such as Europe/Berlin).",
                "leadbot: PORT: Must be a whole number (it is 'http').",
            ],
        ),
    ],
)
def test_a_bad_setting_is_one_clear_line_per_field(
    tmp_path: Path, env: dict[str, str], lines: list[str]
) -> None:
    cmd = ["demo", "--seed-only"] if "PORT" in env else ["serve"]
    for _ in (1,):
        done = _run(tmp_path, *cmd, LEADBOT_SECRET=GOOD, **env)
        assert done.returncode == 2, done.stderr
        assert done.stderr.splitlines()[: len(lines)] == lines
        assert "Traceback" not in done.stderr
        assert "docs/admin/configuration.md" in done.stderr


def test_a_bound_is_said_as_people_write_it(tmp_path: Path) -> None:
    done = _run(tmp_path, "serve", LEADBOT_SECRET=GOOD, SLACK_RATE_PER_SECOND="0")
    assert done.returncode == 2
    assert done.stderr.splitlines()[0] == (
        "leadbot: SLACK_RATE_PER_SECOND: Must be more than 0 (it is '0')."
    )


def test_a_secret_that_fails_validation_is_never_shown() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None, leadbot_secret=1234567890123, pulse_min_responses=2)
    lines = settings_errors(caught.value)
    assert len(lines) == 2
    assert lines[0].startswith("LEADBOT_SECRET: ")
    assert "1234567890123" not in "\n".join(lines)
    assert lines[1] == "PULSE_MIN_RESPONSES: Must be at least 3 (it is '2')"


def test_the_demo_starts_with_nothing_set_on_a_secret_of_its_own(tmp_path: Path) -> None:
    first = _run(tmp_path, "demo", "--seed-only")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("Seeded the demo contact center")
    kept = tmp_path / "leadbot.db.secret"
    assert f"using a random one kept in {kept} (mode 600)" in first.stderr
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    secret = kept.read_text(encoding="utf-8").strip()
    assert len(secret) >= 32
    assert secret != "dev-secret-change-me"
    # The console after it reuses the same secret (the pulse answers stay linked).
    console = _run(tmp_path, "console", stdin="/pulse mine\n")
    assert console.returncode == 0, console.stderr
    assert "using a random one" not in console.stderr
    assert kept.read_text(encoding="utf-8").strip() == secret
    assert "Traceback" not in console.stderr
    # A secret that is set is used as it is, and nothing is written.
    other = tmp_path / "other"
    other.mkdir()
    given = _run(other, "demo", "--seed-only", LEADBOT_SECRET=GOOD)
    assert given.returncode == 0, given.stderr
    assert not (other / "leadbot.db.secret").exists()


def test_the_console_on_postgresql_needs_the_servers_secret(tmp_path: Path) -> None:
    done = _run(tmp_path, "console", DATABASE_URL="postgresql://leadbot@127.0.0.1:1/leadbot")
    assert done.returncode == 2
    assert "LEADBOT_SECRET is not set. On a PostgreSQL database, set it" in done.stderr
    assert "Traceback" not in done.stderr
