"""Turning command text into tokens, and reading arguments with clear errors."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable

from domain.errors import UsageError
from domain.types import Mention, Quoted, Token, UnresolvedMention

MAX_COMMAND_LENGTH = 4000
_QUOTES = {'"': '"', "\u201c": "\u201d", "\u201e": "\u201c"}
# A mention: Slack's <@U123|name> / <@U123>, or a plain @name (a roster handle).
_MENTION_RE = re.compile(r"^(<@[A-Z0-9]+(?:\|[^>]*)?>|@[\w.\-']+)([,.!?;:]*)$", re.UNICODE)


def split_words(text: str) -> list[str]:
    """Split on white space; "double quotes" group words (and mark them Quoted).
    Apostrophes are just letters."""
    words: list[str] = []
    buf: list[str] = []
    close: str | None = None
    quoted = False
    for ch in text:
        if close is not None:
            if ch == close:
                close = None
            else:
                buf.append(ch)
        elif ch in _QUOTES and not buf:
            close = _QUOTES[ch]
            quoted = True
        elif ch.isspace():
            if buf or quoted:
                words.append(_word(buf, quoted))
                buf, quoted = [], False
        else:
            buf.append(ch)
    if buf or quoted:
        words.append(_word(buf, quoted))
    return words


def _word(chars: list[str], quoted: bool) -> str:
    text = "".join(chars)
    return Quoted(text) if quoted else text


def mention_candidate(word: str) -> tuple[str, str] | None:
    """(the mention text, trailing punctuation) when `word` looks like a mention."""
    m = _MENTION_RE.match(word)
    if not m:
        return None
    return m.group(1), m.group(2)


Resolver = Callable[[str], Awaitable[Mention | UnresolvedMention]]


async def tokenize(text: str, resolve: Resolver) -> tuple[Token, ...]:
    """Words of `text`, with each mention resolved by the adapter's resolver."""
    if len(text) > MAX_COMMAND_LENGTH:
        raise UsageError(f"That command is too long ({len(text)} characters).")
    out: list[Token] = []
    cache: dict[str, Mention | UnresolvedMention] = {}
    for word in split_words(text):
        cand = mention_candidate(word)
        if cand is None:
            out.append(word)
            continue
        mention, _trail = cand
        if mention not in cache:
            cache[mention] = await resolve(mention)
        out.append(cache[mention])
    return tuple(out)


def token_text(tok: Token) -> str:
    """The token as the user wrote it (a mention as @name)."""
    return str(tok)


class Args:
    """A cursor over a command's tokens. Every `take_*` raises UsageError with a reason."""

    def __init__(self, tokens: Iterable[Token]) -> None:
        self.tokens = list(tokens)
        self.pos = 0

    def __bool__(self) -> bool:
        return self.pos < len(self.tokens)

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self else None

    def peek_word(self) -> str | None:
        """The next token lower-cased when it is a plain word."""
        tok = self.peek()
        return tok.lower() if isinstance(tok, str) else None

    def next(self) -> Token:
        if not self:
            raise UsageError("Something is missing.")
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def take_word(self, what: str = "a word") -> str:
        tok = self.peek()
        if tok is None:
            raise UsageError(f"Missing {what}.")
        if not isinstance(tok, str):
            raise UsageError(f"Expected {what}, got {tok}.")
        self.pos += 1
        return tok

    def take_if(self, *words: str) -> str | None:
        """Consume the next word when it is one of `words` (case-insensitive)."""
        w = self.peek_word()
        if w is not None and w in words:
            self.pos += 1
            return w
        return None

    def take_mention(self, what: str = "a person (@name)") -> Mention:
        tok = self.peek()
        if tok is None:
            raise UsageError(f"Missing {what}.")
        if isinstance(tok, UnresolvedMention):
            raise UsageError(f"I don't know {tok.text}: {tok.reason}.")
        if not isinstance(tok, Mention):
            raise UsageError(f"Expected {what}, got {tok!r}.")
        self.pos += 1
        return tok

    def take_mentions(self) -> list[Mention]:
        out: list[Mention] = []
        while isinstance(self.peek(), Mention | UnresolvedMention):
            out.append(self.take_mention())
        return out

    def rest(self) -> list[Token]:
        toks = self.tokens[self.pos :]
        self.pos = len(self.tokens)
        return toks

    def rest_text(self) -> str:
        return " ".join(token_text(t) for t in self.rest()).strip()

    def expect_end(self) -> None:
        if self:
            extra = " ".join(token_text(t) for t in self.tokens[self.pos :])
            raise UsageError(f"I didn't understand {extra!r}.")
