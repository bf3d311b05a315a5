"""The `/pulse` sub-commands: set a team's schedule, question and eNPS, open a round now,
see a round's progress (counts only), read results, and one's own answers.

Leads act on their own team; a manager of several teams (and an admin) names it with
`team NAME` after the other words. Each handler gets the words after its sub-command.
"""

from __future__ import annotations

import datetime as dt

from domain.errors import NotAllowed, UsageError
from domain.localtime import fmt_local
from domain.numbers import parse_int
from domain.parsing import Args, token_text
from domain.privacy import respondent_hash
from domain.roles import Role
from domain.shifts import parse_time, parse_weekday
from domain.types import (
    Actor,
    Block,
    Command,
    Context,
    Fields,
    Header,
    Quoted,
    Reply,
    Table,
    Text,
)
from handlers.core.access import visible_team_ids
from handlers.core.context import HandlerContext
from handlers.pulse.render import answered_reply, ask_reply
from handlers.pulse.results import min_responses, results_reply, threshold
from handlers.pulse.rounds import can_answer_before, open_round
from handlers.pulse.schedule import CADENCES, describe_schedule
from handlers.pulse.teams import only_team, split_team, target_team
from handlers.pulse.wording import DAY_FMT, DEFAULT_QUESTION, ESAT_LABELS, short
from storage import pulse as store

DEFAULT_WEEKS = 12
MAX_WEEKS = 104
QUESTION_MAX = 300


def _say(text: str) -> Reply:
    return Reply(blocks=[Text(text)], text=text)


# --- schedule, question, eNPS --------------------------------------------------------


