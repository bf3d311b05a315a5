"""`/leadbot`: help, whoami, and the admin commands that set up teams."""

from __future__ import annotations

import pytest

from domain.roles import Role
from domain.types import Context, Header, Table, Text
from handlers.core.context import HandlerContext
from handlers.core.dispatch import run_command
from storage import people
from storage.models import Person
from tests.conftest import command, make_person, make_team


def _text(reply: object) -> str:
    from bot.render_text import render_text

    return render_text(reply)  # type: ignore[arg-type]


async def _admin(ctx: HandlerContext) -> Person:
    return await make_person(ctx.db, "ada.admin", role=Role.admin)


async def _state(ctx: HandlerContext) -> list[tuple[str, str, int | None, int | None]]:
    return [(t.name, t.timezone, t.lead_id, t.manager_id) for t in await people.list_teams(ctx.db)]


async def test_help_lists_every_command(ctx: HandlerContext) -> None:
    agent = await make_person(ctx.db, "maria.lopez")
    reply = await run_command(await command(ctx.db, agent, "/leadbot"), ctx)
    assert reply.ok
    assert isinstance(reply.blocks[0], Header)
    table = next(b for b in reply.blocks if isinstance(b, Table))
    assert [r[0] for r in table.rows] == [f"/{c.verb}" for c in ctx.registry.commands]
    again = await run_command(await command(ctx.db, agent, "/leadbot help"), ctx)
    assert again.text == reply.text


async def test_help_for_one_command(ctx: HandlerContext) -> None:
    agent = await make_person(ctx.db, "maria.lopez")
    reply = await run_command(await command(ctx.db, agent, "/leadbot help leadbot"), ctx)
    assert reply.blocks[0] == Header("/leadbot")
    assert "/leadbot team create NAME [tz=Area/City]" in reply.text
    assert any(isinstance(b, Context) and "Examples" in b.text for b in reply.blocks)
    missing = await run_command(await command(ctx.db, agent, "/leadbot help nosuch"), ctx)
    assert "There is no `/nosuch` command." in missing.text


async def test_unknown_verb_and_subcommand_show_help(ctx: HandlerContext) -> None:
    agent = await make_person(ctx.db, "maria.lopez")
    reply = await run_command(await command(ctx.db, agent, "/teleport home"), ctx)
    assert not reply.ok
    assert "I don't know the command `/teleport`" in reply.text
    sub = await run_command(await command(ctx.db, agent, "/leadbot dance now"), ctx)
    assert not sub.ok
    assert "I don't know `/leadbot dance now`." in sub.text
    assert "Usage:" in sub.text


async def test_whoami(ctx: HandlerContext) -> None:
    team = await make_team(ctx.db)
    agent = await make_person(ctx.db, "maria.lopez", team=team)
    reply = await run_command(await command(ctx.db, agent, "/leadbot whoami"), ctx)
    assert "role       agent" in _text(reply)
    assert "team       Billing" in _text(reply)


async def test_team_create_add_and_list(ctx: HandlerContext) -> None:
    admin = await _admin(ctx)
    created = await run_command(
        await command(ctx.db, admin, "/leadbot team create Tech  Support tz=America/New_York"), ctx
    )
    assert created.ok
    assert "Team *Tech Support* created (time zone America/New_York)." in created.text
    default_tz = await run_command(
        await command(ctx.db, admin, "/leadbot team create Billing"), ctx
    )
    assert "(time zone UTC)" in default_tz.text
    lead = await make_person(ctx.db, "sam.carter")
    agent = await make_person(ctx.db, "maria.lopez")
    boss = await make_person(ctx.db, "alex.morgan")
    for line, expect in (
        (
            "/leadbot team add @sam.carter tech support as lead",
            "Sam Carter is now the lead of *Tech Support*.",
        ),
        (
            "/leadbot team add @maria.lopez Tech Support as agent",
            "Maria Lopez is now an agent in *Tech Support*.",
        ),
        (
            "/leadbot team add @alex.morgan Tech Support as manager",
            "Alex Morgan now manages *Tech Support*.",
        ),
    ):
        reply = await run_command(await command(ctx.db, admin, line), ctx)
        assert reply.text == expect
    listing = await run_command(await command(ctx.db, agent, "/leadbot team list"), ctx)
    table = next(b for b in listing.blocks if isinstance(b, Table))
    assert table.rows == (
        ("Billing", "UTC", "-", "-", "0"),
        ("Tech Support", "America/New_York", "Sam Carter", "Alex Morgan", "1"),
    )
    stored = await people.get_person(ctx.db, person_id=lead.id or 0)
    assert stored
    assert stored.role is Role.lead
    assert (await people.get_person(ctx.db, person_id=boss.id or 0)).role is Role.manager  # type: ignore[union-attr]


