"""The seam between features and action items: a "Create action item" button.

A 1:1 prep card or a pulse result may carry a button that opens the action-item form;
the action-items feature (handlers/actions) answers it. Neither side imports the other:
both use this module, which fixes the button's action id and the shape of its value
(`SOURCE:REF:OWNER_ID`, e.g. `one_on_one:12:7`). The actions feature checks the value
again when the button is pressed (the source exists, the presser may act on it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.errors import UserError
from domain.types import Button, Form, FormField

CREATE_ACTION_ID = "action.create"
TITLE_MAX = 300
SOURCES = ("one_on_one", "pulse", "meeting")
_FREE_REF = re.compile(r"[\w.\-]{1,64}")
_ID = re.compile(r"[0-9]{1,10}")  # ASCII digits only: int() refuses `²`
_INVALID = "That button isn't valid any more. Nothing was changed."


@dataclass(frozen=True)
class FollowupSource:
    """Where an item created from a button comes from, and who will own it."""

    source: str  # one of SOURCES
    ref: str  # the 1:1's or pulse round's id, or a free label for a meeting
    owner_id: int

    @property
    def value(self) -> str:
        return f"{self.source}:{self.ref}:{self.owner_id}"


def parse_value(value: str) -> FollowupSource:
    """A button's value back into its source; UserError when it was tampered with."""
    parts = value.split(":")
    if len(parts) != 3 or parts[0] not in SOURCES or not _ID.fullmatch(parts[2]):
        raise UserError(_INVALID)
    source, ref, owner = parts
    if source in ("one_on_one", "pulse"):
        if not _ID.fullmatch(ref):
            raise UserError(_INVALID)
    elif not _FREE_REF.fullmatch(ref):
        raise UserError(_INVALID)
    return FollowupSource(source, ref, int(owner))


def create_form(value: str, *, title: str = "", due: str = "") -> Form:
    """The form behind the button (what needs doing, and by when)."""
    return Form(
        title="New action item",
        action_id=CREATE_ACTION_ID,
        value=value,
        fields=(
            FormField(
                "title", "What needs doing?", optional=False, max_length=TITLE_MAX, initial=title
            ),
            FormField(
                "due",
                "Due (e.g. friday, next week, 2026-12-01)",
                optional=True,
                max_length=40,
                initial=due,
            ),
        ),
        submit_label="Create",
    )


def create_button(
    *, source: str, source_ref: str, owner_id: int, label: str = "Add action item", title: str = ""
) -> Button:
    """A button that opens the action-item form for an item from `source`, e.g. on a 1:1
    prep card `create_button(source="one_on_one", source_ref=str(o.id), owner_id=agent.id)`."""
    value = FollowupSource(source, source_ref, owner_id).value
    return Button(label, CREATE_ACTION_ID, value, form=create_form(value, title=title))
