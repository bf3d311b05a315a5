"""The console adapter: scripted lines through the real dispatcher, buttons, forms, outbox."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io

import pytest

from bot.console import GUEST, Console, ListSource, actor_from, default_actor
from domain.parsing import Args
from domain.roles import Role
from domain.shifts import DAYS
from domain.types import Action, Actor, Button, Buttons, Command, Form, FormField, Reply, Text
from handlers.core.context import ActionSpec, CommandSpec, HandlerContext, Registry
from handlers.core.notify import notify_person, send, team_message
from storage import outbox
from storage.db import Database
from storage.demo import DEFAULT_USER_EMAIL
from storage.models import OutboxStatus, Person
from tests.conftest import FakeClock, make_ctx, make_person, make_team

PRESSED: list[Action] = []


async def _ping(cmd: Command, _args: Args, ctx: HandlerContext) -> Reply:
    """A fake command: buttons, and a DM and a channel post for other people."""
    team_id = cmd.actor.team_id
    assert team_id is not None
    from storage import people

    for p in await people.list_people(ctx.db, team_id=team_id):
        if p.id != cmd.actor.person_id:
            card = Reply(
                blocks=[
                    Text(f"Hi {p.display_name}, *how was your week?*"),
                    Buttons((Button("Great", "fake.ok", f"dm:{p.id}"),)),
                ],
                text="pulse",
            )
            await notify_person(ctx, p, card, dedupe_key=f"ping:{p.id}:{cmd.raw}")
    await send(
        ctx, [team_message(team_id, Reply(blocks=[Text("Team post")]), dedupe_key=f"t:{cmd.raw}")]
    )
    form = Form(
        "Add a note",
        "fake.note",
        "7",
        (FormField("note", "Note", optional=False), FormField("mood", "Mood")),
    )
    return Reply(
        blocks=[
            Text("Pong"),
            Buttons(
                (
                    Button("Accept", "fake.ok", "42", "primary"),
                    Button("Note", "fake.note", "7", None, form),
                )
            ),
        ]
    )


async def _fake_action(action: Action, ctx: HandlerContext) -> Reply:
    PRESSED.append(action)
    if action.action_id == "fake.note":
        if len(action.form.get("note", "")) > 10:
            return Reply(errors={"note": "too long"}, ok=False)
        return Reply(blocks=[Text(f"Noted {action.form['note']!r} mood={action.form['mood']!r}")])
    return Reply(blocks=[Text(f"Accepted {action.value} as {action.actor.name}")])


PING = CommandSpec("ping", "a test command", ("/ping",), _ping)


def with_fakes(base: Registry) -> Registry:
    """The real registry plus /ping and the `fake.*` buttons, registered like features."""
    return dataclasses.replace(
        base,
        commands=(*base.commands, PING),
        actions=(*base.actions, ActionSpec("fake", _fake_action)),
    )


@pytest.fixture(autouse=True)
def fake_commands() -> None:
    PRESSED.clear()


@pytest.fixture
def now_clock() -> FakeClock:
    # The outbox stamps rows with the real time, so the console's clock starts there too.
    return FakeClock(dt.datetime.now(dt.UTC))


@pytest.fixture
def cctx(db: Database, now_clock: FakeClock) -> HandlerContext:
    ctx = make_ctx(db, now_clock)
    return dataclasses.replace(ctx, registry=with_fakes(ctx.registry))


async def _people(db: Database, now: dt.datetime) -> tuple[Person, Person, Person]:
    team = await make_team(db, "Billing", "UTC")
    lead = await make_person(db, "sam.carter", role=Role.lead, team=team, tz="UTC")
    # Works only a day that is two days away, so right now she is off: messages are held.
    off_day = DAYS[(now.weekday() + 2) % 7].capitalize()
    maria = await make_person(
        db, "maria.lopez", team=team, tz="UTC", work_hours=f"{off_day} 09:00-10:00"
    )
    boss = await make_person(db, "alex.morgan", role=Role.lead, team=team, tz="UTC")
    return lead, maria, boss


async def _run(ctx: HandlerContext, who: Person, lines: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    console = Console(ctx, actor_from(who), out, ListSource(lines))
    code = await console.run()
    return code, out.getvalue()


async def test_help_and_end_of_input(cctx: HandlerContext, now_clock: FakeClock) -> None:
    lead, _, _ = await _people(cctx.db, now_clock.now)
    code, out = await _run(cctx, lead, ["/leadbot help", "", "# a comment"])
    assert code == 0
    assert "you are Sam Carter <sam.carter@example.com> (lead)" in out
    assert "> /leadbot help" in out
    assert "leadbot commands" in out
    assert "/ping" in out
    assert "a test command" in out
    assert "a comment" not in out


async def test_unknown_command_shows_help(cctx: HandlerContext, now_clock: FakeClock) -> None:
    lead, _, _ = await _people(cctx.db, now_clock.now)
    _, out = await _run(cctx, lead, ["/frobnicate now"])
    assert "I don't know the command `/frobnicate`" in out
    assert "leadbot commands" in out


async def test_console_commands(cctx: HandlerContext, now_clock: FakeClock) -> None:
    lead, _, _ = await _people(cctx.db, now_clock.now)
    _, out = await _run(
        cctx,
        lead,
        [
            "!help",
            "!as nobody@example.com",
            "!as ghost",
            "!as maria.lopez",
            "/leadbot whoami",
            "!whoami",
            "!bogus",
            "!as",
            "!quit",
            "/leadbot help",
        ],
    )
    assert "!press N" in out
    assert "!as EMAIL" in out
    assert "No one with the email nobody@example.com is on the roster." in out
    assert "No one called 'ghost' is on the roster." in out
    assert "You are now Maria Lopez <maria.lopez@example.com> (agent, Billing)." in out
    assert "role       agent" in out
    assert "Unknown console command !bogus." in out
    assert "Say who: !as EMAIL" in out
    # !quit stops reading: the last line never ran.
    assert out.count("leadbot commands") == 0


async def test_press_a_button(cctx: HandlerContext, now_clock: FakeClock) -> None:
    lead, _, _ = await _people(cctx.db, now_clock.now)
    _, out = await _run(cctx, lead, ["!press 1", "/ping", "!press 9", "!press x", "!press 1"])
    assert "There are no buttons in the last output." in out
    assert "[1] Accept   [2] Note…" in out
    assert "There is no button [9]" in out
    assert "Say which button: !press N" in out
    assert "Accepted 42 as Sam Carter" in out
    assert [(a.action_id, a.value, a.actor.person_id) for a in PRESSED] == [
        ("fake.ok", "42", lead.id)
    ]


async def test_form_button_prompts_for_fields(cctx: HandlerContext, now_clock: FakeClock) -> None:
    lead, _, _ = await _people(cctx.db, now_clock.now)
    lines = [
        "/ping",
        "!press 2",
        "",
        "way too long text",
        "",
        "short",
        "",
        "/ping",
        "!press 2",
        "!cancel",
    ]
    _, out = await _run(cctx, lead, lines)
    # An empty required field is asked again; a field error re-asks the form.
    assert "Note is required." in out
    assert "! note: too long" in out
    assert "Noted 'short' mood=''" in out
    assert "Cancelled; nothing was sent." in out
    notes = [a for a in PRESSED if a.action_id == "fake.note"]
    assert [a.form for a in notes] == [
        {"note": "way too long text", "mood": ""},
        {"note": "short", "mood": ""},
    ]
    assert all(a.value == "7" for a in notes)


async def test_outbox_messages_are_shown_with_recipients_and_marked_sent(
    cctx: HandlerContext, now_clock: FakeClock
) -> None:
    lead, _, _ = await _people(cctx.db, now_clock.now)
    await send(cctx, [team_message(lead.team_id or 0, Reply(text="old"), dedupe_key="old")])
    _, out = await _run(cctx, lead, ["/ping"])
    assert "old" not in out  # only messages from this session are shown
    assert "→ DM to Maria Lopez (held until " in out
    assert "(their time" in out
    assert "→ DM to Alex Morgan\n" in out  # a lead is not held
    assert "→ #Billing channel" in out
    assert "  │ Hi Maria Lopez, how was your week?" in out
    # Buttons on the shown messages continue the numbering after the reply's own two.
    assert "[3] Great" in out
    assert "[4] Great" in out
    rows = await outbox.messages_after(cctx.db, after_id=1)
    assert len(rows) == 3
    assert all(r.status is OutboxStatus.sent for r in rows)


async def test_buttons_on_someone_elses_dm_need_that_person(
    cctx: HandlerContext, now_clock: FakeClock
) -> None:
    lead, maria, _ = await _people(cctx.db, now_clock.now)
    _, out = await _run(
        cctx, lead, ["/ping", "!press 4", "!as maria.lopez@example.com", "!press 4"]
    )
    assert "That button is on a message to Maria Lopez; only they can press it." in out
    assert [(a.value, a.actor.person_id) for a in PRESSED] == [(f"dm:{maria.id}", maria.id)]


async def test_a_mention_is_resolved_against_the_roster(
    cctx: HandlerContext, now_clock: FakeClock
) -> None:
    await _people(cctx.db, now_clock.now)
    admin = await make_person(cctx.db, "ada.admin", role=Role.admin)
    _, out = await _run(
        cctx,
        admin,
        [
            "/leadbot team add @nobody.here Billing as agent",
            "/leadbot team add @maria.lopez Billing as lead",
        ],
    )
    assert "I don't know @nobody.here" in out
    assert "Maria Lopez is now the lead of Billing." in out


async def test_default_actor_prefers_the_demo_lead_then_admin(db: Database) -> None:
    assert await default_actor(db) is GUEST
    team = await make_team(db)
    agent = await make_person(db, "zed.agent", team=team)
    assert (await default_actor(db)).person_id == agent.id
    admin = await make_person(db, "ada.admin", role=Role.admin)
    assert (await default_actor(db)).person_id == admin.id
    sam = await make_person(db, DEFAULT_USER_EMAIL.split("@")[0], role=Role.lead, team=team)
    assert (await default_actor(db)).person_id == sam.id


async def test_guest_banner_when_roster_is_empty(cctx: HandlerContext) -> None:
    out = io.StringIO()
    code = await Console(cctx, GUEST, out, ListSource(["/leadbot help"])).run()
    assert code == 0
    assert "nobody is on the roster yet" in out.getvalue()
    assert "leadbot commands" in out.getvalue()


async def test_a_failing_line_does_not_end_the_session(
    cctx: HandlerContext, now_clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.console as console_mod
    from storage.db import DatabaseUnavailable

    lead, _, _ = await _people(cctx.db, now_clock.now)
    real = console_mod.parse_line
    failures: list[BaseException] = [RuntimeError("boom"), DatabaseUnavailable("down")]

    async def flaky(db: Database, actor: Actor, line: str, **kw: object) -> Command:
        if failures:
            raise failures.pop(0)
        return await real(db, actor, line)

    monkeypatch.setattr(console_mod, "parse_line", flaky)
    code, out = await _run(cctx, lead, ["/leadbot help", "/leadbot help", "/leadbot help"])
    assert code == 0
    assert "Sorry, that failed on our side (see the log). Nothing was changed." in out
    assert "The database isn't answering right now." in out
    assert out.count("leadbot commands") == 1


async def test_role_changes_apply_to_the_next_command(
    cctx: HandlerContext, now_clock: FakeClock
) -> None:
    await _people(cctx.db, now_clock.now)
    admin = await make_person(cctx.db, "ada.admin", role=Role.admin)
    out = io.StringIO()
    console = Console(
        cctx,
        actor_from(admin),
        out,
        ListSource([]),
    )
    await console.start()
    await console.handle("!as maria.lopez")
    from storage import people

    billing = await people.get_team_by_name(cctx.db, name="Billing")
    assert billing is not None
    roles = [console.actor.role]
    await people.assign_member(
        cctx.db, person_id=console.actor.person_id, team_id=billing.id or 0, role=Role.lead
    )
    await console.handle("/leadbot whoami")
    roles.append(console.actor.role)
    assert roles == [Role.agent, Role.lead]
    assert "role       lead" in out.getvalue()


async def test_a_deactivated_person_is_told_so_politely(
    cctx: HandlerContext, now_clock: FakeClock
) -> None:
    _, maria, _ = await _people(cctx.db, now_clock.now)
    admin = await make_person(cctx.db, "ada.admin", role=Role.admin)
    _, out = await _run(
        cctx,
        admin,
        [
            "/leadbot person deactivate @maria.lopez",
            "!as maria.lopez@example.com",
            "/stats me",
            "!press 1",
        ],
    )
    assert "Deactivated Maria Lopez <maria.lopez@example.com>." in out
    assert "They are deactivated: leadbot won't run their commands." in out
    assert out.count("Your leadbot account is deactivated, so I can't run this for you.") == 2
    # Switched off while acting as them: the next line is refused too.
    _, out2 = await _run(cctx, maria, ["/stats me"])
    assert "Your leadbot account is deactivated" in out2
