"""`/action`: owned action items with a due date, a trail, follow-ups and evidence.

Every item has exactly one owner. A lead assigns items to the agents of their team, a
manager to the agents and leads of the teams they manage (handlers/core/access.py);
anyone may create items for themselves. Only the owner and whoever may act on the owner
now may see or change an item. The owner of an item someone else assigned may accept,
finish and ask for help; a new date or a cancellation is a request that the assigner
(or the owner's lead) approves or declines (proposals.py). An item may be linked to a
metric (`metric aht <= 300s`): once the owner meets it for enough working days in a row,
whoever assigned it is offered a one-click close, checked again when it is pressed.

Modules: commands.py and listing.py (the sub-commands), buttons.py (every `action.*`
button and form), service.py (create and show), changes.py (every later change),
proposals.py (the owner's requests and their decisions), permissions.py (who may),
targets.py (metric links), evidence.py, render.py,
notices.py (DMs held until working hours), text.py (titles, notes, item numbers),
home.py.

Public surface:
- COMMAND, BUTTONS, home_section: registered in handlers/registry.py.
- create_item, MetricLink: create an item from other code.
- For the follow-up job (jobs/action_followups.py): Evidence and compute_evidence (the
  owner's streak on target), item_buttons and close_offer_buttons (the buttons its
  messages carry), item_ref (`#12`), working_hours_dm (a DM held until the recipient's
  shift).
Other features put a "Create action item" button on their cards through
handlers/core/followups.py; this package answers it (`action.create`).
"""

from __future__ import annotations

from handlers.actions.buttons import action_button
from handlers.actions.commands import (
    accept_command,
    approve_command,
    cancel_command,
    create,
    decline_command,
    done,
    due,
    reassign_command,
    show,
)
from handlers.actions.evidence import RECENT_EVIDENCE_DAYS, Evidence, compute_evidence
from handlers.actions.home import home_section
from handlers.actions.listing import list_items
from handlers.actions.notices import working_hours_dm
from handlers.actions.render import close_offer_buttons, item_buttons, item_ref
from handlers.actions.service import create_item
from handlers.actions.targets import MetricLink
from handlers.core.access import checked, checked_actions
from handlers.core.context import ActionSpec, CommandSpec

__all__ = [
    "BUTTONS",
    "COMMAND",
    "RECENT_EVIDENCE_DAYS",
    "Evidence",
    "MetricLink",
    "close_offer_buttons",
    "compute_evidence",
    "create_item",
    "home_section",
    "item_buttons",
    "item_ref",
    "working_hours_dm",
]

COMMAND = CommandSpec(
    verb="action",
    summary="Action items: assign, follow up and close owned work",
    usage=("/action @owner TEXT [due DATE] [metric METRIC OP TARGET]",),
    handler=create,
    subcommands=(
        CommandSpec(
            verb="list",
            summary="Open items: yours, your teams', overdue, done lately, assigned, a person's",
            usage=("/action list [mine|team|overdue|done|assigned|@person]",),
            handler=list_items,
            aliases=("ls",),
            examples=("/action list overdue", "/action list @maria.lopez"),
        ),
        CommandSpec(
            verb="show",
            summary="One item with its whole trail",
            usage=("/action show ID",),
            handler=show,
            examples=("/action show 12",),
        ),
        CommandSpec(
            verb="accept",
            summary="Accept an item you own",
            usage=("/action accept ID",),
            handler=accept_command,
            examples=("/action accept 12",),
        ),
        CommandSpec(
            verb="done",
            summary="Close an item as done, with an optional note",
            usage=("/action done ID [note]",),
            handler=done,
            examples=("/action done 12 called, resolved",),
        ),
        CommandSpec(
            verb="due",
            summary="Move an item's due date, or clear it with `none` (its owner asks for it)",
            usage=("/action due ID DATE|none",),
            handler=due,
            examples=("/action due 12 next friday", "/action due 12 none"),
        ),
        CommandSpec(
            verb="reassign",
            summary="Hand an item to someone else",
            usage=("/action reassign ID @person",),
            handler=reassign_command,
            examples=("/action reassign 12 @sam.agent",),
        ),
        CommandSpec(
            verb="cancel",
            summary="Cancel an item, with an optional reason (its owner asks for it)",
            usage=("/action cancel ID [reason]",),
            handler=cancel_command,
            examples=("/action cancel 12 customer closed the account",),
        ),
        CommandSpec(
            verb="approve",
            summary="Approve the owner's request for a new date or a cancellation",
            usage=("/action approve ID",),
            handler=approve_command,
            examples=("/action approve 12",),
        ),
        CommandSpec(
            verb="decline",
            summary="Decline the owner's request, with an optional reason they will see",
            usage=("/action decline ID [reason]",),
            handler=decline_command,
            examples=("/action decline 12 the customer needs it this week",),
        ),
    ),
    examples=(
        "/action @maria.lopez call back the Smith account due tomorrow",
        "/action @maria.lopez shorten wrap-up due next week metric aht <= 300s",
        "/action list overdue",
        "/action done 12 called, resolved",
    ),
)
COMMAND = checked(COMMAND)  # every sub-command reads its actor's role and team now

BUTTONS = checked_actions(ActionSpec(prefix="action", handler=action_button))
