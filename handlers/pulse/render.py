"""The messages agents get: the question with its one-tap score buttons, and what the
message turns into once they have answered (their answer, change it, add a comment)."""

from __future__ import annotations

from domain.localtime import fmt_local
from domain.types import Block, Button, Buttons, Context, Form, FormField, Header, Reply, Text
from handlers.core.context import HandlerContext
from handlers.pulse.results import threshold
from handlers.pulse.wording import ENPS_QUESTION, ESAT_EMOJI, ESAT_LABELS, short
from storage import pulse as store
from storage.models import PulseResponse, PulseRound


def score_buttons(round_id: int, question: str, chosen: int | None) -> Buttons:
    """One button per score of `question` (esat 1-5, enps 0-10); `chosen` is highlighted.

    A value carries the round, the question and the score, never the person."""
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


def _privacy_note(ctx: HandlerContext, rnd: PulseRound) -> str:
    k = threshold(ctx, rnd)
    return (
        "Anonymous: your lead sees only totals, and only when at least "
        f"{k} people answered. Nobody is told who answered or what, and when the round "
        "closes your answer is unlinked from you for good."
    )


def ask_reply(ctx: HandlerContext, rnd: PulseRound, tz: str, *, reminder: bool = False) -> Reply:
    """The DM that asks one agent (or reminds them) to answer a round."""
    assert rnd.id is not None
    closes = fmt_local(rnd.closes_at, tz)
    blocks: list[Block] = [
        Header("Reminder: quick pulse" if reminder else "Quick pulse"),
        Text(f"*{rnd.question}*\n1 = very dissatisfied, 5 = very satisfied"),
        score_buttons(rnd.id, "esat", None),
    ]
    if rnd.include_enps:
        blocks += [
            Text(f"*{ENPS_QUESTION}*\n0 = not at all likely, 10 = extremely likely"),
            score_buttons(rnd.id, "enps", None),
        ]
    blocks.append(Context(f"One tap, open until {closes}. {_privacy_note(ctx, rnd)}"))
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
    blocks.append(score_buttons(rnd.id, "esat", esat.score if esat else None))
    if rnd.include_enps:
        said = f" You answered *{enps.score}*." if enps else ""
        blocks += [
            Text(f"{ENPS_QUESTION}{said}"),
            score_buttons(rnd.id, "enps", enps.score if enps else None),
        ]
    if esat is not None:
        if esat.comment:
            blocks.append(Text("Your comment: _" + short(esat.comment, 300) + "_"))
        blocks.append(_comment_button(rnd.id, bool(esat.comment)))
    blocks.append(
        Context(f"Changed your mind? Tap another score until {closes}. {_privacy_note(ctx, rnd)}")
    )
    text = "Thanks, your answer is in"
    if esat is not None:
        text += f": {esat.score} ({ESAT_LABELS[esat.score]})"
    return Reply(blocks=blocks, text=text + ".", replace_original=True)
