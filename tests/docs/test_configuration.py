"""docs/admin/configuration.md is generated from the settings class, and every setting
is described there once."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import docs
from domain.settings import Settings


def test_every_setting_has_a_description() -> None:
    missing = [n for n, f in Settings.model_fields.items() if not (f.description or "").strip()]
    assert missing == [], f"give these settings a description= in domain/settings.py: {missing}"


def test_every_setting_is_in_a_group() -> None:
    groups = docs.groups_of()
    assert set(groups) == set(Settings.model_fields)


def test_the_committed_reference_is_the_generated_one() -> None:
    committed = (
        docs.CONFIGURATION.read_text(encoding="utf-8") if docs.CONFIGURATION.exists() else ""
    )
    assert committed == docs.render(), (
        f"{docs.CONFIGURATION.relative_to(docs.ROOT)} is out of date: run `{docs.REGENERATE}` "
        "and commit the result"
    )


def test_each_setting_is_described_once_with_its_variable_name() -> None:
    text = docs.render()
    for name in Settings.model_fields:
        assert text.count(f"### `{name.upper()}`") == 1


def test_secrets_never_show_a_value() -> None:
    text = docs.render()
    assert "dev-secret-change-me" not in text
    by_name = {s.name: s for s in docs.settings()}
    assert by_name["leadbot_secret"].default == "*required*"
    assert by_name["slack_bot_token"].default == "*unset*"
    assert by_name["kpi_source_token"].default == "*unset*"
    assert by_name["port"].default == "`3000`"
    assert by_name["teams_allow_anonymous"].default == "`false`"


def test_the_check_command_tells_how_to_regenerate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = tmp_path / "configuration.md"
    stale.write_text("old\n", encoding="utf-8")
    assert docs.main(["--check", "--out", str(stale)]) == 1
    assert docs.REGENERATE in capsys.readouterr().err
    assert docs.main(["--out", str(stale)]) == 0
    assert docs.main(["--check", "--out", str(stale)]) == 0
