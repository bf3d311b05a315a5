"""The README is short: its quick start is the two make targets, and its links lead into
docs/ (everything else lives there)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
# [text](target) and [text]: target, without images' alt text mattering.
_LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|^\[[^\]]+\]:\s*(\S+)", re.MULTILINE)


def internal_links(markdown: str) -> list[str]:
    """Every link target that is not a web address, a mail address or an anchor."""
    targets = [a or b for a, b in _LINK.findall(markdown)]
    return [t for t in targets if not re.match(r"[a-z][a-z0-9+.-]*:", t) and t[0] != "#"]


def test_quick_start_is_make_demo_and_make_test() -> None:
    quick = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    first_block = quick.split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in first_block.strip().splitlines()]
    assert commands == ["make demo", "make test"]
    assert "printf '/leadbot help\\n' | make demo" in quick


def test_the_link_checker_sees_every_form() -> None:
    text = (
        "[a](docs/a.md) [b](docs/b.md#x) [c](https://x.y) [d](#top) [e](mailto:a@b)\n"
        '[f](docs/f.md "title")\n[g]: docs/g.md\n'
    )
    assert internal_links(text) == ["docs/a.md", "docs/b.md#x", "docs/f.md", "docs/g.md"]


def test_every_internal_link_points_at_a_file_in_docs() -> None:
    links = internal_links(README)
    assert links, "the README links into docs/"
    docs = (ROOT / "docs").resolve()
    broken = []
    for link in links:
        target = (ROOT / link.split("#", 1)[0]).resolve()
        if not target.is_relative_to(docs) or not target.is_file():
            broken.append(link)
    assert broken == [], f"README links that are not files in docs/: {broken}"