async def test_empty_team_list(ctx: HandlerContext) -> None:
    agent = await make_person(ctx.db, "maria.lopez")
    reply = await run_command(await command(ctx.db, agent, "/leadbot team list"), ctx)
    assert reply.blocks == [Text("There are no teams yet.")]


@pytest.mark.parametrize("role", [Role.agent, Role.lead, Role.manager])
async def test_only_admins_set_up_teams(ctx: HandlerContext, role: Role) -> None:
    team = await make_team(ctx.db)
    person = await make_person(ctx.db, "not.admin", role=role, team=team)
    before = await _state(ctx)
    for line in ("/leadbot team create Retention", "/leadbot team add @not.admin Billing as lead"):
        reply = await run_command(await command(ctx.db, person, line), ctx)
        assert not reply.ok
        assert reply.text == "Only admins can set up teams."
    assert await _state(ctx) == before


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("/leadbot team create", "Give the team a name."),
        ("/leadbot team create tz=Europe/Paris", "Give the team a name."),
        ("/leadbot team create Paris tz=Europe/Pariss", "Unknown time zone 'Europe/Pariss'"),
        ("/leadbot team create " + "x" * 81, "A team name can be 80 characters at most."),
        ("/leadbot team create billing", "There is already a team called billing."),
        ("/leadbot team create Team @maria.lopez", "A team name can't contain a mention"),
        ("/leadbot team add", "Missing a person (@name)."),
        ("/leadbot team add Billing as agent", "Expected a person (@name), got 'Billing'."),
        ("/leadbot team add @ghost Billing as agent", "I don't know @ghost"),
        ("/leadbot team add @maria.lopez Billing", "Say which role, e.g. `as agent`."),
        ("/leadbot team add @maria.lopez Billing as boss", "The role must be one of"),
        ("/leadbot team add @maria.lopez Billing as agent lead", "The role must be one of"),
        ("/leadbot team add @maria.lopez as agent", "Name the team."),
        ("/leadbot team add @maria.lopez Nowhere as agent", "There is no team called 'Nowhere'"),
        # `team rename` exists now (it was the unknown word here before).
        ("/leadbot team rename Billing", "Say `/leadbot team rename OLD to NEW`."),
        (
            "/leadbot team explode Billing",
            "Say `team create`, `team add`, `team list`, `team rename`, `team lead`, "
            "`team manager`, `team timezone`, `team post` or `team archive`.",
        ),
        ("/leadbot team list extra", "I didn't understand 'extra'."),
    ],
)
async def test_bad_input_changes_nothing(ctx: HandlerContext, line: str, message: str) -> None:
    admin = await _admin(ctx)
    team = await make_team(ctx.db)
    maria = await make_person(ctx.db, "maria.lopez")
    before = (await _state(ctx), await people.list_people(ctx.db))
    reply = await run_command(await command(ctx.db, admin, line), ctx)
    assert not reply.ok
    assert message in reply.text
    assert (await _state(ctx), await people.list_people(ctx.db)) == before
    stored = await people.get_person(ctx.db, person_id=maria.id or 0)
    assert stored
    assert stored.team_id is None
    assert team.id is not None
