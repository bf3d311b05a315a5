"""The console adapter: one command per line, the same handlers, replies as text.

`leadbot console` and `leadbot demo` read commands from stdin (a terminal or a pipe),
run them through handlers.dispatch exactly as Slack and Teams do, and print each Reply.
Messages the bot enqueued for other people and channels are printed too, labelled with
their recipient, so a whole flow (a pulse DM, an action-item notice) shows on one screen.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
from dataclasses import dataclass
from typing import Protocol, TextIO

from bot.bootstrap import App
from bot.demo import seed_and_describe
from bot.mentions import resolve_handle
from bot.metrics import run_action, run_command
from bot.render_text import Rendered, render
from bot.web.demo import start_dashboard
from domain.errors import UsageError
from domain.localtime import local_now
from domain.parsing import split_words, tokenize
from domain.roles import Role
from domain.types import (
    Action,
    Actor,
    Button,
    Command,
    Form,
    Mention,
    Platform,
    Reply,
    UnresolvedMention,
)
from handlers.core.context import HandlerContext
from handlers.core.dispatch import TRY_AGAIN
from storage import outbox, people
from storage.db import Database, DatabaseUnavailable
from storage.demo import DEFAULT_USER_EMAIL
from storage.migrate import upgrade
from storage.models import OutboxMessage, Person

CONSOLE_HELP = """\
Console commands (anything else is a chat command, e.g. /leadbot help):
  !press N        press button [N] of the last output (a form asks for its fields)
  !as EMAIL       act as another person (an email, or a handle such as maria.lopez)
  !whoami         who you are acting as
  !help           this list
  !quit           leave (end of input or Ctrl-D works too)
Lines that are blank or start with # are ignored."""

log = logging.getLogger(__name__)

GUEST = Actor(person_id=0, email="guest@console", name="Guest", role=Role.agent, team_id=None)
MAX_FORM_ATTEMPTS = 3
# What a deactivated person is told, as the Slack and Teams adapters tell them.
INACTIVE_TEXT = (
    "Your leadbot account is deactivated, so I can't run this for you. "
    "Ask your leadbot admin if that is a mistake."
)


async def parse_line(
    db: Database, actor: Actor, line: str, *, platform: Platform = Platform.console
) -> Command:
    """`/kudos @maria.lopez great save` into a Command for `actor`."""
    text = line.strip()
    words = split_words(text)
    verb = words[0].lstrip("/").lower() if words else ""
    rest = text[len(text.split(None, 1)[0]) :].strip() if text else ""

    async def resolve(mention: str) -> Mention | UnresolvedMention:
        return await resolve_handle(db, mention)

    args = await tokenize(rest, resolve)
    return Command(actor=actor, verb=verb, args=args, raw=text, platform=platform)


def actor_from(p: Person) -> Actor:
    """The Actor behind a roster person."""
    assert p.id is not None
    return Actor(
        person_id=p.id,
        email=p.email,
        name=p.display_name,
        role=p.role,
        team_id=p.team_id,
        timezone=p.timezone,
    )


class LineSource(Protocol):
    """Where the console reads its lines from; None at end of input."""

    async def read(self, prompt: str) -> str | None: ...


class StdinSource:
    """Lines from stdin: with a prompt on a terminal, silently from a pipe."""

    def __init__(self, stream: TextIO, *, interactive: bool) -> None:
        self.stream = stream
        self.interactive = interactive

    async def read(self, prompt: str) -> str | None:
        # Blocking on purpose: the console is one user and nothing else runs meanwhile.
        if self.interactive:
            try:
                return input(prompt)  # noqa: ASYNC250  (see above)
            except EOFError:
                return None
        line = self.stream.readline()
        return None if line == "" else line.rstrip("\r\n")


