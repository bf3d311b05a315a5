"""Reading the words of `/stats` into a request: whose figures, which metric, which period.

The words come in any order (`/stats week aht`, `/stats aht me`): one person (`me` or
`@someone`) or one team (`team NAME`), at most one metric and at most one period. The
period is read in the zone of whoever the figures are about (the person's, the team's,
else the asker's own team's), so "yesterday" is the subject's yesterday.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from domain.errors import NotFound, UsageError
from domain.localtime import local_today
from domain.parsing import Args
from domain.periods import Period, is_period_word, parse_period, periods_help
from domain.types import Command, Mention, UnresolvedMention
from handlers.core.context import HandlerContext
from handlers.core.metrics import metrics_help, resolve_metric
from storage import people
from storage.models import Metric, Person, Team

CHART_WORD = "chart"
_ONE_SUBJECT = "Ask about one person or one team at a time."


@dataclass(frozen=True)
class StatsRequest:
    """What a `/stats` command asks for; nothing chosen means the default view."""

    person: Person | None = None  # someone's figures (@someone)
    team: Team | None = None  # a named team (team NAME)
    metric: Metric | None = None
    period_word: str | None = None  # as typed; `period` is it read in the subject's zone
    period: Period | None = None
    me: bool = False
    chart: bool = False  # `chart`: the metric's trend as a chart (handlers/stats/chart.py)

    @property
    def about_a_person(self) -> bool:
        return self.me or self.person is not None


class _Reader:
    """Collects the request one token at a time; each kind of word has its own step."""

    def __init__(self, ctx: HandlerContext, metrics: Sequence[Metric]) -> None:
        self.ctx = ctx
        self.metrics = metrics
        self.req = StatsRequest()

    async def token(self, args: Args) -> None:
        tok = args.next()
        if isinstance(tok, UnresolvedMention):
            raise UsageError(f"I don't know {tok.text}: {tok.reason}.")
        if isinstance(tok, Mention):
            await self.mention(tok)
            return
        word = tok.lower()
        if word == "me":
            self.me()
        elif word == "team":
            await self.team(args)
        elif word == CHART_WORD:
            self.req = replace(self.req, chart=True)
        elif is_period_word(word):
            self.period(word)
        else:
            self.metric(tok, word)

    async def mention(self, tok: Mention) -> None:
        r = self.req
        if r.person is not None or r.me or r.team is not None:
            raise UsageError(_ONE_SUBJECT)
        person = await people.get_person(self.ctx.db, person_id=tok.person_id)
        if person is None:
            raise NotFound(f"I can't find {tok.name} on the roster.")
        self.req = replace(r, person=person)

    def me(self) -> None:
        if self.req.person is not None or self.req.team is not None:
            raise UsageError(_ONE_SUBJECT)
        self.req = replace(self.req, me=True)

    async def team(self, args: Args) -> None:
        r = self.req
        if r.person is not None or r.me or r.team is not None:
            raise UsageError(_ONE_SUBJECT)
        words = self._team_name(args)
        if not words:
            raise UsageError("Name the team, e.g. `/stats team Billing`.")
        name = " ".join(words)
        team = await people.get_team_by_name(self.ctx.db, name=name)
        if team is None:
            teams = await people.list_teams(self.ctx.db)
            known = ", ".join(t.name for t in teams) or "none yet"
            raise NotFound(f"There is no team called {name!r}. Teams: {known}.")
        self.req = replace(r, team=team)

    def _team_name(self, args: Args) -> list[str]:
        """The words of a team name: up to a mention, a period or a metric."""
        words: list[str] = []
        while isinstance(nxt := args.peek(), str):
            if (
                is_period_word(nxt)
                or nxt.lower() == CHART_WORD
                or resolve_metric(nxt, self.metrics)
            ):
                break
            words.append(nxt)
            args.next()
        return words

    def period(self, word: str) -> None:
        if self.req.period_word is not None:
            raise UsageError("Give one period at a time. " + periods_help())
        self.req = replace(self.req, period_word=word)

    def metric(self, tok: str, word: str) -> None:
        m = resolve_metric(word, self.metrics)
        if m is None:
            raise UsageError(f"I don't know {tok!r}. {metrics_help(self.metrics)} {periods_help()}")
        if self.req.metric is not None:
            raise UsageError("Give one metric at a time. " + metrics_help(self.metrics))
        self.req = replace(self.req, metric=m)

    async def finish(self, cmd: Command, args: Args) -> StatsRequest:
        while args:
            await self.token(args)
        return await with_period(self.ctx, cmd, self.req)


async def read_request(
    cmd: Command, args: Args, ctx: HandlerContext, metrics: Sequence[Metric]
) -> StatsRequest:
    """`[me|@person|team NAME] [METRIC] [PERIOD]`, in any order."""
    return await _Reader(ctx, metrics).finish(cmd, args)


async def read_chart_request(
    cmd: Command, args: Args, ctx: HandlerContext, metrics: Sequence[Metric]
) -> StatsRequest:
    """The words after `/stats chart`: as after `/stats`, charted."""
    reader = _Reader(ctx, metrics)
    reader.req = replace(reader.req, chart=True)
    return await reader.finish(cmd, args)


async def read_me_request(
    cmd: Command, args: Args, ctx: HandlerContext, metrics: Sequence[Metric]
) -> StatsRequest:
    """The words after `/stats me`."""
    reader = _Reader(ctx, metrics)
    reader.me()
    return await reader.finish(cmd, args)


async def read_team_request(
    cmd: Command, args: Args, ctx: HandlerContext, metrics: Sequence[Metric]
) -> StatsRequest:
    """The words after `/stats team`: the team's name first."""
    reader = _Reader(ctx, metrics)
    await reader.team(args)
    return await reader.finish(cmd, args)


async def with_period(ctx: HandlerContext, cmd: Command, req: StatsRequest) -> StatsRequest:
    """The request with its period word read in the subject's zone."""
    if req.period_word is None:
        return req
    zone = await _subject_zone(ctx, cmd, req)
    return replace(req, period=parse_period(req.period_word, local_today(ctx.now(), zone)))


async def as_me(ctx: HandlerContext, cmd: Command, req: StatsRequest) -> StatsRequest:
    """The request about the asker themself (its period read in their own zone)."""
    return await with_period(ctx, cmd, replace(req, me=True, person=None))


async def _subject_zone(ctx: HandlerContext, cmd: Command, req: StatsRequest) -> str:
    if req.person is not None:
        return req.person.timezone
    if req.team is not None:
        return req.team.timezone
    if not req.me and cmd.actor.team_id is not None:
        own = await people.get_team(ctx.db, team_id=cmd.actor.team_id)
        return own.timezone if own else cmd.actor.timezone
    return cmd.actor.timezone
