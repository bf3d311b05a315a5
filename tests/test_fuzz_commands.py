"""Property test: any text thrown at any command gives a Reply, never an exception, and a
refused command writes nothing."""

from __future__ import annotations

import asyncio
import datetime as dt

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import SQLModel

from bot.console import parse_line
from domain.errors import UsageError
from domain.roles import Role
from domain.types import Action, Reply
from handlers.core.dispatch import run_action, run_command
from handlers.registry import build_registry
from storage.catalogue import ensure_reference_data
from storage.db import Database
from storage.models import Person
from tests.conftest import FakeClock, actor_of, make_ctx, make_person, make_team

VERBS = [c.verb for c in build_registry().commands]

nasty_words = st.sampled_from(
    [
        "'; DROP TABLE person; --",
        "<script>alert(1)</script>",
        "*bold*",
        "```",
        "@maria.lopez",
        "@nobody",
        "<@U123|x>",
        "#ownership",
        "#",
        "due",
        "tomorrow",
        "1999-01-01",
        "2026-02-30",
        "9" * 40,
        "-1",
        "NaN",
        "inf",
        ">=",
        "<=",
        "300s",
        "90%",
        "team",
        "Billing",
        "\u202e",
        "\x00",
        "zalgo\u0301\u0301\u0301",
        '"unclosed',
        "week",
        "all",
        "every",
        "mon",
        "25:99",
    ]
)
word = st.one_of(nasty_words, st.text(min_size=1, max_size=30))
arg_text = st.one_of(
    st.lists(word, max_size=12).map(" ".join),
    st.text(max_size=300),
    st.text(min_size=4000, max_size=6000),
)


async def _counts(db: Database) -> dict[str, int]:
    async with db.engine.connect() as conn:
        out = {}
        for table in SQLModel.metadata.sorted_tables:
            out[table.name] = int(
                (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()
            )
        return out


def test_every_command_survives_arbitrary_text() -> None:
    loop = asyncio.new_event_loop()
    clock = FakeClock(dt.datetime(2026, 11, 17, 10, 0, tzinfo=dt.UTC))

    async def setup() -> tuple[Database, list[Person]]:
        db = Database("sqlite+aiosqlite://")
        await db.create_all()
        await ensure_reference_data(db)
        team = await make_team(db)
        other = await make_team(db, "Tech Support", "America/New_York")
        people = [
            await make_person(db, "maria.lopez", team=team),
            await make_person(db, "lee.lead", role=Role.lead, team=team),
            await make_person(db, "olga.other", role=Role.lead, team=other),
            await make_person(db, "mona.manager", role=Role.manager, team=team),
            await make_person(db, "ada.admin", role=Role.admin),
        ]
        return db, people

    db, people = loop.run_until_complete(setup())
    ctx = make_ctx(db, clock, leadbot_secret="fuzz")

    @settings(
        max_examples=300,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        verb=st.sampled_from(VERBS),
        text=arg_text,
        who=st.integers(min_value=0, max_value=len(people) - 1),
    )
    def check(verb: str, text: str, who: int) -> None:
        async def one() -> None:
            before = await _counts(db)
            try:
                cmd = await parse_line(db, actor_of(people[who]), f"/{verb} {text}")
            except UsageError:  # too long to parse: the adapters answer it as a usage error
                return
            reply = await run_command(cmd, ctx)
            assert isinstance(reply, Reply)
            assert reply.fallback or reply.blocks
            assert "Traceback" not in reply.fallback
            assert "something went wrong on our side" not in reply.fallback, (verb, text)
            if not reply.ok:
                assert await _counts(db) == before, (verb, text, reply.fallback)

        loop.run_until_complete(one())

    try:
        check()
    finally:
        loop.run_until_complete(db.dispose())
        loop.close()


# --- extreme numbers and dates on every command and button ------------------------------

# Numbers people (or scripts) type: huge, tiny, negative, many digits, not finite.
extreme_number = st.one_of(
    st.integers(min_value=-(10**500), max_value=10**500).map(str),
    st.integers(min_value=-3, max_value=3).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(min_value=-1e-300, max_value=1e-300).map(str),
    st.integers(min_value=1, max_value=600).map(lambda n: "9" * n),
    st.integers(min_value=1, max_value=400).map(lambda n: "0." + "0" * n + "1"),
    st.integers(min_value=1, max_value=400).map(lambda n: "1" + "0" * n + ".5"),
    st.sampled_from(["1e999", "-1e999", "-0", "+0", "²", "٣", "1_000", "0x1f", "½", "1e-400"]),
)
unit = st.sampled_from(["", "s", "%", "m", "pts", ":00", "h", "d"])
extreme_date = st.one_of(
    st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)).map(str),
    st.tuples(
        st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)),
        st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)),
    ).map(lambda ab: f"{ab[0]}..{ab[1]}"),
    extreme_number.map(lambda n: f"in {n} days"),
    extreme_number.map(lambda n: f"in {n} months"),
    st.sampled_from(["0000-00-00", "9999-99-99", "2026-02-30", "1999-12-31", "next friday"]),
)

