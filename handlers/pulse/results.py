"""The privacy rules of pulse results, and every view that shows figures.

All of them are here, so they can be read (and checked) in one place:

- `threshold`: a round with fewer answers than the threshold it was opened under or
  today's (`min_responses`, never below MIN_FLOOR), whichever is higher, is hidden
  everywhere; only its count is said. Lowering the setting never reveals a round. Its
  eNPS answers face the same threshold on their own. Windows and trends are built from
  rounds, so no slice gets under it.
- `pooled`: any figure over several rounds pools SHOWN rounds only, so a hidden round's
  answers never reach a total, whatever window is asked for.
- `totals_section`: a manager's totals are withheld when exactly one team has a hidden
  round (complementary suppression: "all teams" beside the other teams' figures would
  otherwise give that team's away).
- Comments appear only with a shown round, shuffled, without names or times.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from domain.localtime import fmt_local
from domain.roles import Role
from domain.types import Actor, Block, Buttons, Context, Fields, Header, Reply, Table, Text
from handlers.core.context import HandlerContext
from handlers.core.followups import create_button
from handlers.pulse.wording import DAY_FMT, ESAT_LABELS, short
from storage import people
from storage import pulse as store
from storage.models import Person, PulseRound, Team

MIN_FLOOR = 3  # never show fewer answers than this, whatever the settings say
DROP_POINTS = 15.0  # an ESAT drop this large against the previous shown round is flagged
TOO_FEW = "not enough answers to show without exposing people"
_RNG = random.SystemRandom()


def min_responses(ctx: HandlerContext) -> int:
    """Today's privacy threshold: PULSE_MIN_RESPONSES, never below 3. A new round keeps it."""
    return max(MIN_FLOOR, int(ctx.settings.pulse_min_responses))


def threshold(ctx: HandlerContext, rnd: PulseRound) -> int:
    """The answers a round needs before anything of it is shown: the threshold it was
    opened under or today's, whichever is higher (the agents were promised the former)."""
    return max(min_responses(ctx), rnd.min_responses)


@dataclass(frozen=True)
class RoundView:
    """One round as it may be shown: figures only when enough people answered."""

    stats: store.RoundStats
    shown: bool
    k: int  # the threshold this round is held to
    esat_pct: float | None = None
    mean: float | None = None
    enps: float | None = None  # None: not asked, or too few eNPS answers
    enps_hidden: bool = False


def esat_percent(c: Counter[int]) -> float:
    """The share of 4 and 5 answers, in percent."""
    n = sum(c.values())
    return 100.0 * (c[4] + c[5]) / n if n else 0.0


def mean_score(c: Counter[int]) -> float:
    """The mean ESAT answer (1-5)."""
    n = sum(c.values())
    return sum(s * k for s, k in c.items()) / n if n else 0.0


def enps_score(c: Counter[int]) -> float:
    """Promoters (9-10) minus detractors (0-6), in points."""
    n = sum(c.values())
    promoters = sum(k for s, k in c.items() if s >= 9)
    detractors = sum(k for s, k in c.items() if s <= 6)
    return 100.0 * (promoters - detractors) / n if n else 0.0