class ListSource:
    """Lines from a list (tests and scripts)."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = list(lines)

    async def read(self, prompt: str) -> str | None:
        return self.lines.pop(0) if self.lines else None


@dataclass(frozen=True)
class Pressable:
    """A numbered button of the last output, and who the message carrying it was for."""

    button: Button
    for_person_id: int | None = None
    for_name: str = ""


class Console:
    """One console session: the current user, the last output's buttons, the outbox mark."""

    def __init__(
        self,
        ctx: HandlerContext,
        actor: Actor,
        out: TextIO,
        source: LineSource,
        *,
        interactive: bool = False,
        color: bool = False,
    ) -> None:
        self.ctx = ctx
        self.actor = actor
        self.out = out
        self.source = source
        self.interactive = interactive
        self.color = color
        self.pressables: list[Pressable] = []
        self.outbox_mark = 0
        self.inactive = False  # the person acted as is deactivated: they can't use commands

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    async def start(self) -> None:
        """Only messages enqueued from now on are shown."""
        self.outbox_mark = await outbox.last_id(self.ctx.db)

    @property
    def prompt(self) -> str:
        return f"{self.actor.email.split('@')[0]}> "

    def banner(self) -> str:
        if self.actor is GUEST:
            return (
                "leadbot console: nobody is on the roster yet, so you are a guest "
                "(run `leadbot demo` or `leadbot import roster FILE`). !help for console commands."
            )
        return (
            f"leadbot console: you are {self.actor.name} <{self.actor.email}> "
            f"({self.actor.role.value}). Switch with !as EMAIL; !help lists console commands."
        )

    async def run(self) -> int:
        """Read and handle lines until the end of input or !quit; returns the exit code."""
        await self.start()
        self.say(self.banner())
        while True:
            line = await self.source.read(self.prompt)
            if line is None:
                if self.interactive:
                    self.say()
                return 0
            try:
                if not await self.handle(line):
                    return 0
            except DatabaseUnavailable:
                self.say(TRY_AGAIN)
            except Exception:
                # One bad line must not end the session; the log has the details.
                log.exception("console line failed: %r", line[:200])
                self.say("Sorry, that failed on our side (see the log). Nothing was changed.")
            if self.interactive:
                self.say()

    async def handle(self, line: str) -> bool:
        """Handle one line; False means quit."""
        text = line.strip()
        if not text or text.startswith("#"):
            return True
        if not self.interactive:
            self.say(f"\n> {text}")
        if text.startswith("!"):
            return await self._console_command(text)
        await self._refresh_actor()
        if self.inactive:
            self.say(INACTIVE_TEXT)
            return True
        cmd = await self._parse(text)
        if cmd is None:
            return True
        reply = await run_command(cmd, self.ctx)
        await self._show(reply)
        return True

    async def _refresh_actor(self) -> None:
        # Like the Slack and Teams adapters, look the person up on every request, so a role
        # or team changed meanwhile (e.g. by `/leadbot team add`) applies at once.
        if self.actor is GUEST:
            return
        p = await people.get_person(self.ctx.db, person_id=self.actor.person_id)
        if p is not None:
            self.actor = actor_from(p)
            self.inactive = not p.active

    async def _parse(self, text: str) -> Command | None:
        try:
            return await parse_line(self.ctx.db, self.actor, text)
        except UsageError as exc:
            self.say(exc.message)
            return None

    async def _console_command(self, text: str) -> bool:
        words = text[1:].split()
        name = words[0].lower() if words else ""
        if name in ("quit", "exit", "q"):
            return False
        if name == "help":
            self.say(CONSOLE_HELP)
        elif name == "whoami":
            self.say(self.banner())
        elif name == "as":
            await self._switch(" ".join(words[1:]))
        elif name == "press":
            await self._refresh_actor()
            if self.inactive:
                self.say(INACTIVE_TEXT)
            else:
                await self._press(words[1:])
        else:
            self.say(f"Unknown console command !{name}.\n{CONSOLE_HELP}")
        return True

    async def _switch(self, who: str) -> None:
        who = who.strip()
        if not who:
            self.say("Say who: !as EMAIL (e.g. !as maria.lopez@example.com)")
            return
        person = await find_person(self.ctx.db, who)
        if isinstance(person, str):
            self.say(person)
            return
        self.actor = actor_from(person)
        self.inactive = not person.active
        team = (
            await people.get_team(self.ctx.db, team_id=person.team_id) if person.team_id else None
        )
        where = f", {team.name}" if team else ""
        off = " They are deactivated: leadbot won't run their commands." if self.inactive else ""
        self.say(
            f"You are now {person.display_name} <{person.email}> ({person.role.value}{where})."
            + off
        )

    async def _press(self, words: list[str]) -> None:
        if len(words) != 1 or not words[0].isdigit():
            self.say("Say which button: !press N (the number in [N]).")
            return
        n = int(words[0])
        if not self.pressables:
            self.say("There are no buttons in the last output.")
            return
        if not 1 <= n <= len(self.pressables):
            self.say(
                f"There is no button [{n}]; the last output has [1] to [{len(self.pressables)}]."
            )
            return
        p = self.pressables[n - 1]
        if p.for_person_id is not None and p.for_person_id != self.actor.person_id:
            self.say(
                f"That button is on a message to {p.for_name}; only they can press it. "
                f"Switch with !as first."
            )
            return
        b = p.button
        if b.form is not None:
            values = await self._fill(b.form)
            if values is None:
                self.say("Cancelled; nothing was sent.")
                return
            action = Action(self.actor, b.form.action_id, b.form.value, values)
            await self._submit(action, b.form)
            return
        reply = await run_action(Action(self.actor, b.action_id, b.value), self.ctx)
        await self._show(reply)

    async def _submit(self, action: Action, form: Form) -> None:
        for _ in range(MAX_FORM_ATTEMPTS):
            reply = await run_action(action, self.ctx)
            if not reply.errors:
                await self._show(reply)
                return
            self.say("\n".join(f"! {k}: {v}" for k, v in reply.errors.items()))
            values = await self._fill(form, keep=action.form)
            if values is None:
                self.say("Cancelled; nothing was sent.")
                return
            action = Action(self.actor, action.action_id, action.value, values)
        self.say("Giving up on this form after several tries; nothing was sent.")

    async def _fill(self, form: Form, keep: dict[str, str] | None = None) -> dict[str, str] | None:
        """Ask for each field on the next lines; None when cancelled or input ended."""
        self.say(f"{form.title} (answer each line; !cancel to stop)")
        values: dict[str, str] = {}
        for f in form.fields:
            initial = (keep or {}).get(f.name) or f.initial
            label = f.label + (" (optional)" if f.optional else "")
            if initial:
                label += f" [{initial}]"
            if f.multiline:
                label += " (\\n for a new line)"
            for _ in range(MAX_FORM_ATTEMPTS):
                line = await self.source.read(f"  {label}: ")
                if line is None or line.strip().lower() == "!cancel":
                    return None
                if not self.interactive:
                    self.say(f"  {label}: {line}")
                value = line.strip()
                if f.multiline:
                    value = value.replace("\\n", "\n")
                if not value and initial:
                    value = initial
                if value or f.optional:
                    values[f.name] = value
                    break
                self.say(f"  {f.label} is required.")
            else:
                return None
        return values

    async def _show(self, reply: Reply) -> None:
        shown = render(reply, color=self.color)
        pressables = [Pressable(b) for b in shown.buttons]
        self.say(shown.text)
        if reply.form is not None:
            values = await self._fill(reply.form)
            if values is None:
                self.say("Cancelled; nothing was sent.")
            else:
                form = reply.form
                await self._submit(Action(self.actor, form.action_id, form.value, values), form)
                return
        pressables += await self._show_outbox(first_button=len(pressables) + 1)
        self.pressables = pressables

    async def show_new_messages(self) -> None:
        """Print what was enqueued for others since the last look (`leadbot demo live`
        shows the alert job's posts and edits this way)."""
        self.pressables = await self._show_outbox(first_button=1)

    async def _show_outbox(self, *, first_button: int) -> list[Pressable]:
        """Print what the bot enqueued for others since the last look; mark console rows sent."""
        db = self.ctx.db
        found: list[Pressable] = []
        while True:
            batch = await outbox.messages_after(db, after_id=self.outbox_mark)
            if not batch:
                return found
            for m in batch:
                assert m.id is not None
                self.outbox_mark = m.id
                label, for_id, for_name = await self._label(m)
                try:
                    reply = Reply.from_json(m.payload)
                except (ValueError, KeyError, TypeError):
                    self.say(f"\n{label}\n  │ (a message this console cannot show)")
                    continue
                shown: Rendered = render(reply, first_button=first_button + len(found), notes=False)
                body = "\n".join(f"  │ {line}".rstrip() for line in shown.text.splitlines())
                self.say(f"\n{label}\n{body}")
                found += [Pressable(b, for_id, for_name) for b in shown.buttons]
                if m.platform == Platform.console.value:
                    await outbox.mark_sent(db, message_id=m.id, external_ref="console")

    async def _label(self, m: OutboxMessage) -> tuple[str, int | None, str]:
        db = self.ctx.db
        tz = "UTC"
        for_id: int | None = None
        name = ""
        if m.recipient_person_id is not None:
            person = await people.get_person(db, person_id=m.recipient_person_id)
            name = person.display_name if person else f"person {m.recipient_person_id}"
            tz = person.timezone if person else tz
            for_id = m.recipient_person_id
            label = f"→ DM to {name}"
        else:
            team = await people.get_team(db, team_id=m.recipient_team_id or 0)
            name = team.name if team else f"team {m.recipient_team_id}"
            tz = team.timezone if team else tz
            label = f"→ #{name} channel"
        notes = []
        if m.kind != "message":
            notes.append("updates an earlier message")
        if m.platform != Platform.console.value:
            notes.append(f"via {m.platform}, sent by the dispatcher")
        # Held: due later than both its enqueueing and now (quiet hours, a set time).
        if m.next_attempt_at > max(m.created_at, self.ctx.now()) + dt.timedelta(seconds=1):
            local = local_now(m.next_attempt_at, tz)
            whose = "their" if m.recipient_person_id is not None else "the team's"
            notes.append(f"held until {local:%a %H:%M} ({whose} time, {local:%d %b})")
        if notes:
            label += " (" + "; ".join(notes) + ")"
        return label, for_id, name