# Every command's forms with a number or a date where it takes one: {n} a number, {u} a
# unit, {d} a date. Every verb of the registry appears (checked below).
TEMPLATES = [
    "/stats {d}",
    "/stats aht {d}",
    "/stats me {d}",
    "/stats team Billing csat {d}",
    "/stats @maria.lopez {d}",
    "/goal set aht <= {n}{u}",
    "/goal set csat >= {n}{u} weekly",
    "/goal set nps >= {n}{u} team Billing",
    "/goal set aht <={n}{u}",
    "/goal clear aht {n}",
    "/action me call back due {d}",
    "/action @maria.lopez call back due {d} metric aht <= {n}{u}",
    "/action me shorten wrap-up metric csat >= {n}{u}",
    "/action show {n}",
    "/action done {n} {n}",
    "/action due {n} {d}",
    "/action due 1 {d}",
    "/action accept {n}",
    "/action cancel {n}",
    "/action approve {n}",
    "/action decline {n} {n}",
    "/action reassign {n} @maria.lopez",
    "/1on1 schedule @maria.lopez every {n} weeks mon 10:00",
    "/1on1 schedule @maria.lopez every 2 weeks mon {n}{u}",
    "/1on1 schedule @maria.lopez every 2 weeks tue 10:00 duration {n}{u}",
    "/1on1 move @maria.lopez {d} 10:00",
    "/1on1 move @maria.lopez {d} {n}{u}",
    "/1on1 skip @maria.lopez {n}",
    "/1on1 agenda {n}",
    "/kudos top {n}",
    "/kudos @maria.lopez {n}{u}",
    "/kudos values add {n}",
    "/pulse results weeks {n}",
    "/pulse schedule weekly fri {n}{u}",
    "/pulse schedule monthly {n} 15:00",
    "/pulse now team {n}",
    "/pulse question {n}",
    "/pulse enps {n}",
    "/leadbot team create T{n} tz={n}",
    "/leadbot team add @maria.lopez {n} as agent",
    "/leadbot help {n}",
    "/alert add sl < {n}{u} {n}{u} for {n}{u} clear {n}{u}",
    "/alert add waiting > {n} {n} cooldown {n}{u} escalate {n}{u}",
    "/alert edit {n} warning {n} critical {n}",
    "/alert pause {n}",
    "/alert resume {n}",
    "/alert remove {n}",
    "/alert history days {n}",
    "/wallboard on every {n}{u}",
    "/wallboard off team {n}",
]
BUTTONS = [
    ("action.show", "{n}"),
    ("action.done", "{n}"),
    ("action.accept", "{n}"),
    ("action.help", "{n}"),
    ("action.achieved", "{n}"),
    ("action.approve", "{n}:{n}"),
    ("action.decline", "{n}:{n}"),
    ("action.create", "one_on_one:{n}:{n}"),
    ("action.create", "pulse:{n}:{n}"),
    ("action.create", "meeting:x:{n}"),
    ("oneonone.prep", "{n}"),
    ("oneonone.done", "{n}"),
    ("pulse.answer", "{n}:esat:{n}"),
    ("pulse.comment", "{n}"),
    ("kudos.suggest.post", "{n}"),
    ("kudos.suggest.dismiss", "{n}"),
    ("alert.ack", "{n}"),
]


def test_every_verb_has_extreme_templates() -> None:
    assert {t.split()[0].lstrip("/") for t in TEMPLATES} == set(VERBS)


def test_extreme_numbers_and_dates_never_crash() -> None:
    """Huge, tiny and negative numbers, hundreds of digits, dates from year 1 to 9999, on
    every command and button: each is answered, never "went wrong on our side"."""
    loop = asyncio.new_event_loop()
    clock = FakeClock(dt.datetime(2026, 11, 17, 10, 0, tzinfo=dt.UTC))

    async def setup() -> tuple[Database, list[Person]]:
        db = Database("sqlite+aiosqlite://")
        await db.create_all()
        await ensure_reference_data(db)
        team = await make_team(db)
        people = [
            await make_person(db, "maria.lopez", team=team),
            await make_person(db, "lee.lead", role=Role.lead, team=team),
            await make_person(db, "mona.manager", role=Role.manager, team=team),
            await make_person(db, "ada.admin", role=Role.admin),
        ]
        return db, people

    db, people = loop.run_until_complete(setup())
    ctx = make_ctx(db, clock, leadbot_secret="fuzz")

    async def items() -> None:  # something for the ids to hit: an assigned and an own item
        lead = actor_of(people[1])
        for line in ("/action @maria.lopez call back due friday", "/action me own thing"):
            assert (await run_command(await parse_line(db, lead, line), ctx)).ok

    loop.run_until_complete(items())

    @settings(
        max_examples=400,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        template=st.sampled_from(TEMPLATES),
        button=st.sampled_from(BUTTONS),
        n=extreme_number,
        u=unit,
        d=extreme_date,
        who=st.integers(min_value=0, max_value=len(people) - 1),
    )
    def check(template: str, button: tuple[str, str], n: str, u: str, d: str, who: int) -> None:
        async def one() -> None:
            actor = actor_of(people[who])
            line = template.replace("{n}", n)
            line = line.replace("{u}", u).replace("{d}", d)
            try:
                cmd = await parse_line(db, actor, line)
            except UsageError:  # too long to parse: the adapters answer it as a usage error
                cmd = None
            if cmd is not None:
                reply = await run_command(cmd, ctx)
                assert reply.fallback or reply.blocks
                assert "something went wrong on our side" not in reply.fallback, line
            action_id, value = button
            value = value.replace("{n}", n)
            pressed = await run_action(Action(actor, action_id, value), ctx)
            assert "went wrong on our side" not in pressed.fallback, (action_id, n)

        loop.run_until_complete(one())

    try:
        check()
    finally:
        loop.run_until_complete(db.dispose())
        loop.close()


