"""`/pulse`: quick ESAT surveys in chat, private by design.

Leads set a team's schedule (or open a round at once); agents answer in one tap from a
DM; leads and managers read aggregated results only. The privacy rules (DESIGN.md):

- a response holds a keyed hash of its respondent, never an id, and no timestamp;
- results are shown per round, and a round with fewer than `min_responses` answers is
  hidden everywhere (its count is all that is said), so no window or slice gets under it;
- a manager's totals are computed over shown rounds only, and are withheld when exactly
  one team has a hidden round (complementary suppression, see the README, "Pulse");
- nothing says who answered or what any one person answered, except to that person.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from domain.errors import NotAllowed, NotFound, UsageError
from domain.localtime import local_to_utc, zone
from domain.parsing import Args, token_text
from domain.privacy import respondent_hash
from domain.roles import Role
from domain.shifts import DAY_NAMES, next_working_moment, parse_time, parse_weekday
from domain.types import (
    Action,
    Actor,
    Block,
    Button,
    Buttons,
    Command,
    Context,
    Fields,
    Form,
    FormField,
    Header,
    Reply,
    Table,
    Text,
)
from handlers.actions import create_button
from handlers.core import notify
from handlers.core.access import visible_team_ids
from handlers.core.context import ActionSpec, CommandSpec, HandlerContext
from storage import people
from storage import pulse as store
from storage.models import Person, PulseResponse, PulseRound, PulseSchedule, Team
from storage.outbox import OutboxNew

DEFAULT_QUESTION = "How satisfied are you with your work this week?"
ENPS_QUESTION = "How likely are you to recommend working in this team to a friend?"
ESAT_LABELS = {
    1: "Very dissatisfied",
    2: "Dissatisfied",
    3: "Neutral",
    4: "Satisfied",
    5: "Very satisfied",
}
ESAT_EMOJI = {1: "😞", 2: "🙁", 3: "😐", 4: "🙂", 5: "😄"}
CADENCES = ("weekly", "biweekly", "monthly", "off")
MIN_FLOOR = 3  # never show fewer answers than this, whatever the settings say
DROP_POINTS = 15.0  # an ESAT drop this large against the previous shown round is flagged
DEFAULT_WEEKS = 12
MAX_WEEKS = 104
TOO_FEW = "not enough answers to show without exposing people"
_VALUE_RE = re.compile(r"^(\d{1,12}):(esat|enps):(\d{1,2})$")
_RNG = random.SystemRandom()


def min_responses(ctx: HandlerContext) -> int:
    """The privacy threshold: PULSE_MIN_RESPONSES, never below 3."""
    return max(MIN_FLOOR, int(ctx.settings.pulse_min_responses))


def fmt_local(when: dt.datetime, tz: str) -> str:
    """`Fri 27 Nov 15:00` in a zone."""
    try:
        local = when.astimezone(zone(tz))
    except ValueError:
        local = when
    return local.strftime("%a %d %b %H:%M")


def fmt_day(when: dt.datetime, tz: str) -> str:
    try:
        local = when.astimezone(zone(tz))
    except ValueError:
        local = when
    return local.strftime("%d %b %Y")


# --- schedule arithmetic -------------------------------------------------------------


def _slot_day(sched: PulseSchedule, day: dt.date) -> bool:
    if day.weekday() != sched.weekday:
        return False
    if sched.cadence == "weekly":
        return True
    if sched.cadence == "biweekly":
        # Every other Monday-based week, counted from the calendar's origin: stable forever.
        return ((day.toordinal() - 1) // 7) % 2 == 0
    if sched.cadence == "monthly":
        return day.day <= 7  # the first such weekday of the month
    return False


def latest_slot(sched: PulseSchedule, tz: str, now: dt.datetime) -> dt.datetime | None:
    """The most recent scheduled opening at or before `now` (UTC), DST-correct."""
    if sched.cadence not in ("weekly", "biweekly", "monthly"):
        return None
    at = parse_time(sched.local_time)
    today = now.astimezone(zone(tz)).date()
    for back in range(0, 70):
        day = today - dt.timedelta(days=back)
        if _slot_day(sched, day):
            when = local_to_utc(day, at, tz)
            if when <= now:
                return when
    return None


def next_slot(sched: PulseSchedule, tz: str, after: dt.datetime) -> dt.datetime | None:
    """The next scheduled opening strictly after `after` (UTC)."""
    if sched.cadence not in ("weekly", "biweekly", "monthly"):
        return None
    at = parse_time(sched.local_time)
    today = after.astimezone(zone(tz)).date()
    for ahead in range(0, 70):
        day = today + dt.timedelta(days=ahead)
        if _slot_day(sched, day):
            when = local_to_utc(day, at, tz)
            if when > after:
                return when
    return None


def month_start(now: dt.datetime, tz: str) -> dt.datetime:
    """The start of the local calendar month of `now`, in UTC."""
    local = now.astimezone(zone(tz)).date()
    return local_to_utc(local.replace(day=1), dt.time(0, 0), tz)


def describe_schedule(sched: PulseSchedule, tz: str, now: dt.datetime) -> str:
    if sched.cadence == "off":
        return "No pulse schedule (off). Set one with `/pulse schedule weekly fri 15:00`."
    day = DAY_NAMES[sched.weekday].capitalize()
    when = {
        "weekly": f"every {day}",
        "biweekly": f"every other {day}",
        "monthly": f"the first {day} of each month",
    }[sched.cadence]
    nxt = next_slot(sched, tz, now)
    tail = f"; next round {fmt_local(nxt, tz)}" if nxt else ""
    return f"Pulse {sched.cadence}: {when} at {sched.local_time} ({tz}){tail}."


# --- the messages agents get ---------------------------------------------------------


def _score_buttons(round_id: int, question: str, chosen: int | None) -> Buttons:
    low, high = store.SCALES[question]
    buttons = []
    for s in range(low, high + 1):
        label = f"{s} {ESAT_EMOJI[s]}" if question == "esat" else str(s)
        buttons.append(
            Button(
                label,
                "pulse.answer",
                value=f"{round_id}:{question}:{s}",
                style="primary" if s == chosen else None,
            )
        )
    return Buttons(tuple(buttons))


def _comment_button(round_id: int, has_comment: bool) -> Buttons:
    form = Form(
        title="Pulse comment",
        action_id="pulse.comment",
        value=str(round_id),
        fields=(
            FormField(
                "comment",
                "Anything you'd like your lead to know? (anonymous)",
                multiline=True,
                optional=True,
                max_length=1000,
                placeholder="Shown without your name, mixed with the others' comments.",
            ),
        ),
        submit_label="Save",
    )
    label = "Edit comment" if has_comment else "Add a comment"
    return Buttons((Button(label, "pulse.comment", value=str(round_id), form=form),))


def _privacy_note(ctx: HandlerContext) -> str:
    k = min_responses(ctx)
    return (
        "Anonymous: your lead sees only totals, and only when at least "
        f"{k} people answered. Nobody is told who answered or what."
    )


def ask_reply(ctx: HandlerContext, rnd: PulseRound, tz: str, *, reminder: bool = False) -> Reply:
    """The DM that asks one agent (or reminds them) to answer a round."""
    assert rnd.id is not None
    closes = fmt_local(rnd.closes_at, tz)
    blocks: list[Block] = [
        Header("Reminder: quick pulse" if reminder else "Quick pulse"),
        Text(f"*{rnd.question}*\n1 = very dissatisfied, 5 = very satisfied"),
        _score_buttons(rnd.id, "esat", None),
    ]
    if rnd.include_enps:
        blocks += [
            Text(f"*{ENPS_QUESTION}*\n0 = not at all likely, 10 = extremely likely"),
            _score_buttons(rnd.id, "enps", None),
        ]
    blocks.append(Context(f"One tap, open until {closes}. {_privacy_note(ctx)}"))
    lead = "Reminder: the pulse is still open" if reminder else "Quick pulse"
    return Reply(blocks=blocks, text=f"{lead}: {rnd.question} (1-5, open until {closes})")


def answered_reply(
    ctx: HandlerContext, rnd: PulseRound, answers: dict[str, PulseResponse], tz: str
) -> Reply:
    """What the DM turns into after a tap: thanks, the answer given, change or comment."""
    assert rnd.id is not None
    closes = fmt_local(rnd.closes_at, tz)
    esat = answers.get("esat")
    enps = answers.get("enps")
    blocks: list[Block] = [Header("Thanks, your answer is in")]
    if esat is not None:
        blocks.append(
            Text(
                f"{rnd.question}\nYou answered *{esat.score} {ESAT_EMOJI[esat.score]} "
                f"{ESAT_LABELS[esat.score]}*."
            )
        )
    else:
        blocks.append(Text(f"*{rnd.question}*"))
    blocks.append(_score_buttons(rnd.id, "esat", esat.score if esat else None))
    if rnd.include_enps:
        said = f" You answered *{enps.score}*." if enps else ""
        blocks += [
            Text(f"{ENPS_QUESTION}{said}"),
            _score_buttons(rnd.id, "enps", enps.score if enps else None),
        ]
    if esat is not None:
        if esat.comment:
            blocks.append(Text("Your comment: _" + _short(esat.comment, 300) + "_"))
        blocks.append(_comment_button(rnd.id, bool(esat.comment)))
    blocks.append(
        Context(f"Changed your mind? Tap another score until {closes}. {_privacy_note(ctx)}")
    )
    text = "Thanks, your answer is in"
    if esat is not None:
        text += f": {esat.score} ({ESAT_LABELS[esat.score]})"
    return Reply(blocks=blocks, text=text + ".", replace_original=True)


def _short(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _closed_reply(rnd: PulseRound | None) -> Reply:
    text = (
        "Thanks for tapping! This pulse round has already closed, so your answer wasn't "
        "recorded. Look out for the next one."
    )
    return Reply(blocks=[Text(text)], text=text, ok=False)


def _invalid_button() -> Reply:
    text = "That button is no longer valid; nothing was recorded."
    return Reply(blocks=[Text(text)], text=text, ok=False)


def _not_asked() -> Reply:
    text = "This pulse wasn't sent to you, so there is nothing to answer; nothing was recorded."
    return Reply(blocks=[Text(text)], text=text, ok=False)


# --- opening rounds ------------------------------------------------------------------


def _deliveries(ctx: HandlerContext, rnd: PulseRound, agents: Sequence[Person]) -> list[OutboxNew]:
    """One DM per agent, held to their working hours (notify.person_message decides)."""
    payloads: dict[str, str] = {}  # the message differs only by time zone: render once per zone
    msgs = []
    for p in agents:
        if p.timezone not in payloads:
            payloads[p.timezone] = ask_reply(ctx, rnd, p.timezone).to_json()
        msg = notify.person_message(ctx, p, _EMPTY, dedupe_key=f"pulse:{rnd.id}:{p.id}")
        msgs.append(dataclasses.replace(msg, payload=payloads[p.timezone]))
    return msgs


_EMPTY = Reply()


async def open_round(
    ctx: HandlerContext,
    team: Team,
    *,
    created_by_id: int | None,
    claim_key: str | None = None,
) -> tuple[PulseRound, int] | None:
    """Open a round for a team now: deliveries and DMs (held to each agent's hours).

    eNPS is added to the first round of each local month when the schedule says so.
    None when the team already has an open round or the claim was taken.
    """
    assert team.id is not None
    now = ctx.now()
    sched = await store.get_schedule(ctx.db, team_id=team.id)
    include_enps = sched.enps_monthly and not await store.enps_asked_since(
        ctx.db, team_id=team.id, since=month_start(now, team.timezone)
    )
    closes = now + dt.timedelta(hours=max(1, sched.open_hours))
    remind: dt.datetime | None = now + dt.timedelta(hours=max(1, sched.remind_after_hours))
    if remind is not None and remind >= closes:
        remind = None
    return await store.open_round(
        ctx.db,
        team_id=team.id,
        question=sched.question or DEFAULT_QUESTION,
        include_enps=include_enps,
        opens_at=now,
        closes_at=closes,
        remind_at=remind,
        created_by_id=created_by_id,
        build_messages=lambda rnd, agents: _deliveries(ctx, rnd, agents),
        claim_key=claim_key,
        eligible=lambda p: _can_answer_before(p, now, closes),
    )


def _can_answer_before(person: Person, now: dt.datetime, closes: dt.datetime) -> bool:
    """False for an agent whose next shift starts after the round closes (on leave, off):
    they are not asked, rather than getting a pulse they can no longer answer."""
    try:
        return next_working_moment(person.work_hours, person.timezone, now) < closes
    except ValueError:
        return True  # a bad pattern never costs someone their say


# --- results -------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundView:
    """One round as it may be shown: figures only when enough people answered."""

    stats: store.RoundStats
    shown: bool
    esat_pct: float | None = None
    mean: float | None = None
    enps: float | None = None  # None: not asked, or too few eNPS answers
    enps_hidden: bool = False


def esat_percent(c: Counter[int]) -> float:
    n = sum(c.values())
    return 100.0 * (c[4] + c[5]) / n if n else 0.0


def mean_score(c: Counter[int]) -> float:
    n = sum(c.values())
    return sum(s * k for s, k in c.items()) / n if n else 0.0


def enps_score(c: Counter[int]) -> float:
    n = sum(c.values())
    promoters = sum(k for s, k in c.items() if s >= 9)
    detractors = sum(k for s, k in c.items() if s <= 6)
    return 100.0 * (promoters - detractors) / n if n else 0.0


def view_round(stats: store.RoundStats, k: int) -> RoundView:
    """Apply the threshold to one round (and to its eNPS answers on their own)."""
    if stats.responses < k:
        return RoundView(stats=stats, shown=False)
    n_enps = sum(stats.enps.values())
    enps_ok = stats.include_enps and n_enps >= k
    return RoundView(
        stats=stats,
        shown=True,
        esat_pct=esat_percent(stats.esat),
        mean=mean_score(stats.esat),
        enps=enps_score(stats.enps) if enps_ok else None,
        enps_hidden=stats.include_enps and not enps_ok,
    )


def pooled(views: Sequence[RoundView]) -> tuple[Counter[int], Counter[int], int, int]:
    """ESAT and eNPS counts, responses and people asked, over SHOWN rounds only."""
    esat: Counter[int] = Counter()
    enps: Counter[int] = Counter()
    responses = asked = 0
    for v in views:
        if not v.shown:
            continue
        esat.update(v.stats.esat)
        if v.enps is not None:
            enps.update(v.stats.enps)
        responses += v.stats.responses
        asked += v.stats.asked
    return esat, enps, responses, asked


def _rate(responses: int, asked: int) -> str:
    return f"{responses} of {asked} ({100 * responses / asked:.0f}%)" if asked else str(responses)


def _dist_table(c: Counter[int]) -> Table:
    n = sum(c.values()) or 1
    rows = []
    for s in range(5, 0, -1):
        share = c[s] / n
        bar = "█" * round(share * 20)
        rows.append((f"{s} {ESAT_LABELS[s]}", str(c[s]), f"{100 * share:.0f}%", bar))
    return Table(("answer", "count", "share", ""), tuple(rows), ("l", "r", "r", "l"))


def drop_flag(views: Sequence[RoundView]) -> tuple[RoundView, RoundView] | None:
    """(previous, latest) shown rounds when ESAT fell by DROP_POINTS or more."""
    shown = [v for v in views if v.shown]
    if len(shown) < 2:
        return None
    prev, last = shown[-2], shown[-1]
    assert prev.esat_pct is not None
    assert last.esat_pct is not None
    if prev.esat_pct - last.esat_pct >= DROP_POINTS:
        return prev, last
    return None


def _trend_table(views: Sequence[RoundView], tz: str) -> Table:
    rows = []
    for v in reversed(views):
        day = fmt_day(v.stats.opens_at, tz)
        if not v.shown:
            rows.append((day, str(v.stats.responses), "hidden", "-", "-"))
            continue
        enps = "-" if v.enps is None else f"{v.enps:+.0f}"
        if v.enps_hidden:
            enps = "hidden"
        rows.append(
            (
                day,
                _rate(v.stats.responses, v.stats.asked),
                f"{v.esat_pct:.0f}%",
                f"{v.mean:.2f}",
                enps,
            )
        )
    return Table(
        ("round", "answers", "ESAT", "mean", "eNPS"), tuple(rows), ("l", "r", "r", "r", "r")
    )


def _action_item_button(rnd_id: int, owner_id: int, title: str) -> Buttons:
    """ "Create action item" from results: h5's action form, with the pulse as its source."""
    return Buttons(
        (
            create_button(
                source="pulse",
                source_ref=str(rnd_id),
                owner_id=owner_id,
                label="Create action item",
                title=title,
            ),
        )
    )


def team_section(
    team: Team, views: Sequence[RoundView], k: int, weeks: int, *, action_owner: int | None
) -> tuple[list[Block], list[str]]:
    """Blocks and fallback lines for one team's results."""
    tz = team.timezone
    blocks: list[Block] = [Header(f"Pulse: {team.name}")]
    lines = [f"Pulse: {team.name}"]
    if not views:
        text = f"No closed pulse rounds in the last {weeks} weeks."
        blocks.append(Text(text))
        return blocks, [*lines, text]
    shown = [v for v in views if v.shown]
    latest = views[-1]
    if not latest.shown:
        text = (
            f"The round of {fmt_day(latest.stats.opens_at, tz)} closed with "
            f"{latest.stats.responses} answer{'s' if latest.stats.responses != 1 else ''}: "
            f"{TOO_FEW} (at least {k} are needed)."
        )
        blocks.append(Text(text))
        lines.append(text)
    if not shown:
        if latest.shown is False and len(views) > 1:
            text = f"No round in the last {weeks} weeks had at least {k} answers; {TOO_FEW}."
            blocks.append(Text(text))
            lines.append(text)
        return blocks, lines
    last = shown[-1]
    assert last.esat_pct is not None
    assert last.mean is not None
    pairs = [
        ("ESAT (4-5)", f"{last.esat_pct:.0f}%"),
        ("Mean", f"{last.mean:.2f} / 5"),
        ("Answers", _rate(last.stats.responses, last.stats.asked)),
    ]
    if last.enps is not None:
        pairs.append(("eNPS", f"{last.enps:+.0f}"))
    elif last.enps_hidden:
        pairs.append(("eNPS", "too few answers"))
    blocks.append(Text(f"*{last.stats.question}* (round of {fmt_day(last.stats.opens_at, tz)})"))
    blocks.append(Fields(tuple(pairs)))
    lines.append(
        f"Latest shown round {fmt_day(last.stats.opens_at, tz)}: ESAT {last.esat_pct:.0f}%, "
        f"mean {last.mean:.2f}, answers {_rate(last.stats.responses, last.stats.asked)}"
        + (f", eNPS {last.enps:+.0f}" if last.enps is not None else "")
    )
    blocks.append(_dist_table(last.stats.esat))
    flag = drop_flag(views)
    if flag is not None:
        prev, now_v = flag
        assert prev.esat_pct is not None
        assert now_v.esat_pct is not None
        text = (
            f"⚠ Sharp drop: ESAT fell {prev.esat_pct - now_v.esat_pct:.0f} points since the "
            f"round of {fmt_day(prev.stats.opens_at, tz)} ({prev.esat_pct:.0f}% → "
            f"{now_v.esat_pct:.0f}%). Worth a team conversation."
        )
        blocks.append(Text(text))
        lines.append(text)
    if len(views) > 1:
        trend = _trend_table(views, tz)
        blocks.append(trend)
        lines.extend(" · ".join(row) for row in trend.rows)
        esat, _enps, responses, asked = pooled(views)
        if len(shown) > 1:
            text = (
                f"Over the {len(shown)} rounds shown: ESAT {esat_percent(esat):.0f}%, mean "
                f"{mean_score(esat):.2f}, answers {_rate(responses, asked)}."
            )
            blocks.append(Context(text))
            lines.append(text)
    comments = list(last.stats.comments)
    _RNG.shuffle(comments)
    if comments:
        blocks.append(Text("*Comments* (random order, no names)"))
        blocks.append(Text("\n".join(f"• {_short(c, 500)}" for c in comments)))
        lines.extend(f"- {_short(c, 500)}" for c in comments)
    if action_owner is not None:
        title = f"Follow up on the {team.name} pulse of {fmt_day(last.stats.opens_at, tz)}"
        blocks.append(_action_item_button(last.stats.round_id, action_owner, title))
    hidden = len(views) - len(shown)
    if hidden:
        verb = "are" if hidden != 1 else "is"
        blocks.append(
            Context(
                f"{hidden} round{'s' if hidden != 1 else ''} had fewer than {k} answers and "
                f"{verb} hidden everywhere, totals included."
            )
        )
    return blocks, lines


def totals_section(
    per_team: dict[int, list[RoundView]], teams: dict[int, Team], k: int
) -> tuple[list[Block], list[str]]:
    """A manager's totals, with complementary suppression.

    Totals pool shown rounds only, so a hidden round never enters them. On top of that,
    when exactly one team has hidden rounds the totals are withheld: "all teams" beside the
    other teams' own figures would otherwise invite reading the difference as that team.
    """
    blocks: list[Block] = [Header("All your teams")]
    hidden_teams = [tid for tid, views in per_team.items() if any(not v.shown for v in views)]
    # Side by side: each team's latest shown round (figures already shown above).
    rows = []
    for tid, views in sorted(per_team.items(), key=lambda kv: teams[kv[0]].name):
        shown = [v for v in views if v.shown]
        if not shown:
            rows.append((teams[tid].name, "-", "-", "hidden" if views else "no rounds"))
            continue
        last = shown[-1]
        rows.append(
            (
                teams[tid].name,
                f"{last.esat_pct:.0f}%",
                f"{last.mean:.2f}",
                _rate(last.stats.responses, last.stats.asked),
            )
        )
    blocks.append(
        Table(
            ("team (latest shown round)", "ESAT", "mean", "answers"),
            tuple(rows),
            ("l", "r", "r", "r"),
        )
    )
    all_views = [v for views in per_team.values() for v in views]
    if len(hidden_teams) == 1:
        name = teams[hidden_teams[0]].name
        text = (
            f"Totals withheld: {name} has a round with too few answers, and totals beside the "
            "other teams' figures could reveal it."
        )
        blocks.append(Text(text))
        return blocks, [text]
    esat, enps, responses, asked = pooled(all_views)
    if responses < k:
        text = f"Totals: {TOO_FEW} ({responses} answers in rounds that can be shown)."
        blocks.append(Text(text))
        return blocks, [text]
    shown_teams = sum(1 for views in per_team.values() if any(v.shown for v in views))
    pairs = [
        ("ESAT (4-5)", f"{esat_percent(esat):.0f}%"),
        ("Mean", f"{mean_score(esat):.2f} / 5"),
        ("Answers", _rate(responses, asked)),
    ]
    if sum(enps.values()) >= k:
        pairs.append(("eNPS", f"{enps_score(enps):+.0f}"))
    blocks.append(Fields(tuple(pairs)))
    note = f"Over the shown rounds of {shown_teams} team{'s' if shown_teams != 1 else ''}"
    if hidden_teams:
        note += "; hidden rounds are left out"
    blocks.append(Context(note + "."))
    return blocks, [f"All teams: ESAT {esat_percent(esat):.0f}%, answers {responses}"]


async def results_reply(
    ctx: HandlerContext, actor: Actor, team_ids: Sequence[int], weeks: int
) -> Reply:
    """Aggregated results for the teams the actor may see."""
    k = min_responses(ctx)
    since = ctx.now() - dt.timedelta(weeks=weeks)
    teams = {t.id: t for t in await people.list_teams(ctx.db) if t.id in set(team_ids)}
    stats = await store.round_stats(ctx.db, team_ids=list(teams), since=since)
    per_team: dict[int, list[RoundView]] = {tid: [] for tid in teams if tid is not None}
    for st in stats:
        per_team.setdefault(st.team_id, []).append(view_round(st, k))
    blocks: list[Block] = []
    lines: list[str] = []
    ordered = sorted((t for t in teams.values() if t.id is not None), key=lambda t: t.name)
    is_lead_of = {t.id for t in ordered if t.lead_id == actor.person_id}
    for t in ordered:
        assert t.id is not None
        b, ls = team_section(
            t,
            per_team.get(t.id, []),
            k,
            weeks,
            action_owner=actor.person_id
            if t.id in is_lead_of or actor.role is Role.manager
            else None,
        )
        blocks += b
        lines += ls
    if len(ordered) > 1:
        b, ls = totals_section(per_team, {t.id: t for t in ordered if t.id is not None}, k)
        blocks += b
        lines += ls
    blocks.append(
        Context(
            f"Only rounds with at least {k} answers are shown; comments carry no names or "
            "times. Nobody can see who answered."
        )
    )
    return Reply(blocks=blocks, text="\n".join(lines))


async def summary_reply(
    ctx: HandlerContext, rnd: PulseRound, team: Team, to: Person | None = None
) -> Reply:
    """The DM a lead (`to`) gets when a round closes."""
    k = min_responses(ctx)
    since = rnd.opens_at - dt.timedelta(weeks=26)
    stats = [
        s
        for s in await store.round_stats(ctx.db, team_ids=[rnd.team_id], since=since)
        if s.opens_at <= rnd.opens_at
    ]
    views = [view_round(s, k) for s in stats]
    this = next((v for v in views if v.stats.round_id == rnd.id), None)
    tz = team.timezone
    day = fmt_day(rnd.opens_at, tz)
    if this is None or not this.shown:
        n = this.stats.responses if this else 0
        asked = this.stats.asked if this else 0
        text = (
            f"The pulse round of {day} for {team.name} closed with {n} answer"
            f"{'s' if n != 1 else ''} from {asked} asked: {TOO_FEW} (at least {k} are needed)."
        )
        return Reply(blocks=[Header("Pulse closed"), Text(text)], text=text)
    assert this.esat_pct is not None
    assert this.mean is not None
    pairs = [
        ("ESAT (4-5)", f"{this.esat_pct:.0f}%"),
        ("Mean", f"{this.mean:.2f} / 5"),
        ("Answers", _rate(this.stats.responses, this.stats.asked)),
    ]
    if this.enps is not None:
        pairs.append(("eNPS", f"{this.enps:+.0f}"))
    text = (
        f"Pulse results for {team.name} ({day}): ESAT {this.esat_pct:.0f}%, mean "
        f"{this.mean:.2f}, answers {_rate(this.stats.responses, this.stats.asked)}."
    )
    blocks: list[Block] = [
        Header(f"Pulse results: {team.name}"),
        Text(f"*{rnd.question}*"),
        Fields(tuple(pairs)),
        _dist_table(this.stats.esat),
    ]
    flag = drop_flag(views)
    if flag is not None and flag[1].stats.round_id == rnd.id:
        prev = flag[0]
        assert prev.esat_pct is not None
        warn = (
            f"⚠ Sharp drop: ESAT fell {prev.esat_pct - this.esat_pct:.0f} points since the "
            f"round of {fmt_day(prev.stats.opens_at, tz)}."
        )
        blocks.append(Text(warn))
        text += " " + warn
    if this.stats.comments:
        n = len(this.stats.comments)
        blocks.append(Context(f"{n} comment{'s' if n != 1 else ''}: see `/pulse results`."))
    if to is not None and to.id is not None:
        title = f"Follow up on the {team.name} pulse of {day}"
        blocks.append(_action_item_button(this.stats.round_id, to.id, title))
    return Reply(blocks=blocks, text=text)


# --- the command ---------------------------------------------------------------------


async def _target_team(ctx: HandlerContext, actor: Actor, team_words: list[str]) -> Team:
    """The team a lead/manager/admin means: their own, or `team NAME` when given."""
    if actor.role is Role.agent:
        raise NotAllowed("Only leads and managers can run the team's pulse.")
    if team_words:
        name = " ".join(team_words)
        team = await people.get_team_by_name(ctx.db, name=name)
        if team is None:
            raise NotFound(f"There is no team called {name!r}.")
        if actor.role is not Role.admin and team.id not in await visible_team_ids(ctx, actor):
            raise NotAllowed(f"{team.name} isn't one of your teams.")
        return team
    if actor.role is Role.manager:
        managed = await people.teams_managed_by(ctx.db, person_id=actor.person_id)
        if len(managed) == 1:
            return managed[0]
        if len(managed) > 1:
            names = ", ".join(t.name for t in managed)
            raise UsageError(f"Say which team: add `team NAME` ({names}).")
    if actor.role is Role.admin:
        raise UsageError("Say which team: add `team NAME`.")
    if actor.team_id is None:
        raise NotAllowed("You aren't in a team yet; ask your admin.")
    team = await people.get_team(ctx.db, team_id=actor.team_id)
    if team is None:
        raise NotFound("Your team no longer exists; ask your admin.")
    return team


def _split_team(args: Args) -> tuple[list[str], list[str]]:
    """(words before `team`, the team's name words after it)."""
    words = []
    for tok in args.rest():
        if not isinstance(tok, str):
            raise UsageError(f"I didn't expect a mention here ({token_text(tok)}).")
        words.append(tok)
    lowered = [w.lower() for w in words]
    if "team" in lowered:
        i = lowered.index("team")
        if i == len(words) - 1:
            raise UsageError("Name the team after `team`.")
        return words[:i], words[i + 1 :]
    return words, []


async def pulse(cmd: Command, ctx: HandlerContext) -> Reply:
    args = Args(cmd.args)
    sub = args.take_if("schedule", "now", "question", "status", "results", "mine", "enps")
    if sub is None:
        if args:
            raise UsageError(f"I don't know `/pulse {args.rest_text()}`.")
        sub = "status"
    if sub == "mine":
        args.expect_end()
        return await _mine(cmd.actor, ctx)
    if sub == "results":
        return await _results(cmd.actor, args, ctx)
    if sub == "question":
        return await _question(cmd.actor, args, ctx)
    rest, team_words = _split_team(args)
    if sub == "schedule":
        return await _schedule(cmd.actor, rest, team_words, ctx)
    if sub == "enps":
        return await _enps(cmd.actor, rest, team_words, ctx)
    if rest:
        raise UsageError(f"I didn't understand {' '.join(rest)!r}.")
    if sub == "now":
        return await _now(cmd.actor, team_words, ctx)
    return await _status(cmd.actor, team_words, ctx)


async def _schedule(
    actor: Actor, rest: list[str], team_words: list[str], ctx: HandlerContext
) -> Reply:
    team = await _target_team(ctx, actor, team_words)
    assert team.id is not None
    now = ctx.now()
    if not rest:
        sched = await store.get_schedule(ctx.db, team_id=team.id)
        text = describe_schedule(sched, team.timezone, now)
        return Reply(blocks=[Text(text)], text=text)
    cadence = rest[0].lower()
    if cadence not in CADENCES:
        raise UsageError(f"{rest[0]!r} isn't a cadence: use weekly, biweekly, monthly or off.")
    weekday: int | None = None
    local_time: str | None = None
    if cadence == "off":
        if len(rest) > 1:
            raise UsageError("`/pulse schedule off` takes nothing else.")
    else:
        for word in rest[1:]:
            try:
                if ":" in word:
                    if local_time is not None:
                        raise UsageError("Give one time of day.")
                    local_time = parse_time(word).strftime("%H:%M")
                else:
                    if weekday is not None:
                        raise UsageError("Give one weekday.")
                    weekday = parse_weekday(word)
            except ValueError as exc:
                raise UsageError(str(exc).capitalize() + ".") from None
    sched = await store.set_schedule(
        ctx.db,
        team_id=team.id,
        now=now,
        cadence=cadence,
        weekday=weekday,
        local_time=local_time,
    )
    text = describe_schedule(sched, team.timezone, now)
    if cadence != "off":
        text += (
            f" Each round stays open {sched.open_hours} h; non-responders get one reminder "
            f"after {sched.remind_after_hours} h, within their working hours."
        )
    return Reply(blocks=[Text(text)], text=text)


async def _enps(actor: Actor, rest: list[str], team_words: list[str], ctx: HandlerContext) -> Reply:
    team = await _target_team(ctx, actor, team_words)
    assert team.id is not None
    if len(rest) != 1 or rest[0].lower() not in ("on", "off"):
        raise UsageError("Say `/pulse enps on` or `/pulse enps off`.")
    on = rest[0].lower() == "on"
    await store.set_schedule(ctx.db, team_id=team.id, now=ctx.now(), enps_monthly=on)
    text = (
        "The first round of each month will also ask the eNPS question (0-10)."
        if on
        else "Rounds will no longer ask the eNPS question."
    )
    return Reply(blocks=[Text(text)], text=text)


async def _question(actor: Actor, args: Args, ctx: HandlerContext) -> Reply:
    tokens = args.rest()
    team_words: list[str] = []
    if len(tokens) >= 3 and isinstance(tokens[1], str) and tokens[1].lower() == "team":
        team_words = [token_text(t) for t in tokens[2:]]
        tokens = tokens[:1]
    text_q = " ".join(token_text(t) for t in tokens).strip()
    team = await _target_team(ctx, actor, team_words)
    assert team.id is not None
    if not text_q:
        sched = await store.get_schedule(ctx.db, team_id=team.id)
        text = f"The pulse question is: “{sched.question}”"
        return Reply(blocks=[Text(text)], text=text)
    if text_q.lower() == "default":
        text_q = DEFAULT_QUESTION
    if len(text_q) > 300:
        raise UsageError(f"A question can be 300 characters at most (yours has {len(text_q)}).")
    if len(text_q) < 5:
        raise UsageError("That question is too short.")
    await store.set_schedule(ctx.db, team_id=team.id, now=ctx.now(), question=text_q)
    text = f"From the next round, {team.name} is asked: “{text_q}” (1-5)."
    return Reply(blocks=[Text(text)], text=text)


async def _now(actor: Actor, team_words: list[str], ctx: HandlerContext) -> Reply:
    team = await _target_team(ctx, actor, team_words)
    assert team.id is not None
    current = await store.current_round(ctx.db, team_id=team.id, now=ctx.now())
    if current is not None:
        raise UsageError(
            f"{team.name} already has a round open until "
            f"{fmt_local(current.closes_at, team.timezone)}; see `/pulse status`."
        )
    agents = await store.team_agents(ctx.db, team_id=team.id)
    if not agents:
        raise UsageError(f"{team.name} has no agents to ask yet.")
    sched = await store.get_schedule(ctx.db, team_id=team.id)
    closes = ctx.now() + dt.timedelta(hours=max(1, sched.open_hours))
    if not any(_can_answer_before(p, ctx.now(), closes) for p in agents):
        raise UsageError(
            f"None of {team.name}'s agents works before the round would close "
            f"({fmt_local(closes, team.timezone)}); try again when they are on shift."
        )
    opened = await open_round(ctx, team, created_by_id=actor.person_id)
    if opened is None:
        raise UsageError(f"{team.name} already has a round open; see `/pulse status`.")
    rnd, asked = opened
    left_out = len(agents) - asked
    text = (
        f"Pulse round opened for *{team.name}*: {asked} agent{'s' if asked != 1 else ''} "
        f"asked “{rnd.question}”"
        + (" plus the monthly eNPS question" if rnd.include_enps else "")
        + f". Open until {fmt_local(rnd.closes_at, team.timezone)} ({team.timezone})."
    )
    if left_out:
        text += (
            f" {left_out} agent{'s' if left_out != 1 else ''} off until after it closes "
            f"{'were' if left_out != 1 else 'was'} not asked."
        )
    return Reply(
        blocks=[
            Text(text),
            Context(
                "Each agent gets the DM within their working hours. You will get the results "
                f"when it closes, if at least {min_responses(ctx)} answered."
            ),
        ],
        text=text,
    )


async def _status(actor: Actor, team_words: list[str], ctx: HandlerContext) -> Reply:
    if actor.role is Role.agent:
        return await _agent_status(actor, ctx)
    team = await _target_team(ctx, actor, team_words)
    assert team.id is not None
    now = ctx.now()
    tz = team.timezone
    sched = await store.get_schedule(ctx.db, team_id=team.id)
    blocks: list[Block] = [Header(f"Pulse status: {team.name}")]
    lines = []
    current = await store.current_round(ctx.db, team_id=team.id, now=now)
    if current is None:
        lines.append("No round is open right now.")
    else:
        assert current.id is not None
        asked, answered = await store.asked_and_answered(ctx.db, round_id=current.id)
        blocks.append(
            Fields(
                (
                    ("Question", current.question + (" (+ eNPS)" if current.include_enps else "")),
                    ("Opened", fmt_local(current.opens_at, tz)),
                    ("Open until", fmt_local(current.closes_at, tz)),
                    (
                        "Reminder",
                        fmt_local(current.remind_at, tz) if current.remind_at else "none",
                    ),
                    ("Answers so far", f"{answered} of {asked} asked"),
                )
            )
        )
        lines.append(
            f"Round open until {fmt_local(current.closes_at, tz)}: {answered} of {asked} "
            "answered so far."
        )
    lines.append(describe_schedule(sched, tz, now))
    lines.append(
        f"Question: “{sched.question}”" + (" (+ eNPS monthly)" if sched.enps_monthly else "")
    )
    blocks.append(Text("\n".join(lines)))
    blocks.append(
        Context(
            "Who answered is never shown, and figures appear only when the round closes "
            f"with at least {min_responses(ctx)} answers."
        )
    )
    return Reply(blocks=blocks, text="\n".join(lines))


async def _agent_status(actor: Actor, ctx: HandlerContext) -> Reply:
    now = ctx.now()
    for rnd, answered in await store.rounds_delivered_to(
        ctx.db, person_id=actor.person_id, limit=3
    ):
        if store.is_open(rnd, now):
            if answered:
                text = (
                    f"You've answered the current pulse; you can change your answer until "
                    f"{fmt_local(rnd.closes_at, actor.timezone)}."
                )
                assert rnd.id is not None
                answers = await store.answers_of(
                    ctx.db,
                    round_id=rnd.id,
                    respondent=respondent_hash(
                        ctx.settings.secret, round_id=rnd.id, person_id=actor.person_id
                    ),
                )
                reply = answered_reply(ctx, rnd, answers, actor.timezone)
                reply.replace_original = False
                reply.blocks.insert(0, Text(text))
                return reply
            reply = ask_reply(ctx, rnd, actor.timezone)
            return reply
    mine = await _mine(actor, ctx)
    note = "No pulse is open for you right now."
    mine.blocks.insert(0, Text(note))
    mine.text = note + "\n" + mine.text
    return mine


async def _results(actor: Actor, args: Args, ctx: HandlerContext) -> Reply:
    weeks = DEFAULT_WEEKS
    if args.take_if("weeks", "week"):
        word = args.take_word("a number of weeks")
        if not word.isdigit() or not 1 <= int(word) <= MAX_WEEKS:
            raise UsageError(f"Weeks must be a whole number from 1 to {MAX_WEEKS}.")
        weeks = int(word)
    rest, team_words = _split_team(args)
    if rest:
        raise UsageError(f"I didn't understand {' '.join(rest)!r}.")
    if actor.role is Role.agent:
        raise NotAllowed(
            "Pulse results are for leads and managers, and only as totals. "
            "`/pulse mine` shows your own answers."
        )
    if actor.role is Role.admin:
        raise NotAllowed("Admins configure leadbot; pulse results are for leads and managers.")
    visible = await visible_team_ids(ctx, actor)
    if team_words:
        team = await _target_team(ctx, actor, team_words)
        assert team.id is not None
        ids = [team.id]
    else:
        ids = sorted(visible)
    if not ids:
        raise NotAllowed("You don't lead or manage a team yet; ask your admin.")
    return await results_reply(ctx, actor, ids, weeks)


async def _mine(actor: Actor, ctx: HandlerContext) -> Reply:
    rounds = await store.rounds_delivered_to(ctx.db, person_id=actor.person_id, limit=12)
    if not rounds:
        text = "You haven't been asked in a pulse yet."
        return Reply(blocks=[Text(text)], text=text)
    pairs = []
    for rnd, _answered in rounds:
        assert rnd.id is not None
        pairs.append(
            (
                rnd.id,
                respondent_hash(ctx.settings.secret, round_id=rnd.id, person_id=actor.person_id),
            )
        )
    found = await store.responses_for(ctx.db, pairs=pairs)
    now = ctx.now()
    rows = []
    for rnd, _answered in rounds:
        assert rnd.id is not None
        mine = found.get(rnd.id, {})
        esat = mine.get("esat")
        enps = mine.get("enps")
        state = "open" if store.is_open(rnd, now) else "closed"
        rows.append(
            (
                fmt_day(rnd.opens_at, actor.timezone),
                _short(rnd.question, 60),
                f"{esat.score} {ESAT_LABELS[esat.score]}" if esat else "-",
                (str(enps.score) if enps else "-") if rnd.include_enps else "",
                "yes" if esat and esat.comment else "",
                state,
            )
        )
    blocks: list[Block] = [
        Header("Your pulse answers"),
        Table(("round", "question", "you answered", "eNPS", "comment", ""), tuple(rows)),
        Context("Only you can see this; your lead sees totals only."),
    ]
    text = "\n".join(f"{r[0]}: {r[2]}" for r in rows)
    return Reply(blocks=blocks, text=text)


# --- home ----------------------------------------------------------------------------


async def home_section(actor: Actor, ctx: HandlerContext) -> list[Block]:
    """An agent's open pulse (to answer from home); a lead's round progress (counts only)."""
    now = ctx.now()
    if actor.role is Role.agent:
        for rnd, answered in await store.rounds_delivered_to(
            ctx.db, person_id=actor.person_id, limit=2
        ):
            if store.is_open(rnd, now) and not answered:
                assert rnd.id is not None
                return [
                    Header("Pulse"),
                    Text(f"*{rnd.question}* (anonymous, one tap)"),
                    _score_buttons(rnd.id, "esat", None),
                    Context(f"Open until {fmt_local(rnd.closes_at, actor.timezone)}."),
                ]
        return []
    if actor.role is not Role.lead or actor.team_id is None:
        return []
    team = await people.get_team(ctx.db, team_id=actor.team_id)
    if team is None:
        return []
    current = await store.current_round(ctx.db, team_id=actor.team_id, now=now)
    if current is None or current.id is None:
        return []
    asked, answers = await store.asked_and_answered(ctx.db, round_id=current.id)
    return [
        Header("Pulse"),
        Text(
            f"Round open until {fmt_local(current.closes_at, team.timezone)}: "
            f"{answers} of {asked} answered so far."
        ),
    ]


# --- buttons and forms ---------------------------------------------------------------


async def pulse_action(action: Action, ctx: HandlerContext) -> Reply:
    if action.action_id == "pulse.answer":
        return await _answer(action, ctx)
    if action.action_id == "pulse.comment":
        return await _comment(action, ctx)
    return _invalid_button()


async def _answer(action: Action, ctx: HandlerContext) -> Reply:
    m = _VALUE_RE.match(action.value.strip())
    if not m:
        return _invalid_button()
    round_id, question, score = int(m.group(1)), m.group(2), int(m.group(3))
    person_id = action.actor.person_id
    outcome, rnd = await store.record_answer(
        ctx.db,
        round_id=round_id,
        person_id=person_id,
        respondent=respondent_hash(ctx.settings.secret, round_id=round_id, person_id=person_id),
        question=question,
        score=score,
        now=ctx.now(),
    )
    if outcome is store.AnswerOutcome.not_asked or rnd is None:
        return _not_asked()
    if outcome is store.AnswerOutcome.invalid:
        low, high = store.SCALES.get(question, (1, 5))
        text = f"That answer isn't on the scale ({low}-{high}); nothing was recorded."
        return Reply(blocks=[Text(text)], text=text, ok=False)
    if outcome is store.AnswerOutcome.closed:
        return _closed_reply(rnd)
    answers = await store.answers_of(
        ctx.db,
        round_id=round_id,
        respondent=respondent_hash(ctx.settings.secret, round_id=round_id, person_id=person_id),
    )
    return answered_reply(ctx, rnd, answers, action.actor.timezone)


async def _comment(action: Action, ctx: HandlerContext) -> Reply:
    value = action.value.strip()
    if not value.isdigit() or len(value) > 12:
        return _invalid_button()
    round_id = int(value)
    comment = (action.form.get("comment") or "").strip()
    if len(comment) > 1000:
        return Reply(
            errors={"comment": f"Keep it to 1000 characters (yours has {len(comment)})."},
            text="Your comment is too long.",
            ok=False,
        )
    person_id = action.actor.person_id
    outcome, rnd = await store.record_comment(
        ctx.db,
        round_id=round_id,
        person_id=person_id,
        respondent=respondent_hash(ctx.settings.secret, round_id=round_id, person_id=person_id),
        comment=comment,
        now=ctx.now(),
    )
    if outcome is store.AnswerOutcome.not_asked or rnd is None:
        return _not_asked()
    if outcome is store.AnswerOutcome.closed:
        return _closed_reply(rnd)
    if outcome is store.AnswerOutcome.no_answer:
        text = "Pick a score first, then add your comment; nothing was recorded."
        return Reply(blocks=[Text(text)], text=text, ok=False)
    text = (
        "Thanks, your comment is saved. It is shown without your name, in random order "
        "among the others, once enough people have answered."
        if comment
        else "Your comment was removed."
    )
    return Reply(blocks=[Text(text)], text=text)


COMMAND = CommandSpec(
    verb="pulse",
    summary="Quick anonymous ESAT pulse: schedule, open, read results, see your own answers",
    usage=(
        "/pulse status [team NAME]",
        "/pulse schedule weekly|biweekly|monthly [DAY] [HH:MM] [team NAME]",
        "/pulse schedule off [team NAME]",
        "/pulse now [team NAME]",
        '/pulse question "TEXT" [team NAME]   (or `default`)',
        "/pulse enps on|off [team NAME]",
        "/pulse results [weeks N] [team NAME]",
        "/pulse mine",
    ),
    handler=lambda cmd, _args, ctx: pulse(cmd, ctx),  # TEMP shim
    examples=(
        "/pulse schedule weekly fri 15:00",
        "/pulse now",
        '/pulse question "How supported did you feel this week?"',
        "/pulse results weeks 8",
        "/pulse mine",
    ),
)

BUTTONS = ActionSpec(prefix="pulse", handler=pulse_action)
