"""Reading `/alert` and `/wallboard` arguments: thresholds in the metric's unit, durations,
the options after the thresholds, and which team is meant (and whether the asker may)."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.alerts import OPS, AlertMetric, parse_minutes
from domain.errors import NotAllowed, NotFound, UsageError
from domain.numbers import parse_int
from domain.parsing import Args, token_text
from domain.roles import Role
from domain.shifts import parse_work_hours
from domain.types import Command
from handlers.core.access import default_team, visible_team_ids
from handlers.core.context import HandlerContext
from storage import people
from storage.models import Team

OPTION_WORDS = (
    "for",
    "cooldown",
    "escalate",
    "clear",
    "queue",
    "hours",
    "outside",
    "warning",
    "critical",
)


def split_team(args: Args) -> tuple[list[str], list[str]]:
    """(words before `team`, the team name's words): `team NAME` always comes last."""
    words = [token_text(t) for t in args.rest()]
    lowered = [w.lower() for w in words]
    if "team" in lowered:
        i = lowered.index("team")
        if not words[i + 1 :]:
            raise UsageError("Name the team after `team`.")
        return words[:i], words[i + 1 :]
    return words, []


def read_threshold(metric: AlertMetric, word: str) -> float:
    """A threshold in the metric's unit: `80%`/`80`, `60s`/`1:00`/`2m`, `10`."""
    w = word.strip().lower()
    try:
        if metric.unit == "s":
            if ":" in w:
                m, s = w.split(":", 1)
                value = int(m) * 60 + float(s)
            elif w.endswith("m") or w.endswith("min"):
                value = parse_minutes(w) * 60.0
            else:
                value = float(w.rstrip("s"))
        else:
            value = float(w.rstrip("%"))
    except ValueError:
        raise UsageError(f"{word!r} is not a {metric.name.lower()} threshold.") from None
    high = 100.0 if metric.unit == "%" else 1_000_000.0
    if not 0 <= value <= high:
        raise UsageError(f"{word!r} is out of range for {metric.name.lower()}.")
    return value


def read_op(word: str) -> str:
    op = word.replace("≤", "<=").replace("≥", ">=")
    if op not in OPS:
        raise UsageError(f"{word!r} is not a comparison: use one of {' '.join(OPS)}.")
    return op


def _minutes(word: str | None, what: str) -> int:
    if word is None:
        raise UsageError(f"Say how long after `{what}` (e.g. 5m).")
    try:
        return parse_minutes(word)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


@dataclass
class Options:
    values: dict[str, object] = field(default_factory=dict)


def _hours(words: list[str], i: int) -> tuple[str, int]:
    """The words after `hours` up to the next option word."""
    j = i
    while j < len(words) and words[j].lower() not in OPTION_WORDS:
        j += 1
    text = " ".join(words[i:j]).strip()
    if not text:
        raise UsageError(
            "Say which hours after `hours`: always, lead, or e.g. Mon-Fri 08:00-20:00."
        )
    if text.lower() in ("always", "24/7", "24x7"):
        return "always", j
    if text.lower() == "lead":
        return "", j
    try:
        parse_work_hours(text)
    except ValueError as exc:
        raise UsageError(f"{text!r} are not working hours: {exc}") from None
    return text, j


def _one_option(key: str, value: str | None, metric: AlertMetric | None) -> tuple[str, object]:
    if key in ("warning", "critical"):
        if metric is None or value is None:
            raise UsageError(f"Say the threshold after `{key}`.")
        return key, read_threshold(metric, value)
    if key == "escalate":
        if value is not None and value.lower() in ("never", "off", "no"):
            return "escalate_minutes", None
        return "escalate_minutes", max(_minutes(value, key), 1)
    if key == "queue":
        if not value:
            raise UsageError("Say which queue after `queue`: the platform's queue id.")
        return "queue_key", value[:120]
    if key == "outside":
        if value is None or value.lower() not in ("hold", "drop"):
            raise UsageError("`outside` takes `hold` (post when hours begin) or `drop`.")
        return "outside", value.lower()
    minutes = _minutes(value, key)
    names = {"for": "onset_minutes", "cooldown": "cooldown_minutes", "clear": "clear_minutes"}
    return names[key], minutes


def read_options(
    words: list[str], metric: AlertMetric | None, *, allowed: tuple[str, ...]
) -> dict[str, object]:
    """`for 5m cooldown 30m escalate 15m ...` into AlertRule column values."""
    out: dict[str, object] = {}
    i = 0
    while i < len(words):
        key = words[i].lower()
        if key not in allowed:
            raise UsageError(f"I didn't understand {words[i]!r}.")
        if key == "hours":
            out["hours"], i = _hours(words, i + 1)
            continue
        value = words[i + 1] if i + 1 < len(words) else None
        name, parsed = _one_option(key, value, metric)
        out[name] = parsed
        i += 2
    return out


# --- which team -----------------------------------------------------------------------------


async def named_team(ctx: HandlerContext, team_words: list[str]) -> Team:
    name = " ".join(team_words)
    team = await people.get_team_by_name(ctx.db, name=name)
    if team is None:
        raise NotFound(f"There is no team called {name!r}.")
    return team


def require_leader(cmd: Command, doing: str) -> None:
    if cmd.actor.role is Role.agent:
        raise NotAllowed(f"Only leads, managers and admins can {doing}.")


async def managed_team_ids(ctx: HandlerContext, cmd: Command) -> set[int] | None:
    """Teams the asker may manage alerts for; None for an admin (every team)."""
    if cmd.actor.role is Role.admin:
        return None
    return await visible_team_ids(ctx, cmd.actor)


async def target_team(ctx: HandlerContext, cmd: Command, team_words: list[str]) -> Team:
    """The team meant: the named one (if the asker may), else the asker's own or the
    channel's (an admin with several teams must name one)."""
    allowed = await managed_team_ids(ctx, cmd)
    if team_words:
        team = await named_team(ctx, team_words)
        if allowed is not None and team.id not in allowed:
            raise NotAllowed(f"Team {team.name} isn't one of yours.")
        return team
    if allowed is None:
        teams = await people.list_teams(ctx.db)
        chosen = next((t for t in teams if t.id == cmd.channel_team_id), None)
        if chosen is None and len(teams) == 1:
            chosen = teams[0]
        if chosen is None:
            raise UsageError("Say which team: add `team NAME`.")
        return chosen
    unclear = cmd.channel_team_id not in allowed and cmd.actor.team_id not in allowed
    if cmd.actor.role is Role.manager and len(allowed) > 1 and unclear:
        names = ", ".join(t.name for t in await people.list_teams(ctx.db) if t.id in allowed)
        raise UsageError(f"Say which team: add `team NAME` ({names}).")
    team, _ = await default_team(ctx, cmd.actor, cmd.channel_team_id)
    return team


def read_id(word: str | None) -> int:
    try:
        return parse_int((word or "").lstrip("#"), what="a rule number", lo=1, hi=10**9)
    except UsageError:
        raise UsageError(
            "Say which rule by its number (`/alert list` shows them), e.g. `/alert pause 3`."
        ) from None