PULSE_WORDS = ["status", "schedule", "now", "question", "enps", "results", "mine", "help", ""]


async def _pulse_state(db: Database) -> str:
    """Every pulse row, to catch in-place edits (a changed score, comment or schedule)."""
    async with db.engine.connect() as conn:
        parts = []
        for table in ("pulseschedule", "pulseround", "pulsedelivery", "pulseresponse"):
            rows = (await conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY 1"))).all()  # noqa: S608
            parts.append(repr(rows))
        return "\n".join(parts)


def test_pulse_survives_arbitrary_text_and_buttons() -> None:
    """Every `/pulse` sub-command with any words after it, and the pulse buttons with any
    value and any comment, pressed by anyone: a Reply, never an error of ours, and a
    refusal changes nothing."""
    loop = asyncio.new_event_loop()
    clock = FakeClock(dt.datetime(2026, 11, 17, 10, 0, tzinfo=dt.UTC))

    async def setup() -> tuple[Database, list[Person], int]:
        db = Database("sqlite+aiosqlite://")
        await db.create_all()
        await ensure_reference_data(db)
        team = await make_team(db)
        other = await make_team(db, "Tech Support", "America/New_York")
        people = [
            await make_person(db, "maria.lopez", team=team),
            await make_person(db, "lee.lead", role=Role.lead, team=team),
            await make_person(db, "olga.other", role=Role.lead, team=other),
            await make_person(db, "mona.manager", role=Role.manager, team=team),
            await make_person(db, "ada.admin", role=Role.admin),
            await make_person(db, "oliver.bennett", team=team),
        ]
        ctx = make_ctx(db, clock, leadbot_secret="fuzz")
        reply = await run_command(await parse_line(db, actor_of(people[1]), "/pulse now"), ctx)
        assert reply.ok, reply.text
        async with db.engine.connect() as conn:
            rid = (await conn.execute(sa.text("SELECT max(id) FROM pulseround"))).scalar_one()
        return db, people, int(rid)

    db, people, rid = loop.run_until_complete(setup())
    ctx = make_ctx(db, clock, leadbot_secret="fuzz")
    values = st.one_of(
        st.text(max_size=40),
        st.builds(
            lambda r, q, n: f"{r}:{q}:{n}",
            st.sampled_from([rid, rid + 1, 0, -1, 10**13]),
            st.sampled_from(["esat", "enps", "nps", "", "ESAT"]),
            st.integers(min_value=-3, max_value=120),
        ),
        st.sampled_from([str(rid), f" {rid} ", f"{rid}:esat:3:9", "", "0"]),
    )

    @settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        sub=st.sampled_from(PULSE_WORDS),
        text=arg_text,
        action_id=st.sampled_from(["pulse.answer", "pulse.comment", "pulse.other", "pulse"]),
        value=values,
        note=st.one_of(st.none(), st.text(max_size=1200), st.sampled_from(["", " ", "x" * 1001])),
        who=st.integers(min_value=0, max_value=len(people) - 1),
    )
    def check(sub: str, text: str, action_id: str, value: str, note: str | None, who: int) -> None:
        async def one() -> None:
            actor = actor_of(people[who])
            before = await _counts(db), await _pulse_state(db)
            try:
                cmd = await parse_line(db, actor, f"/pulse {sub} {text}")
            except UsageError:
                cmd = None
            if cmd is not None:
                reply = await run_command(cmd, ctx)
                assert "something went wrong on our side" not in reply.fallback, (sub, text)
                if not reply.ok:
                    assert (await _counts(db), await _pulse_state(db)) == before, (sub, text)
            before = await _counts(db), await _pulse_state(db)
            form = {} if note is None else {"comment": note}
            reply = await run_action(Action(actor, action_id, value, form=form), ctx)
            assert isinstance(reply, Reply)
            assert "something went wrong on our side" not in reply.fallback, (action_id, value)
            if not reply.ok:
                assert (await _counts(db), await _pulse_state(db)) == before, (action_id, value)

        loop.run_until_complete(one())

    try:
        check()
    finally:
        loop.run_until_complete(db.dispose())
        loop.close()
