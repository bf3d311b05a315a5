"""The configuration reference, docs/admin/configuration.md, generated from the settings.

Each setting is described once, in its `Field(description=...)` in domain/settings.py,
and grouped by the comment lines there (`# Slack`, `# Retention`, ...). Regenerate with

    python -m bot.docs

and `python -m bot.docs --check` exits 1 when the committed file is out of date
(tests/docs/test_configuration.py checks the same).
"""

from __future__ import annotations

import argparse
import inspect
import re
import sys
import types
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import annotated_types
from pydantic import SecretStr
from pydantic.fields import FieldInfo

from domain.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CONFIGURATION = ROOT / "docs" / "admin" / "configuration.md"
REGENERATE = "python -m bot.docs"
FIRST_GROUP = "General"

_FIELD = re.compile(r"^    ([a-z_][a-z0-9_]*)\s*:")
_GROUP = re.compile(r"^    #\s*(.+?)\s*$")

INTRO = f"""\
# Configuration reference

<!-- Generated from domain/settings.py by `{REGENERATE}`: edit the descriptions there. -->

leadbot reads its settings from environment variables, or from a `.env` file in the
working directory (the environment wins). Names are case-insensitive. Each process reads
them once, at start: restart the processes after a change.

A value that is out of range or of the wrong type (or an unknown time zone) stops the
process at start with a message naming the setting. Secrets are never printed or logged;
this page shows them as *unset* (optional) or *required* (set it in production), never a
value.
"""


@dataclass(frozen=True)
class Setting:
    """One setting as the reference shows it."""

    name: str  # the field name; the environment variable is its upper case
    group: str
    type: str
    default: str
    description: str

    @property
    def env(self) -> str:
        return self.name.upper()


def groups_of(cls: type[Settings] = Settings) -> dict[str, str]:
    """Each field's group: the comment line above it at class level (`# Slack`); fields
    before the first such comment are in FIRST_GROUP."""
    group = FIRST_GROUP
    found: dict[str, str] = {}
    for line in inspect.getsource(cls).splitlines():
        if m := _GROUP.match(line):
            group = m.group(1)
        elif (m := _FIELD.match(line)) and m.group(1) in cls.model_fields:
            found[m.group(1)] = group
    return found


def _is_secret(annotation: Any) -> bool:
    return annotation is SecretStr or SecretStr in get_args(annotation)


def _base_type(annotation: Any) -> Any:
    """The type without None (`SecretStr | None` -> SecretStr)."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


_TYPE_NAMES = {str: "string", int: "integer", float: "number", bool: "boolean", SecretStr: "secret"}


def _bounds(info: FieldInfo) -> str:
    parts = []
    for m in info.metadata:
        if isinstance(m, annotated_types.Ge):
            parts.append(f"at least {m.ge}")
        elif isinstance(m, annotated_types.Gt):
            parts.append(f"above {m.gt}")
        elif isinstance(m, annotated_types.Le):
            parts.append(f"at most {m.le}")
        elif isinstance(m, annotated_types.Lt):
            parts.append(f"below {m.lt}")
    return ", ".join(parts)


def type_text(info: FieldInfo) -> str:
    base = _base_type(info.annotation)
    text = _TYPE_NAMES.get(base, getattr(base, "__name__", str(base)))
    if bounds := _bounds(info):
        text += f", {bounds}"
    if base is bool:
        text += " (`true` or `false`)"
    return text


def _number(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def default_text(info: FieldInfo) -> str:
    """The default as the reference shows it; a secret's value never."""
    default = info.get_default(call_default_factory=True)
    if _is_secret(info.annotation):
        return "*unset*" if default is None else "*required*"
    if default is None:
        return "*unset*"
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    if isinstance(default, int | float):
        return f"`{_number(default)}`"
    return f"`{default}`"


def settings(cls: type[Settings] = Settings) -> list[Setting]:
    """Every field of the settings class, in declaration order."""
    groups = groups_of(cls)
    return [
        Setting(
            name=name,
            group=groups.get(name, FIRST_GROUP),
            type=type_text(info),
            default=default_text(info),
            description=(info.description or "").strip(),
        )
        for name, info in cls.model_fields.items()
    ]


def _heading(group: str) -> tuple[str, str]:
    """`Delivery (the outbox ...)` -> ("Delivery", "The outbox ...")."""
    title, _, note = group.partition(" (")
    note = note.removesuffix(")")
    return title, (note[:1].upper() + note[1:] + ".") if note else ""


def render(items: Sequence[Setting] | None = None) -> str:
    """docs/admin/configuration.md."""
    items = settings() if items is None else items
    out = [INTRO]
    by_group: dict[str, list[Setting]] = {}
    for s in items:
        by_group.setdefault(s.group, []).append(s)
    out.append("| group | settings |\n|---|---|")
    for group, members in by_group.items():
        title, _ = _heading(group)
        names = ", ".join(f"[`{s.env}`](#{s.name})" for s in members)
        out.append(f"| [{title}](#{_slug(title)}) | {names} |")
    out.append("")
    for group, members in by_group.items():
        title, note = _heading(group)
        out.append(f"## {title}\n")
        if note:
            out.append(f"{note}\n")
        for s in members:
            out.append(f"### `{s.env}`\n")
            out.append(f"Type: {s.type} · default: {s.default}\n")
            out.append(f"{s.description}\n")
    return "\n".join(out).rstrip() + "\n"


def _slug(title: str) -> str:
    """The anchor MkDocs (and GitHub) give a heading."""
    return re.sub(r"[\s]+", "-", re.sub(r"[^\w\s-]", "", title).strip().lower())


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bot.docs", description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="exit 1 if the file is out of date")
    p.add_argument("--out", type=Path, default=CONFIGURATION, help="where to write it")
    args = p.parse_args(argv)
    text = render()
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is out of date: run `{REGENERATE}`.", file=sys.stderr)
            return 1
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
