"""Live queue observations: what a contact-center platform says about a queue right now.

One `Observation` is one queue at one moment, normalised from whatever the platform
calls it (Genesys Cloud's `oWaiting`, Amazon Connect's `CONTACTS_IN_QUEUE`, a Twilio
TaskQueue's `tasks_by_status.pending`, or the push endpoint's JSON). Real-time figures
(waiting, longest wait, agents) are "now"; the window figures (offered, answered within
the service-level threshold, abandoned, ASA, occupancy) cover the last `window_minutes`.
A figure the platform does not give is None, never 0: a rule on it does not evaluate.

`LiveSource` is the port every poller implements (bot/live/); the push endpoint
(`POST /kpi/live`) accepts the same observations as JSON (`observation_from_json`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

MAX_QUEUE_ID = 120
MAX_NAME = 120
MAX_OBSERVATIONS = 1000  # in one push
# An observation older than this is stale: no rule evaluates it, the wallboard says so.
STALE_AFTER = dt.timedelta(minutes=5)
# How far ahead of our clock a push may claim to be (clock skew), before it is refused.
FUTURE_SLACK = dt.timedelta(minutes=2)


@dataclass(frozen=True)
class Observation:
    """One queue at one moment (UTC). Counts are whole numbers, times in seconds, rates
    and occupancy in percent (0-100)."""

    queue_id: str
    observed_at: dt.datetime
    queue_name: str | None = None
    team: str | None = None  # the leadbot team's name, when the source knows it
    source: str = ""
    waiting: int | None = None
    longest_wait_seconds: float | None = None
    agents_available: int | None = None
    agents_on_queue: int | None = None
    agents_interacting: int | None = None
    window_minutes: int = 30
    offered: int | None = None
    answered_in_sl: int | None = None
    abandoned: int | None = None
    asa_seconds: float | None = None
    occupancy: float | None = None
    sl_threshold_seconds: int | None = None
    offered_today: int | None = None
    answered_in_sl_today: int | None = None
    abandoned_today: int | None = None

    @property
    def service_level(self) -> float | None:
        """Percent of offered contacts answered within the threshold, over the window."""
        return percent(self.answered_in_sl, self.offered)

    @property
    def abandon_rate(self) -> float | None:
        return percent(self.abandoned, self.offered)

    @property
    def service_level_today(self) -> float | None:
        return percent(self.answered_in_sl_today, self.offered_today)

    @property
    def abandon_rate_today(self) -> float | None:
        return percent(self.abandoned_today, self.offered_today)

    @property
    def label(self) -> str:
        return self.queue_name or self.queue_id

    def stale(self, now: dt.datetime) -> bool:
        return now - self.observed_at > STALE_AFTER

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["observed_at"] = self.observed_at.astimezone(dt.UTC).isoformat()
        return {k: v for k, v in d.items() if v is not None}


def percent(part: int | None, whole: int | None) -> float | None:
    if part is None or whole is None or whole <= 0:
        return None
    return 100.0 * min(part, whole) / whole


# --- window figures from the connectors' pulled intervals ----------------------------------

# The window a rule on service level or abandonment looks at, and how old the newest pulled
# interval may end before the intervals say nothing about "now" (one pull period, 15 min,
# behind a 30-minute window).
INTERVAL_WINDOW = dt.timedelta(minutes=30)
INTERVAL_MAX_AGE = dt.timedelta(minutes=45)
WINDOW_METRICS = ("service_level", "abandon_rate", "asa")


@dataclass(frozen=True)
class QueueInterval:
    """One queue metric over one pulled interval, as the KPI connectors store it
    (storage/intervals.py): the counts behind a ratio."""

    start: dt.datetime
    minutes: int
    metric: str  # one of WINDOW_METRICS
    numerator: float
    denominator: float


def window_from_intervals(
    rows: Sequence[QueueInterval], *, now: dt.datetime
) -> dict[str, Any] | None:
    """The window figures of the newest 30 minutes of a queue's pulled intervals (offered,
    answered within the service level, abandoned, ASA), or None when there are none or
    the newest ends more than INTERVAL_MAX_AGE ago.

    Offered is the abandonment's denominator (contacts offered); where the platform
    measures service level over other contacts (Genesys Cloud's `oServiceLevel`), the
    answered-in-SL count is scaled to it, so the service level shown is the platform's.
    """
    if not rows:
        return None
    end = max(r.start + dt.timedelta(minutes=r.minutes) for r in rows)
    if end < now - INTERVAL_MAX_AGE:
        return None
    recent = [r for r in rows if r.start >= end - INTERVAL_WINDOW]
    sums: dict[str, list[float]] = {}
    for r in recent:
        acc = sums.setdefault(r.metric, [0.0, 0.0])
        acc[0] += r.numerator
        acc[1] += r.denominator
    sl, ab, asa = (sums.get(k) for k in WINDOW_METRICS)
    offered = ab[1] if ab and ab[1] > 0 else (sl[1] if sl and sl[1] > 0 else None)
    if offered is None:
        return None
    out: dict[str, Any] = {
        "window_minutes": round((end - min(r.start for r in recent)).total_seconds() / 60),
        "offered": round(offered),
    }
    if sl and sl[1] > 0:
        out["answered_in_sl"] = round(min(sl[0], sl[1]) / sl[1] * offered)
    if ab and ab[1] > 0:
        out["abandoned"] = round(ab[0])
    if asa and asa[1] > 0:
        out["asa_seconds"] = asa[0] / asa[1]
    return out


def with_window(o: Observation, figures: Mapping[str, Any] | None) -> Observation:
    """`o` with the window figures filled in from intervals, when its source gives none
    itself (a poller's real-time figures only); a source's own window figures win."""
    if not figures or o.offered is not None:
        return o
    return dataclasses.replace(o, **figures)


class LiveSource(Protocol):
    """A platform polled for live queue figures (bot/live/ has one per platform)."""

    name: str
    poll_seconds: float  # how often it may be asked, within the platform's API limits

    async def observe(self) -> list[Observation]: ...


# --- reading the push endpoint's JSON -----------------------------------------------------

_COUNTS = (
    "waiting",
    "agents_available",
    "agents_on_queue",
    "agents_interacting",
    "offered",
    "answered_in_sl",
    "abandoned",
    "sl_threshold_seconds",
    "offered_today",
    "answered_in_sl_today",
    "abandoned_today",
)
_SECONDS = ("longest_wait_seconds", "asa_seconds")
_KNOWN = {
    *_COUNTS,
    *_SECONDS,
    "queue_id",
    "queue_name",
    "team",
    "observed_at",
    "window_minutes",
    "occupancy",
    "source",
}


def _count(d: Mapping[str, Any], key: str) -> int | None:
    v = d.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float) or v != int(v):
        raise ValueError(f"`{key}` is not a whole number")
    if not 0 <= v <= 10_000_000:
        raise ValueError(f"`{key}` is out of range")
    return int(v)


def _real(d: Mapping[str, Any], key: str, high: float) -> float | None:
    v = d.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise ValueError(f"`{key}` is not a number")
    if not 0 <= v <= high:
        raise ValueError(f"`{key}` is out of range")
    return float(v)


def _text(d: Mapping[str, Any], key: str, limit: int, *, required: bool = False) -> str | None:
    v = d.get(key)
    if v is None:
        if required:
            raise ValueError(f"`{key}` is missing")
        return None
    if not isinstance(v, str) or not v.strip() or len(v) > limit or "\x00" in v:
        raise ValueError(f"`{key}` is not a text of 1 to {limit} characters")
    return v.strip()


def _when(d: Mapping[str, Any], now: dt.datetime) -> dt.datetime:
    v = d.get("observed_at")
    if v is None:
        return now
    if not isinstance(v, str):
        raise ValueError("`observed_at` is not an ISO 8601 time")
    try:
        when = dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("`observed_at` is not an ISO 8601 time") from None
    if when.tzinfo is None:
        raise ValueError("`observed_at` has no UTC offset")
    when = when.astimezone(dt.UTC)
    if when > now + FUTURE_SLACK:
        raise ValueError("`observed_at` is in the future")
    return when


def observation_from_json(d: Any, *, now: dt.datetime, source: str = "push") -> Observation:
    """One observation from the push format (docs/admin/live-sources.md); ValueError
    saying what is wrong. Unknown keys are refused, so a typo is not silently lost."""
    if not isinstance(d, dict):
        raise ValueError("an observation is not an object")
    unknown = sorted(set(d) - _KNOWN)
    if unknown:
        raise ValueError(f"unknown field `{unknown[0]}`")
    counts = {k: _count(d, k) for k in _COUNTS}
    window = _count(d, "window_minutes")
    if window is not None and not 1 <= window <= 24 * 60:
        raise ValueError("`window_minutes` is out of range")
    obs = Observation(
        queue_id=_text(d, "queue_id", MAX_QUEUE_ID, required=True) or "",
        observed_at=_when(d, now),
        queue_name=_text(d, "queue_name", MAX_NAME),
        team=_text(d, "team", MAX_NAME),
        source=_text(d, "source", 40) or source,
        longest_wait_seconds=_real(d, "longest_wait_seconds", 7 * 86400),
        asa_seconds=_real(d, "asa_seconds", 7 * 86400),
        occupancy=_real(d, "occupancy", 100.0),
        window_minutes=window or 30,
        **counts,
    )
    for part, whole in (("answered_in_sl", "offered"), ("abandoned", "offered")):
        p, w = getattr(obs, part), getattr(obs, whole)
        if p is not None and w is not None and p > w:
            raise ValueError(f"`{part}` is more than `{whole}`")
    return obs


def observations_from_json(body: Any, *, now: dt.datetime) -> list[Observation]:
    """The push body: `{"observations": [...]}`; ValueError naming the first problem."""
    if not isinstance(body, dict) or not isinstance(body.get("observations"), list):
        raise ValueError('the body is not {"observations": [...]}')
    if set(body) - {"observations"}:
        raise ValueError(f"unknown field `{sorted(set(body) - {'observations'})[0]}`")
    items = body["observations"]
    if len(items) > MAX_OBSERVATIONS:
        raise ValueError(f"more than {MAX_OBSERVATIONS} observations")
    out = []
    for i, item in enumerate(items):
        try:
            out.append(observation_from_json(item, now=now))
        except ValueError as exc:
            raise ValueError(f"observation {i}: {exc}") from None
    return out
