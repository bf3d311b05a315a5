"""`/1on1`: recurring one-on-ones between a lead (or manager) and someone in their team.

A schedule is kept in the lead's time zone (slots keep their wall-clock time across DST)
and every message to the other person is in theirs. Occurrences can be moved, skipped or
recorded as held with notes; agenda points and the notes go on the lead's prep card,
which never shows anything from pulse surveys (those answers are anonymous).

Every form starts with its sub-command word (`/1on1 move @maria.lopez fri 09:00`, the
person after it), so each form is a declared sub-command; the root handler only answers
plain `/1on1` (the list) and gives the standard unknown-sub-command error otherwise.

Modules: schedule.py (the slot arithmetic, pure), service.py (what commands, buttons and
the sweep share), commands.py and listing.py (the sub-commands), prep.py (the prep card and
its buttons), buttons.py (the button handler), home.py (the home-view section).

Who holds a schedule is decided at each request and each sweep, never by its stored
lead alone (service.acting_leads): a lead moved or demoted loses the schedules of the
people they no longer lead (prep cards, reminders, buttons sent earlier), and whoever
leads those people now inherits them.

Public surface: COMMAND, BUTTONS and home_section (handlers/registry.py); for the 1:1
sweep (jobs/oneonone_jobs.py): acting_leads, following_slot, lapse_state, due_since,
prep_card and prep_button.
"""

from __future__ import annotations

from domain.parsing import Args
from domain.types import Command, Reply
from handlers.core.access import checked, checked_actions
from handlers.core.context import ActionSpec, CommandSpec, HandlerContext
from handlers.core.dispatch import unknown_subcommand
from handlers.oneonone.buttons import on_action
from handlers.oneonone.commands import agenda, cancel, done, move, prep, schedule, skip
from handlers.oneonone.home import home_section
from handlers.oneonone.listing import list_1on1s
from handlers.oneonone.prep import prep_button, prep_card
from handlers.oneonone.schedule import due_since, lapse_state
from handlers.oneonone.service import acting_leads, following_slot

__all__ = [
    "BUTTONS",
    "COMMAND",
    "acting_leads",
    "due_since",
    "following_slot",
    "home_section",
    "lapse_state",
    "prep_button",
    "prep_card",
]


async def _root(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    if args:
        raise unknown_subcommand(("1on1",), COMMAND, args.rest_text())
    return await list_1on1s(cmd, args, ctx)


COMMAND = CommandSpec(
    verb="1on1",
    summary="Recurring one-on-ones: schedule, move, skip, notes, agenda and prep cards",
    handler=_root,
    subcommands=(
        CommandSpec(
            verb="schedule",
            summary="Set up (or replace) recurring 1:1s with someone, in your time zone",
            usage=("/1on1 schedule @agent every N weeks WEEKDAY HH:MM [duration 30m]",),
            handler=schedule,
            examples=("/1on1 schedule @maria.lopez every 2 weeks tue 10:00 duration 30m",),
        ),
        CommandSpec(
            verb="list",
            summary="Your 1:1s: next time, cadence, last held, on track or not (also plain /1on1)",
            usage=("/1on1 list",),
            handler=list_1on1s,
            aliases=("next",),
        ),
        CommandSpec(
            verb="move",
            summary="Move the next 1:1 only; the regular schedule carries on after it",
            usage=("/1on1 move @agent DATE HH:MM",),
            handler=move,
            examples=("/1on1 move @maria.lopez 2026-11-26 14:30", "/1on1 move @sam fri 09:00"),
        ),
        CommandSpec(
            verb="cancel",
            summary="Stop the recurring 1:1s with someone (history and notes are kept)",
            usage=("/1on1 cancel @agent",),
            handler=cancel,
        ),
        CommandSpec(
            verb="done",
            summary="Record the current 1:1 as held, with notes for the next prep card",
            usage=("/1on1 done @agent [notes]",),
            handler=done,
            examples=("/1on1 done @maria.lopez agreed to shadow Sam on escalations",),
        ),
        CommandSpec(
            verb="skip",
            summary="Skip the next 1:1 (or one that just went by unrecorded)",
            usage=("/1on1 skip @agent [reason]",),
            handler=skip,
            examples=("/1on1 skip @maria.lopez on leave",),
        ),
        CommandSpec(
            verb="prep",
            summary="The prep card: KPIs vs goals, action items, kudos, last notes and agenda",
            usage=("/1on1 prep @agent",),
            handler=prep,
        ),
        CommandSpec(
            verb="agenda",
            summary="Add a point to talk about at your next 1:1 (it shows on the prep card)",
            usage=("/1on1 agenda TEXT", "/1on1 agenda @person TEXT"),
            handler=agenda,
            examples=("/1on1 agenda I'd like to talk about the weekend rota",),
        ),
    ),
    examples=(
        "/1on1 schedule @maria.lopez every 2 weeks tue 10:00 duration 30m",
        "/1on1 move @maria.lopez 2026-11-26 14:30",
        "/1on1 done @maria.lopez agreed to shadow Sam on escalations",
        "/1on1 agenda I'd like to talk about the weekend rota",
    ),
)

COMMAND = checked(COMMAND)  # every sub-command reads its actor's role and team now
BUTTONS = checked_actions(ActionSpec(prefix="oneonone", handler=on_action))