def view_round(stats: store.RoundStats, k: int) -> RoundView:
    """Apply the threshold to one round (and to its eNPS answers on their own): `k`,
    today's threshold, or the one the round was opened under when that is higher."""
    k = max(MIN_FLOOR, k, stats.min_responses)
    if stats.responses < k:
        return RoundView(stats=stats, shown=False, k=k)
    n_enps = sum(stats.enps.values())
    enps_ok = stats.include_enps and n_enps >= k
    return RoundView(
        stats=stats,
        shown=True,
        k=k,
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


# --- pieces of the views -------------------------------------------------------------


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


def _trend_table(views: Sequence[RoundView], tz: str) -> Table:
    rows = []
    for v in reversed(views):
        day = fmt_local(v.stats.opens_at, tz, DAY_FMT)
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
    """ "Create action item" from results: the action-item form, with the pulse as source."""
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


def _figures(v: RoundView) -> list[tuple[str, str]]:
    """ESAT, mean and answers of a shown round (its eNPS is added by the caller)."""
    return [
        ("ESAT (4-5)", f"{v.esat_pct:.0f}%"),
        ("Mean", f"{v.mean:.2f} / 5"),
        ("Answers", _rate(v.stats.responses, v.stats.asked)),
    ]


@dataclass
class _Section:
    """A results section being built: its blocks and its plain-text fallback lines."""

    blocks: list[Block]
    lines: list[str] = field(default_factory=list)

    def say(self, text: str, kind: type[Text] | type[Context] = Text) -> None:
        self.blocks.append(kind(text))
        self.lines.append(text)


# --- one team ------------------------------------------------------------------------


def team_section(
    team: Team, views: Sequence[RoundView], k: int, weeks: int, *, action_owner: int | None
) -> tuple[list[Block], list[str]]:
    """Blocks and fallback lines for one team's results."""
    tz = team.timezone
    out = _Section([Header(f"Pulse: {team.name}")], [f"Pulse: {team.name}"])
    if not views:
        out.say(f"No closed pulse rounds in the last {weeks} weeks.")
        return out.blocks, out.lines
    shown = [v for v in views if v.shown]
    _latest_hidden(out, views, shown, k, weeks, tz)
    if not shown:
        return out.blocks, out.lines
    last = shown[-1]
    _latest_shown(out, last, tz)
    _sharp_drop(out, views, tz)
    if len(views) > 1:
        _trend(out, views, shown, tz)
    _comments(out, last)
    if action_owner is not None:
        day = fmt_local(last.stats.opens_at, tz, DAY_FMT)
        title = f"Follow up on the {team.name} pulse of {day}"
        out.blocks.append(_action_item_button(last.stats.round_id, action_owner, title))
    hidden = [v for v in views if not v.shown]
    if hidden:
        n = len(hidden)
        verb = "are" if n != 1 else "is"
        need = max(v.k for v in hidden)
        out.blocks.append(
            Context(
                f"{n} round{'s' if n != 1 else ''} had fewer than the {need} answers needed "
                f"and {verb} hidden everywhere, totals included."
            )
        )
    return out.blocks, out.lines


def _latest_hidden(
    out: _Section,
    views: Sequence[RoundView],
    shown: Sequence[RoundView],
    k: int,
    weeks: int,
    tz: str,
) -> None:
    """Say that the latest round (and, when none is shown, every round) is hidden."""
    latest = views[-1]
    if not latest.shown:
        n = latest.stats.responses
        out.say(
            f"The round of {fmt_local(latest.stats.opens_at, tz, DAY_FMT)} closed with "
            f"{n} answer{'s' if n != 1 else ''}: {TOO_FEW} (at least {latest.k} are needed)."
        )
    if not shown and latest.shown is False and len(views) > 1:
        need = max(k, *(v.k for v in views))
        out.say(f"No round in the last {weeks} weeks had at least {need} answers; {TOO_FEW}.")


def _latest_shown(out: _Section, last: RoundView, tz: str) -> None:
    """The latest shown round's figures and its answers' distribution."""
    assert last.esat_pct is not None
    assert last.mean is not None
    pairs = _figures(last)
    if last.enps is not None:
        pairs.append(("eNPS", f"{last.enps:+.0f}"))
    elif last.enps_hidden:
        pairs.append(("eNPS", "too few answers"))
    day = fmt_local(last.stats.opens_at, tz, DAY_FMT)
    out.blocks.append(Text(f"*{last.stats.question}* (round of {day})"))
    out.blocks.append(Fields(tuple(pairs)))
    out.lines.append(
        f"Latest shown round {day}: ESAT {last.esat_pct:.0f}%, "
        f"mean {last.mean:.2f}, answers {_rate(last.stats.responses, last.stats.asked)}"
        + (f", eNPS {last.enps:+.0f}" if last.enps is not None else "")
    )
    out.blocks.append(_dist_table(last.stats.esat))


def _sharp_drop(out: _Section, views: Sequence[RoundView], tz: str) -> None:
    flag = drop_flag(views)
    if flag is None:
        return
    prev, now_v = flag
    assert prev.esat_pct is not None
    assert now_v.esat_pct is not None
    out.say(
        f"⚠ Sharp drop: ESAT fell {prev.esat_pct - now_v.esat_pct:.0f} points since the "
        f"round of {fmt_local(prev.stats.opens_at, tz, DAY_FMT)} ({prev.esat_pct:.0f}% → "
        f"{now_v.esat_pct:.0f}%). Worth a team conversation."
    )


def _trend(out: _Section, views: Sequence[RoundView], shown: Sequence[RoundView], tz: str) -> None:
    """Every round of the window (hidden ones by their count only), then shown ones pooled."""
    trend = _trend_table(views, tz)
    out.blocks.append(trend)
    out.lines.extend(" · ".join(row) for row in trend.rows)
    esat, _enps, responses, asked = pooled(views)
    if len(shown) > 1:
        out.say(
            f"Over the {len(shown)} rounds shown: ESAT {esat_percent(esat):.0f}%, mean "
            f"{mean_score(esat):.2f}, answers {_rate(responses, asked)}.",
            Context,
        )


def _comments(out: _Section, last: RoundView) -> None:
    """The shown round's comments, in random order so none can be placed by when it came."""
    comments = list(last.stats.comments)
    _RNG.shuffle(comments)
    if comments:
        out.blocks.append(Text("*Comments* (random order, no names)"))
        out.blocks.append(Text("\n".join(f"• {short(c, 500)}" for c in comments)))
        out.lines.extend(f"- {short(c, 500)}" for c in comments)


# --- a manager's teams together ------------------------------------------------------


def totals_section(
    per_team: dict[int, list[RoundView]], teams: dict[int, Team], k: int
) -> tuple[list[Block], list[str]]:
    """A manager's totals, with complementary suppression.

    Totals pool shown rounds only, so a hidden round never enters them. On top of that,
    when exactly one team has hidden rounds the totals are withheld: "all teams" beside the
    other teams' own figures would otherwise invite reading the difference as that team.
    """
    blocks: list[Block] = [Header("All your teams"), _side_by_side(per_team, teams)]
    hidden_teams = [tid for tid, views in per_team.items() if any(not v.shown for v in views)]
    if len(hidden_teams) == 1:
        name = teams[hidden_teams[0]].name
        text = (
            f"Totals withheld: {name} has a round with too few answers, and totals beside the "
            "other teams' figures could reveal it."
        )
        blocks.append(Text(text))
        return blocks, [text]
    all_views = [v for views in per_team.values() for v in views]
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


def _side_by_side(per_team: dict[int, list[RoundView]], teams: dict[int, Team]) -> Table:
    """Each team's latest shown round (figures already shown in its own section)."""
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
    return Table(
        ("team (latest shown round)", "ESAT", "mean", "answers"),
        tuple(rows),
        ("l", "r", "r", "r"),
    )


# --- the replies ---------------------------------------------------------------------


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
    kept = any(v.k > k for views in per_team.values() for v in views)
    blocks.append(
        Context(
            f"Only rounds with at least {k} answers are shown"
            + (" (more for a round opened under a higher threshold: it keeps it)" if kept else "")
            + "; comments carry no names or times. Nobody can see who answered."
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
    day = fmt_local(rnd.opens_at, tz, DAY_FMT)
    if this is None or not this.shown:
        n = this.stats.responses if this else 0
        asked = this.stats.asked if this else 0
        text = (
            f"The pulse round of {day} for {team.name} closed with {n} answer"
            f"{'s' if n != 1 else ''} from {asked} asked: {TOO_FEW} (at least "
            f"{threshold(ctx, rnd)} are needed)."
        )
        return Reply(blocks=[Header("Pulse closed"), Text(text)], text=text)
    assert this.esat_pct is not None
    assert this.mean is not None
    pairs = _figures(this)
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
            f"round of {fmt_local(prev.stats.opens_at, tz, DAY_FMT)}."
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
