"""The README documents every setting, and its quick start is the two make targets."""

from __future__ import annotations

import re
from pathlib import Path

from domain.settings import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_configuration_table() -> None:
    table = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", table, re.MULTILINE))
    wanted = {name.upper() for name in Settings.model_fields}
    assert wanted - documented == set(), "settings missing from README's Configuration"
    assert documented - wanted == set(), "README documents settings that do not exist"


def test_quick_start_is_make_demo_and_make_test() -> None:
    quick = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    first_block = quick.split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in first_block.strip().splitlines()]
    assert commands == ["make demo", "make test"]
    assert "printf '/leadbot help\\n' | make demo" in quick