async def pulse_schedule(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/pulse schedule [CADENCE [DAY] [HH:MM]] [team NAME]`: show or set the schedule."""
    rest, team_words = split_team(args)
    team = await target_team(ctx, cmd.actor, team_words)
    assert team.id is not None
    now = ctx.now()
    if not rest:
        sched = await store.get_schedule(ctx.db, team_id=team.id)
        return _say(describe_schedule(sched, team.timezone, now))
    cadence = rest[0].lower()
    if cadence not in CADENCES:
        raise UsageError(f"{rest[0]!r} isn't a cadence: use weekly, biweekly, monthly or off.")
    if cadence == "off" and len(rest) > 1:
        raise UsageError("`/pulse schedule off` takes nothing else.")
    weekday, local_time = _day_and_time(rest[1:])
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
        n = len(await store.team_agents(ctx.db, team_id=team.id))
        k = min_responses(ctx)
        if n < k:
            text += (
                f" ⚠ {team.name} has {_agents(n)}, and results are shown only with at least "
                f"{k} answers: its rounds' results can never be shown, not even to you, "
                f"until it has at least {k} agents."
            )
    return _say(text)


def _agents(n: int) -> str:
    return f"{n} agent{'s' if n != 1 else ''}"


def _day_and_time(words: list[str]) -> tuple[int | None, str | None]:
    """The weekday and `HH:MM` of `weekly fri 15:00`, in any order; None when not given."""
    weekday: int | None = None
    local_time: str | None = None
    for word in words:
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
    return weekday, local_time


async def pulse_enps(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/pulse enps on|off [team NAME]`: add eNPS to each month's first round, or not."""
    rest, team_words = split_team(args)
    team = await target_team(ctx, cmd.actor, team_words)
    assert team.id is not None
    if len(rest) != 1 or rest[0].lower() not in ("on", "off"):
        raise UsageError("Say `/pulse enps on` or `/pulse enps off`.")
    on = rest[0].lower() == "on"
    await store.set_schedule(ctx.db, team_id=team.id, now=ctx.now(), enps_monthly=on)
    return _say(
        "The first round of each month will also ask the eNPS question (0-10)."
        if on
        else "Rounds will no longer ask the eNPS question."
    )


def _is_team_word(tok: object) -> bool:
    return isinstance(tok, str) and not isinstance(tok, Quoted) and tok.lower() == "team"


async def pulse_question(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/pulse question ["TEXT"|default] [team NAME]`: show or set the question."""
    tokens = args.rest()
    team_words: list[str] = []
    # `"TEXT" team NAME`: a quoted question is one token, so `team` right after it names
    # the team; an unquoted question is all the words, `team` included. `team NAME` alone
    # asks to see that team's question (an unquoted `team` first never starts a question).
    if tokens and _is_team_word(tokens[0]):
        if len(tokens) == 1:
            raise UsageError("Name the team after `team`.")
        team_words = [token_text(t) for t in tokens[1:]]
        tokens = []
    elif len(tokens) >= 3 and isinstance(tokens[0], Quoted) and _is_team_word(tokens[1]):
        team_words = [token_text(t) for t in tokens[2:]]
        tokens = tokens[:1]
    text_q = " ".join(token_text(t) for t in tokens).strip()
    team = await target_team(ctx, cmd.actor, team_words)
    assert team.id is not None
    if not text_q:
        sched = await store.get_schedule(ctx.db, team_id=team.id)
        return _say(f"The pulse question is: “{sched.question}”")
    if text_q.lower() == "default":
        text_q = DEFAULT_QUESTION
    if len(text_q) > QUESTION_MAX:
        raise UsageError(
            f"A question can be {QUESTION_MAX} characters at most (yours has {len(text_q)})."
        )
    if len(text_q) < 5:
        raise UsageError("That question is too short.")
    await store.set_schedule(ctx.db, team_id=team.id, now=ctx.now(), question=text_q)
    return _say(f"From the next round, {team.name} is asked: “{text_q}” (1-5).")


# --- opening a round now -------------------------------------------------------------


async def pulse_now(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/pulse now [team NAME]`: open a round at once."""
    actor = cmd.actor
    team = await target_team(ctx, actor, only_team(args))
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
    if not any(can_answer_before(p, ctx.now(), closes) for p in agents):
        raise UsageError(
            f"None of {team.name}'s agents works before the round would close "
            f"({fmt_local(closes, team.timezone)}); try again when they are on shift."
        )
    opened = await open_round(ctx, team, created_by_id=actor.person_id)
    if opened is None:
        raise UsageError(f"{team.name} already has a round open; see `/pulse status`.")
    rnd, asked = opened
    k = threshold(ctx, rnd)
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
    if asked < k:
        text += (
            f" ⚠ Only {_agents(asked)} {'were' if asked != 1 else 'was'} asked, and results "
            f"are shown only with at least {k} answers: this round's results can never be "
            "shown, not even to you."
        )
    return Reply(
        blocks=[
            Text(text),
            Context(
                "Each agent gets the DM within their working hours. "
                + (
                    f"You will get the results when it closes, if at least {k} answered."
                    if asked >= k
                    else "When it closes you will be told only how many answered."
                )
            ),
        ],
        text=text,
    )


# --- status --------------------------------------------------------------------------


async def pulse_status(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/pulse status [team NAME]`: the open round's progress (counts only) and the
    schedule; for an agent, their open pulse to answer."""
    team_words = only_team(args)
    actor = cmd.actor
    if actor.role is Role.agent:
        return await _agent_status(actor, ctx)
    team = await target_team(ctx, actor, team_words)
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
    k = threshold(ctx, current) if current is not None else min_responses(ctx)
    blocks.append(
        Context(
            "Who answered is never shown, and figures appear only when the round closes "
            f"with at least {k} answers."
        )
    )
    return Reply(blocks=blocks, text="\n".join(lines))


async def _agent_status(actor: Actor, ctx: HandlerContext) -> Reply:
    now = ctx.now()
    for rnd, answered in await store.rounds_delivered_to(
        ctx.db, person_id=actor.person_id, limit=3
    ):
        if not store.is_open(rnd, now):
            continue
        if not answered:
            return ask_reply(ctx, rnd, actor.timezone)
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
    mine = await _mine(actor, ctx)
    note = "No pulse is open for you right now."
    mine.blocks.insert(0, Text(note))
    mine.text = note + "\n" + mine.text
    return mine


# --- results and one's own answers ---------------------------------------------------


async def pulse_results(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/pulse results [weeks N] [team NAME]`: totals of the teams one leads or manages."""
    actor = cmd.actor
    weeks = DEFAULT_WEEKS
    if args.take_if("weeks", "week"):
        word = args.take_word("a number of weeks")
        try:
            weeks = parse_int(word, what="weeks", lo=1, hi=MAX_WEEKS)
        except UsageError:
            raise UsageError(f"Weeks must be a whole number from 1 to {MAX_WEEKS}.") from None
    team_words = only_team(args)
    if actor.role is Role.agent:
        raise NotAllowed(
            "Pulse results are for leads and managers, and only as totals. "
            "`/pulse mine` shows your own answers."
        )
    if actor.role is Role.admin:
        raise NotAllowed("Admins configure leadbot; pulse results are for leads and managers.")
    visible = await visible_team_ids(ctx, actor)
    if team_words:
        team = await target_team(ctx, actor, team_words)
        assert team.id is not None
        ids = [team.id]
    else:
        ids = sorted(visible)
    if not ids:
        raise NotAllowed("You don't lead or manage a team yet; ask your admin.")
    return await results_reply(ctx, actor, ids, weeks)


async def pulse_mine(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/pulse mine`: one's own answers, seen by nobody else."""
    args.expect_end()
    return await _mine(cmd.actor, ctx)


MINE_NOTE = (
    "Only you can see this; your lead sees totals only. While a round is open you see (and "
    "can change) your answer. When it closes, your answer is unlinked from you for good: "
    "nobody, you and admins included, can tell which answer was yours; only whether you "
    "answered is kept."
)


async def _mine(actor: Actor, ctx: HandlerContext) -> Reply:
    """One's rounds, newest first: one's answers in open rounds (found by recomputing
    one's keyed hash), and for closed rounds only whether one answered (the delivery
    record): a closed round's answers are no longer tied to anyone (storage.pulse)."""
    rounds = await store.rounds_delivered_to(ctx.db, person_id=actor.person_id, limit=12)
    if not rounds:
        return _say("You haven't been asked in a pulse yet.")
    now = ctx.now()
    pairs = [
        (rnd.id, respondent_hash(ctx.settings.secret, round_id=rnd.id, person_id=actor.person_id))
        for rnd, _answered in rounds
        if rnd.id is not None and store.is_open(rnd, now)
    ]
    found = await store.responses_for(ctx.db, pairs=pairs)
    rows = []
    lines = []
    for rnd, answered in rounds:
        assert rnd.id is not None
        day = fmt_local(rnd.opens_at, actor.timezone, DAY_FMT)
        if store.is_open(rnd, now):
            mine = found.get(rnd.id, {})
            esat, enps = mine.get("esat"), mine.get("enps")
            said = f"{esat.score} {ESAT_LABELS[esat.score]}" if esat else "-"
            enps_said = (str(enps.score) if enps else "-") if rnd.include_enps else ""
            comment = "yes" if esat and esat.comment else ""
            state = f"open until {fmt_local(rnd.closes_at, actor.timezone)}"
            lines.append(f"{day}: {said}")
        else:
            said = "answered" if answered else "-"
            enps_said = comment = ""
            state = "closed"
            lines.append(f"{day}: {'answered' if answered else 'no answer'} (closed)")
        rows.append((day, short(rnd.question, 60), said, enps_said, comment, state))
    blocks: list[Block] = [
        Header("Your pulse answers"),
        Table(("round", "question", "your answer", "eNPS", "comment", ""), tuple(rows)),
        Context(MINE_NOTE),
    ]
    return Reply(blocks=blocks, text="\n".join(lines))
