"""Resolving mentions in command text to people (shared by every adapter)."""

from __future__ import annotations

from domain.types import Mention, UnresolvedMention
from storage import people
from storage.db import Database


async def resolve_handle(db: Database, text: str) -> Mention | UnresolvedMention:
    """`@maria.lopez` (email local part) or `@Maria` (a unique display name)."""
    handle = text.lstrip("@").strip()
    found = await people.find_by_handle(db, handle=handle)
    if len(found) == 1 and found[0].id is not None:
        return Mention(found[0].id, found[0].display_name)
    if len(found) > 1:
        names = ", ".join(p.email.split("@")[0] for p in found[:5])
        return UnresolvedMention(text, f"several people match ({names}); use the email's name part")
    return UnresolvedMention(text)
