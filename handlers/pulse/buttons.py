"""The buttons and form of an agent's pulse DM: `pulse.answer` (a score tap, changeable
until the round closes) and `pulse.comment` (an anonymous comment beside the answer).

A button's value names the round, the question and the score, never the person: the
answer is stored under a keyed hash of the presser (domain.privacy), and a value that
was forged, or pressed by someone the round was not sent to, records nothing.
"""

from __future__ import annotations

import re

from domain.privacy import respondent_hash
from domain.types import Action, Reply, Text
from handlers.core.context import HandlerContext
from handlers.pulse.render import answered_reply
from storage import pulse as store

COMMENT_MAX = 1000
_VALUE_RE = re.compile(r"^(\d{1,12}):(esat|enps):(\d{1,2})$")

# An answer recorded under a LEADBOT_SECRET since changed can't be found, so it can't be
# changed, and a new one would count the person twice.
UNRECOGNISED = (
    "You already answered this pulse, and it still counts. It can't be changed any more "
    "(the server's secret was changed since); nothing was recorded."
)


def _refused(text: str) -> Reply:
    return Reply(blocks=[Text(text)], text=text, ok=False)


def _closed_reply() -> Reply:
    return _refused(
        "Thanks for tapping! This pulse round has already closed, so your answer wasn't "
        "recorded. Look out for the next one."
    )


def _invalid_button() -> Reply:
    return _refused("That button is no longer valid; nothing was recorded.")


def _not_asked() -> Reply:
    return _refused(
        "This pulse wasn't sent to you, so there is nothing to answer; nothing was recorded."
    )


async def pulse_action(action: Action, ctx: HandlerContext) -> Reply:
    """Every `pulse.*` button and form."""
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
    respondent = respondent_hash(ctx.settings.secret, round_id=round_id, person_id=person_id)
    outcome, rnd = await store.record_answer(
        ctx.db,
        round_id=round_id,
        person_id=person_id,
        respondent=respondent,
        question=question,
        score=score,
        now=ctx.now(),
    )
    if outcome is store.AnswerOutcome.not_asked or rnd is None:
        return _not_asked()
    if outcome is store.AnswerOutcome.invalid:
        low, high = store.SCALES.get(question, (1, 5))
        return _refused(f"That answer isn't on the scale ({low}-{high}); nothing was recorded.")
    if outcome is store.AnswerOutcome.closed:
        return _closed_reply()
    if outcome is store.AnswerOutcome.unrecognised:
        return _refused(UNRECOGNISED)
    answers = await store.answers_of(ctx.db, round_id=round_id, respondent=respondent)
    return answered_reply(ctx, rnd, answers, action.actor.timezone)


async def _comment(action: Action, ctx: HandlerContext) -> Reply:
    value = action.value.strip()
    if not (value.isascii() and value.isdigit()) or len(value) > 12:
        return _invalid_button()
    round_id = int(value)
    comment = (action.form.get("comment") or "").strip()
    if len(comment) > COMMENT_MAX:
        return Reply(
            errors={"comment": f"Keep it to {COMMENT_MAX} characters (yours has {len(comment)})."},
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
        return _closed_reply()
    if outcome is store.AnswerOutcome.unrecognised:
        return _refused(UNRECOGNISED)
    if outcome is store.AnswerOutcome.no_answer:
        return _refused("Pick a score first, then add your comment; nothing was recorded.")
    text = (
        "Thanks, your comment is saved. It is shown without your name, in random order "
        "among the others, once enough people have answered."
        if comment
        else "Your comment was removed."
    )
    return Reply(blocks=[Text(text)], text=text)
