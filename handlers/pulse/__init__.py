"""`/pulse`: quick ESAT surveys in chat, private by design.

Leads set a team's schedule (or open a round at once); agents answer in one tap from a
DM; leads and managers read aggregated results only. The privacy rules (docs/privacy.md):

- a response holds a keyed hash of its respondent, never an id, and no timestamp;
- results are shown per round, and a round with fewer than `min_responses` answers is
  hidden everywhere (its count is all that is said), so no window or slice gets under it;
- a manager's totals are computed over shown rounds only, and are withheld when exactly
  one team has a hidden round (complementary suppression, docs/privacy.md, "Pulse answers");
- nothing says who answered or what any one person answered, except to that person.

Every view with figures, and so every rule above but the first, is in `results.py`.

Modules: `commands` (the sub-commands), `teams` (which team a command means), `buttons`
(`pulse.answer`, `pulse.comment`), `render` (the DMs agents get), `results` (thresholds,
pooling, suppression and the result views), `rounds` (opening a round), `schedule`
(slot arithmetic), `home` (the home-view section), `wording` (questions and labels).

Public surface: COMMAND, BUTTONS and home_section (handlers/registry.py); for the jobs
(jobs/pulse_jobs.py) open_round, ask_reply, summary_reply, latest_slot and next_slot;
and the texts DEFAULT_QUESTION and TOO_FEW.
"""

from __future__ import annotations

from domain.parsing import Args
from domain.types import Command, Reply
from handlers.core.context import ActionSpec, CommandSpec, HandlerContext
from handlers.core.dispatch import unknown_subcommand
from handlers.pulse.buttons import pulse_action
from handlers.pulse.commands import (
    pulse_enps,
    pulse_mine,
    pulse_now,
    pulse_question,
    pulse_results,
    pulse_schedule,
    pulse_status,
)
from handlers.pulse.home import home_section
from handlers.pulse.render import ask_reply
from handlers.pulse.results import TOO_FEW, summary_reply
from handlers.pulse.rounds import open_round
from handlers.pulse.schedule import latest_slot, next_slot
from handlers.pulse.wording import DEFAULT_QUESTION

__all__ = [
    "BUTTONS",
    "COMMAND",
    "DEFAULT_QUESTION",
    "TOO_FEW",
    "ask_reply",
    "home_section",
    "latest_slot",
    "next_slot",
    "open_round",
    "summary_reply",
]


async def _status_by_default(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/pulse` alone is `/pulse status`."""
    if args:
        raise unknown_subcommand(("pulse",), COMMAND, args.rest_text())
    return await pulse_status(cmd, args, ctx)


COMMAND = CommandSpec(
    verb="pulse",
    summary="Quick anonymous ESAT pulse: schedule, open, read results, see your own answers",
    handler=_status_by_default,
    subcommands=(
        CommandSpec(
            verb="status",
            summary="The open round's progress (counts only) and the schedule, or an agent's "
            "open pulse (also `/pulse` alone)",
            usage=("/pulse status [team NAME]",),
            handler=pulse_status,
        ),
        CommandSpec(
            verb="schedule",
            summary="Show or set when the team's rounds open, in the team's time zone",
            usage=(
                "/pulse schedule weekly|biweekly|monthly [DAY] [HH:MM] [team NAME]",
                "/pulse schedule off [team NAME]",
            ),
            handler=pulse_schedule,
            examples=("/pulse schedule weekly fri 15:00", "/pulse schedule off"),
        ),
        CommandSpec(
            verb="now",
            summary="Open a round at once: each agent gets the DM within their working hours",
            usage=("/pulse now [team NAME]",),
            handler=pulse_now,
            examples=("/pulse now", "/pulse now team Billing"),
        ),
        CommandSpec(
            verb="question",
            summary="Show or set the 1-5 question the next rounds ask (`default` to reset)",
            usage=('/pulse question "TEXT" [team NAME]   (or `default`)',),
            handler=pulse_question,
            examples=('/pulse question "How supported did you feel this week?"',),
        ),
        CommandSpec(
            verb="enps",
            summary="Also ask the eNPS question (0-10) in the first round of each month",
            usage=("/pulse enps on|off [team NAME]",),
            handler=pulse_enps,
            examples=("/pulse enps on",),
        ),
        CommandSpec(
            verb="results",
            summary="Totals of your teams' closed rounds; rounds with too few answers are hidden",
            usage=("/pulse results [weeks N] [team NAME]",),
            handler=pulse_results,
            examples=("/pulse results weeks 8",),
        ),
        CommandSpec(
            verb="mine",
            summary="Your answers while a round is open, and which closed rounds you answered",
            usage=("/pulse mine",),
            handler=pulse_mine,
        ),
    ),
    examples=(
        "/pulse schedule weekly fri 15:00",
        "/pulse now",
        '/pulse question "How supported did you feel this week?"',
        "/pulse results weeks 8",
        "/pulse mine",
    ),
)

BUTTONS = ActionSpec(prefix="pulse", handler=pulse_action)
