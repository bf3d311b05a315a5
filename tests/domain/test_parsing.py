"""Command text into tokens and arguments, with clear errors."""

from __future__ import annotations

import pytest

from domain.errors import UsageError
from domain.parsing import (
    MAX_COMMAND_LENGTH,
    Args,
    mention_candidate,
    split_words,
    token_text,
    tokenize,
)
from domain.types import Mention, Quoted, UnresolvedMention


async def _resolve(text: str) -> Mention | UnresolvedMention:
    if text in ("@maria.lopez", "<@U0MARIA>", "<@U0MARIA|maria>"):
        return Mention(7, "Maria Lopez")
    return UnresolvedMention(text)


def test_split_words_groups_quotes_and_keeps_apostrophes() -> None:
    assert split_words('kudos "great save" don\'t  stop') == [
        "kudos",
        "great save",
        "don't",
        "stop",
    ]
    assert split_words("\u201csmart quotes\u201d ok") == ["smart quotes", "ok"]
    assert split_words('title ""') == ["title", ""]
    assert split_words("   ") == []


def test_mention_candidates() -> None:
    assert mention_candidate("@maria.lopez,") == ("@maria.lopez", ",")
    assert mention_candidate("<@U0MARIA|maria>") == ("<@U0MARIA|maria>", "")
    assert mention_candidate("email@example.com") is None
    assert mention_candidate("#ownership") is None


async def test_tokenize_resolves_mentions_once_each() -> None:
    calls: list[str] = []

    async def counting(text: str) -> Mention | UnresolvedMention:
        calls.append(text)
        return await _resolve(text)

    toks = await tokenize("@maria.lopez great save @maria.lopez @ghost #ownership", counting)
    assert toks[0] == Mention(7, "Maria Lopez")
    assert toks[1:3] == ("great", "save")
    assert isinstance(toks[4], UnresolvedMention)
    assert toks[5] == "#ownership"
    assert calls == ["@maria.lopez", "@ghost"]


async def test_tokenize_refuses_huge_commands() -> None:
    with pytest.raises(UsageError, match="too long"):
        await tokenize("x" * (MAX_COMMAND_LENGTH + 1), _resolve)


async def test_args_cursor() -> None:
    args = Args(await tokenize("SET @maria.lopez aht <= 300 extra words", _resolve))
    assert args.take_if("clear") is None
    assert args.take_if("set", "clear") == "set"
    assert args.take_if("set") is None
    assert args.take_mention() == Mention(7, "Maria Lopez")
    assert args.peek_word() == "aht"
    assert args.take_word("a metric") == "aht"
    assert args.next() == "<="
    assert args.take_word() == "300"
    with pytest.raises(UsageError, match="I didn't understand 'extra words'"):
        args.expect_end()
    assert args.rest_text() == "extra words"
    assert not args
    args.expect_end()
    with pytest.raises(UsageError, match="Missing a metric"):
        args.take_word("a metric")
    with pytest.raises(UsageError, match="Something is missing"):
        args.next()


async def test_args_mention_errors() -> None:
    args = Args(await tokenize("@ghost word", _resolve))
    with pytest.raises(UsageError, match="I don't know @ghost: nobody by that name"):
        args.take_mention()
    args = Args(await tokenize("word @maria.lopez", _resolve))
    with pytest.raises(UsageError, match="Expected a person"):
        args.take_mention()
    assert args.take_mentions() == []
    args = Args(await tokenize("@maria.lopez <@U0MARIA> then", _resolve))
    assert len(args.take_mentions()) == 2
    with pytest.raises(UsageError, match="Expected a word"):
        Args([Mention(1, "X")]).take_word()
    with pytest.raises(UsageError, match="Missing a person"):
        Args([]).take_mention()


def test_token_text() -> None:
    assert token_text(Mention(1, "Maria Lopez")) == "@Maria Lopez"
    assert token_text(UnresolvedMention("@ghost")) == "@ghost"
    assert token_text("word") == "word"


def test_quoted_words_are_marked_so_they_stay_text() -> None:
    words = split_words('question "help" ?  “set it” plain')
    assert words == ["question", "help", "?", "set it", "plain"]
    assert [isinstance(w, Quoted) for w in words] == [False, True, False, True, False]
