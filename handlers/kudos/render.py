"""Kudos text, pure: value tags, names joined for a sentence, the channel shout-out."""

from __future__ import annotations

import re
from collections.abc import Sequence

from domain.types import Block, Context, Reply, Text, Visibility
from storage.models import ValueTag

MAX_MESSAGE = 1000
_KEY_RE = re.compile(r"[^a-z0-9]+")


def value_key(name: str) -> str:
    """How a value is written after `#`: lower case, words joined by dashes."""
    return _KEY_RE.sub("-", name.strip().lstrip("#").lower()).strip("-")[:32]


def values_hint(values: Sequence[ValueTag]) -> str:
    """`#ownership, #planning`: the tags one can use."""
    return ", ".join(f"#{v.key}" for v in values) or "(none configured)"


def join_names(names: Sequence[str]) -> str:
    """`A`, `A and B`, `A, B and C`."""
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def short(text: str, n: int = 80) -> str:
    """The text on one line, cut to `n` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def shout_out(
    giver_name: str, receiver_names: Sequence[str], value: ValueTag | None, message: str
) -> Reply:
    """The channel post for one kudos."""
    who = join_names(receiver_names)
    head = f"🎉 *{giver_name}* recognised *{who}*"
    if value is not None:
        head += f" for *{value.name}*"
    blocks: list[Block] = [
        Text(head),
        Text(f"> {message}"),
        Context("Give kudos with `/kudos @name #value message`"),
    ]
    return Reply(
        blocks=blocks,
        text=f"{giver_name} recognised {who}: {message}",
        visibility=Visibility.channel,
    )
