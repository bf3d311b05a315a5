"""The console adapter: one command per line, the same handlers, replies as text."""

from __future__ import annotations

from bot.mentions import resolve_handle
from handlers.parsing import split_words, tokenize
from handlers.types import Actor, Command, Mention, Platform, UnresolvedMention
from storage.db import Database


async def parse_line(
    db: Database, actor: Actor, line: str, *, platform: Platform = Platform.console
) -> Command:
    """`/kudos @maria.lopez great save` into a Command for `actor`."""
    text = line.strip()
    words = split_words(text)
    verb = words[0].lstrip("/").lower() if words else ""
    rest = text[len(text.split(None, 1)[0]) :].strip() if text else ""

    async def resolve(mention: str) -> Mention | UnresolvedMention:
        return await resolve_handle(db, mention)

    args = await tokenize(rest, resolve)
    return Command(actor=actor, verb=verb, args=args, raw=text, platform=platform)
