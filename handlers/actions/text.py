"""What users type into an item: titles, notes and item numbers, cleaned and checked."""

from __future__ import annotations

import re
import unicodedata

from domain.errors import UsageError
from handlers.core.followups import TITLE_MAX

NOTE_MAX = 500
_ID_RE = re.compile(r"^#?(\d{1,12})$")


def clean_text(text: str) -> str:
    """Control characters out, white space collapsed (titles and notes go to chat)."""
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Cf") else c for c in text)
    return " ".join(text.split())


def clean_title(text: str) -> str:
    """A cleaned title; UsageError when it is empty or too long."""
    title = clean_text(text)
    if not title:
        raise UsageError(
            "Say what needs doing, e.g. `/action @maria.lopez call back the Smith account`."
        )
    if len(title) > TITLE_MAX:
        raise UsageError(f"That title is {len(title)} characters; {TITLE_MAX} at most.")
    return title


def clean_note(text: str, what: str = "note") -> str:
    """A cleaned note (or reason, or message); UsageError when it is too long."""
    note = clean_text(text)
    if len(note) > NOTE_MAX:
        raise UsageError(f"That {what} is {len(note)} characters; {NOTE_MAX} at most.")
    return note


def parse_item_id(text: str) -> int:
    """`12` or `#12`; UsageError otherwise."""
    m = _ID_RE.match(text.strip())
    if not m:
        raise UsageError(f"{text!r} isn't an action item number (they look like #12).")
    return int(m.group(1))