async def find_person(db: Database, who: str) -> Person | str:
    """A roster person by email or handle, or a message saying why not."""
    who = who.strip()
    if "@" in who.strip("@"):
        p = await people.get_by_email(db, email=who)
        if p is not None:
            return p
        return f"No one with the email {who} is on the roster."
    found = await people.find_by_handle(db, handle=who)
    if len(found) == 1:
        return found[0]
    if found:
        emails = ", ".join(p.email for p in found[:5])
        return f"Several people match {who!r} ({emails}); give the email."
    return f"No one called {who!r} is on the roster."


async def default_actor(db: Database) -> Actor:
    """The demo's default user when present; else an admin, a lead, anyone; else a guest."""
    p = await people.get_by_email(db, email=DEFAULT_USER_EMAIL)
    if p is not None:
        return actor_from(p)
    everyone = await people.list_people(db)
    for role in (Role.admin, Role.lead, Role.manager, Role.agent):
        for p in everyone:
            if p.role is role:
                return actor_from(p)
    return GUEST


def _use_color(stream: TextIO) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


async def main(app: App, args: argparse.Namespace) -> int:
    """`leadbot demo [--seed-only] [--as EMAIL]` and `leadbot console [--as EMAIL]`."""
    db, ctx = app.db, app.ctx
    try:
        await upgrade(db)
        if args.cmd == "demo":
            print(await seed_and_describe(ctx), flush=True)
            if getattr(args, "seed_only", False):
                return 0
            served = start_dashboard(app)  # the web dashboard beside the console
            ctx = served.app.ctx
            print(served.note, flush=True)
        if args.as_email:
            found = await find_person(db, args.as_email)
            if isinstance(found, str):
                print(found + " Try `leadbot demo` first, or !as with another email.")
                return 2
            actor = actor_from(found)
        else:
            actor = await default_actor(db)
        interactive = sys.stdin.isatty()
        console = Console(
            ctx,
            actor,
            sys.stdout,
            StdinSource(sys.stdin, interactive=interactive),
            interactive=interactive,
            color=interactive and _use_color(sys.stdout),
        )
        return await console.run()
    finally:
        await db.dispose()
