"""KPI sources: the port a contact-center platform is read through, and its pure types.

A source turns a platform's API into `IntervalRow`s: one metric of one agent or queue
over one interval (its start in UTC and its length), as the additive counts behind the
figure, never as a finished average or percentage:

- a mean (AHT, ASA, QA): `numerator` = the sum (seconds, points), `denominator` = the count;
- a ratio (service level, abandonment, CSAT, FCR, occupancy, adherence): `numerator` =
  the part, `denominator` = the whole (answered in threshold / offered, ...);
- NPS: `numerator` = promoters - detractors, `denominator` = responses;

and `contacts`, the weight the figure carries. Storage keeps the intervals and rolls them
up to days as sums, so every aggregate stays contact-weighted and every ratio a ratio of
sums (domain/kpi.py), whatever the mix of agents, queues, intervals and days.

The platform clients (bot/sources/) implement `KpiSource`; the pull job (jobs/kpi_pull.py)
gets them from the bootstrap and never knows which platform it is reading.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable

from domain.kpi import Aggregation, KpiRow, plausible_range

SOURCE_NAMES = ("genesys", "connect", "flex", "zendesk", "http")


class SubjectKind(StrEnum):
    agent = "agent"  # a platform user: mapped to a person by email
    queue = "queue"  # a queue (task queue, group): mapped to a team by the admin


@dataclass(frozen=True, slots=True)
class IntervalRow:
    """One metric of one agent or queue over one interval, as counts (module doc)."""

    start: dt.datetime  # UTC, aware
    minutes: int
    kind: SubjectKind
    external_id: str  # the platform's id of the user or queue
    metric: str  # a catalogue key
    numerator: float
    denominator: float
    contacts: float


@dataclass(frozen=True, slots=True)
class Subject:
    """A user or queue as the platform names it: what mapping needs."""

    kind: SubjectKind
    external_id: str
    name: str = ""
    email: str = ""  # agents: the email (or username) people are matched by


@dataclass(frozen=True)
class Window:
    """A half-open span of time [start, end) in UTC, on interval boundaries."""

    start: dt.datetime
    end: dt.datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("a window needs aware datetimes")
        if self.end <= self.start:
            raise ValueError(f"empty window {self.start} .. {self.end}")

    def __str__(self) -> str:
        return f"{_iso(self.start)}/{_iso(self.end)}"

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ErrorKind(StrEnum):
    config = "config"  # a setting is missing or wrong
    credentials = "credentials"  # refused who we are (401, bad secret, expired key)
    permission = "permission"  # knows who we are, refused what we asked (403)
    region = "region"  # the host does not answer as the platform (wrong region, URL)
    rate_limited = "rate_limited"  # still throttled after the retries
    unavailable = "unavailable"  # timeouts, network errors, 5xx after the retries
    payload = "payload"  # answered something we cannot read
    missing_extra = "missing_extra"  # the connector's optional package is not installed


class SourceError(Exception):
    """A source could not be read; `message` says what is wrong and what to do."""

    def __init__(self, message: str, kind: ErrorKind = ErrorKind.unavailable, attempts: int = 1):
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.attempts = attempts


@dataclass
class CheckReport:
    """What `leadbot sources test NAME` found: facts on success, or what is wrong."""

    ok: bool
    facts: list[str] = field(default_factory=list)
    problem: str | None = None


@runtime_checkable
class KpiSource(Protocol):
    """A platform read in intervals (Genesys Cloud, Amazon Connect, Twilio Flex, Zendesk)."""

    name: str  # one of SOURCE_NAMES
    title: str  # for people: "Genesys Cloud"
    interval_minutes: int  # 15 or 30
    repull: dt.timedelta  # how far back each pull reads again (metrics arrive late)
    max_window: dt.timedelta  # the longest span one request may cover

    async def check(self) -> CheckReport:
        """One small authenticated call: what was found, or exactly what is wrong."""
        ...

    async def subjects(self, known: Collection[str]) -> Sequence[Subject]:
        """The users and queues, with what maps them; `known` ids may be skipped."""
        ...

    def pull(self, window: Window) -> AsyncIterator[IntervalRow]:
        """Every row of `window`, all pages read; raises SourceError."""
        ...

    async def aclose(self) -> None: ...


@runtime_checkable
class DailySource(Protocol):
    """A source that answers finished local days (the HTTP pull in leadbot's JSON)."""

    name: str
    title: str

    async def check(self) -> CheckReport: ...

    async def fetch_days(self) -> tuple[list[dict[str, object]], int]:
        """The payload's rows (checked for shape) and the attempts it took.

        Raises SourceError when the source failed, PayloadError when it answered
        something that is not a valid payload."""
        ...

    async def aclose(self) -> None: ...


Source = KpiSource | DailySource


class PayloadError(Exception):
    """A source answered, but not with a valid payload; `problems` lists each one."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or []


# --- windows: what a pull reads -----------------------------------------------------


def floor_to(t: dt.datetime, minutes: int) -> dt.datetime:
    """`t` (UTC) down to its interval boundary."""
    t = t.astimezone(dt.UTC)
    day = t.replace(hour=0, minute=0, second=0, microsecond=0)
    step = dt.timedelta(minutes=minutes)
    return day + step * ((t - day) // step)


def ceil_to(t: dt.datetime, minutes: int) -> dt.datetime:
    f = floor_to(t, minutes)
    return f if f == t.astimezone(dt.UTC) else f + dt.timedelta(minutes=minutes)


def plan_windows(
    *,
    watermark: dt.datetime | None,
    now: dt.datetime,
    minutes: int,
    repull: dt.timedelta,
    max_window: dt.timedelta,
    first_pull: dt.timedelta = dt.timedelta(days=1),
) -> list[Window]:
    """The windows one pull reads, oldest first.

    From the watermark (everything before it was pulled once), less `repull` because
    platforms emit metrics late, up to the interval now is in (its figures are partial
    and are replaced next time). A source never pulled starts `first_pull` ago. Each
    window is at most `max_window`, and each is applied on its own, so a pull that stops
    half-way resumes from the last window it finished.
    """
    end = ceil_to(now, minutes)
    if end == floor_to(now, minutes):
        end += dt.timedelta(minutes=minutes)
    since = watermark if watermark is not None else now - first_pull
    start = floor_to(min(since, now) - repull, minutes)
    return split_window(Window(start, end), max_window)


def split_window(window: Window, max_window: dt.timedelta) -> list[Window]:
    """`window` in pieces of at most `max_window`, oldest first."""
    out: list[Window] = []
    t = window.start
    while t < window.end:
        nxt = min(t + max_window, window.end)
        out.append(Window(t, nxt))
        t = nxt
    return out


# --- checks: a row that could never be right is refused ---------------------------------


def interval_problem(row: IntervalRow, unit: str, aggregation: Aggregation | str) -> str | None:
    """Why a row from a platform cannot be stored, or None.

    Counts are finite and non-negative (NPS's net promoters may be negative, never beyond
    the responses); a ratio's part is at most its whole; the figure the counts make lies
    in the metric's plausible range (a percentage 0-100, a time at most a day).
    """
    values = (row.numerator, row.denominator, row.contacts)
    if not all(math.isfinite(v) for v in values):
        return "a count is not a number"
    if row.denominator < 0 or row.contacts < 0:
        return "a negative count"
    agg = Aggregation(aggregation)
    if agg is Aggregation.nps:
        if abs(row.numerator) > row.denominator:
            return "more net promoters than responses"
        return None
    if row.numerator < 0:
        return "a negative count"
    if agg is Aggregation.ratio and row.numerator > row.denominator * (1 + 1e-9):
        return f"{row.numerator:g} of {row.denominator:g} is more than the whole"
    if agg is Aggregation.weighted_mean and row.denominator > 0:
        hi = plausible_range(unit)[1]
        mean = row.numerator / row.denominator
        if hi is not None and mean > hi:
            return f"a mean of {mean:g} {unit} is beyond {hi:g}"
    return None


# --- days: how intervals become the daily values people read ----------------------------


@dataclass(frozen=True, slots=True)
class DayCounts:
    """The summed counts of one person's (or team's) metric on one local day."""

    day: dt.date
    metric: str
    person_id: int | None
    team_id: int | None
    numerator: float
    denominator: float
    contacts: float


def day_row(c: DayCounts, aggregation: Aggregation | str) -> KpiRow | None:
    """The daily value of summed interval counts, or None when there is nothing to divide.

    Means store their value and weight (the sum comes back as value x weight); ratios
    and NPS store their counts so every later total is a ratio of sums.
    """
    if c.denominator <= 0:
        return None
    agg = Aggregation(aggregation)
    if agg is Aggregation.weighted_mean:
        return KpiRow(
            day=c.day,
            metric_key=c.metric,
            value=c.numerator / c.denominator,
            person_id=c.person_id,
            team_id=c.team_id,
            weight=c.denominator,
        )
    if agg is Aggregation.sum:
        return KpiRow(c.day, c.metric, c.numerator, c.person_id, c.team_id, weight=c.contacts)
    return KpiRow(
        day=c.day,
        metric_key=c.metric,
        value=100.0 * c.numerator / c.denominator,
        person_id=c.person_id,
        team_id=c.team_id,
        weight=c.contacts,
        numerator=c.numerator,
        denominator=c.denominator,
    )
