"""What a hand-over of a lead's work tells people, and how replies describe it.

Shared by the admin commands (handlers/leadbot) and the roster import (handlers/imports),
which both change leads through storage/handover.py: the new lead is told what they
received, and each agent whose 1:1s changed hands is told who they are with now (held
for their working hours like every message to an agent).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence

from domain.localtime import fmt_local
from domain.types import Block, Context, Header, Reply, Text
from handlers.core.context import HandlerContext
from handlers.core.notify import person_message
from storage.handover import Brief, Settled, TeamWork, WorkNote
from storage.models import Person
from storage.outbox import OutboxNew


def plural(n: int, one: str, many: str | None = None) -> str:
    """`1 1:1`, `3 open action items`."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _work(n_1on1: int, n_items: int) -> str:
    parts = []
    if n_1on1:
        parts.append(plural(n_1on1, "1:1"))
    if n_items:
        parts.append(plural(n_items, "open action item"))
    return " and ".join(parts)


def _whose(formers: Sequence[str]) -> str:
    return ", ".join(formers) if formers else "the former lead"


def handover_lines(b: Brief) -> list[str]:
    """Sentences for a reply: whose work went where, and which teams now lack a lead or a
    manager (and what waits for one)."""
    lines: list[str] = []
    for w in b.handed:
        line = f"{w.lead} took over {_work(w.one_on_ones, w.items) or 'nothing'} in {w.team} "
        line += f"from {_whose(w.formers)}."
        if w.ended:
            line += (
                f" {plural(w.ended, '1:1')} ended: {w.lead} had one with that person "
                "already, or was that person."
            )
        lines.append(line)
    waiting: dict[str, WorkNote] = {w.team: w for w in b.waiting}
    for name in b.lost_lead:
        left = waiting.pop(name) if name in waiting else None
        line = f"{name} has no lead now."
        if left is not None and (left.one_on_ones or left.items):
            line += (
                f" {_work(left.one_on_ones, left.items).capitalize()} of "
                f"{_whose(left.formers)} wait for the next lead."
            )
        lines.append(line)
    for w in waiting.values():
        if w.one_on_ones or w.items:
            lines.append(
                f"{w.team} has no lead: {_work(w.one_on_ones, w.items)} of "
                f"{_whose(w.formers)} wait for one."
            )
    for name in b.lost_manager:
        lines.append(f"{name} has no manager now.")
    return lines


def handover_messages(ctx: HandlerContext, settled: Settled) -> list[OutboxNew]:
    """The messages a hand-over sends: to each lead who received work, and to each agent
    whose 1:1 now has another lead."""
    # Each change is one event: its own stamp (a clock may repeat a moment; tests' does).
    stamp = ctx.now().strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(4)
    out: list[OutboxNew] = []
    for work in settled.handed:
        lead = work.lead
        if lead is None or lead.id is None:
            continue
        key = f"handover:{work.team.id}:{lead.id}:{stamp}"
        out.append(person_message(ctx, lead, _to_lead(work), dedupe_key=key))
        for h in work.one_on_ones:
            if h.ended or h.agent.id is None or not h.agent.active:
                continue
            reply = _to_agent(lead, work.team.name, h.one_on_one.next_at, h.agent)
            key = f"handover:1on1:{h.one_on_one.id}:{stamp}"
            out.append(person_message(ctx, h.agent, reply, dedupe_key=key))
    return out


def _to_lead(work: TeamWork) -> Reply:
    kept = [h for h in work.one_on_ones if not h.ended]
    formers = sorted(
        {h.former.display_name for h in work.one_on_ones}
        | {h.former.display_name for h in work.items}
    )
    what = _work(len(kept), len(work.items)) or "the work"
    text = f"You now have {what} in *{work.team.name}* that {_whose(formers)} led."
    blocks: list[Block] = [Header(f"Handed over in {work.team.name}"), Text(text)]
    if kept:
        names = ", ".join(sorted({h.agent.display_name for h in kept}))
        blocks.append(Text(f"1:1s with {names}, at the same times."))
    blocks.append(Context("See them with `/1on1 list` and `/action list`."))
    return Reply(blocks=blocks, text=text.replace("*", ""))


def _to_agent(lead: Person, team: str, next_at: dt.datetime | None, agent: Person) -> Reply:
    text = f"Your 1:1s are now with *{lead.display_name}*, {team}'s lead."
    blocks: list[Block] = [Text(text)]
    if next_at is not None:
        blocks.append(Context(f"The next one stays at {fmt_local(next_at, agent.timezone)}."))
    return Reply(blocks=blocks, text=text.replace("*", ""))
