"""`/kudos values`: the list, and the admins' changes."""

from __future__ import annotations

from domain.roles import Role
from handlers.core.context import HandlerContext
from storage.db import Database
from tests.conftest import make_person
from tests.handlers.kudos.helpers import crew, recognitions, run, text_of


async def test_values_list_and_admin_changes(db: Database, ctx: HandlerContext) -> None:
    c = await crew(db)
    admin = await make_person(db, "root.admin", role=Role.admin)
    listed = await run(db, ctx, c.sam, "/kudos values")
    assert listed.ok
    assert "#ownership" in text_of(listed)
    refused = await run(db, ctx, c.sam, "/kudos values add Customer first")
    assert not refused.ok
    assert "admins" in refused.text
    added = await run(db, ctx, admin, "/kudos values add Customer first")
    assert added.ok
    assert "#customer-first" in added.text
    assert (await run(db, ctx, c.sam, "/kudos @maria.billing #customer-first stayed on")).ok
    removed = await run(db, ctx, admin, "/kudos values remove planning")
    assert removed.ok
    after = await run(db, ctx, c.sam, "/kudos @maria.billing #planning good rota")
    assert not after.ok
    assert (
        "one of: #communication, #ownership, #action, #partnership, #customer-first." in after.text
    )
    again = await run(db, ctx, admin, "/kudos values remove planning")
    assert not again.ok
    recs = await recognitions(db)
    assert [r.value_tag for r in recs] == ["customer-first"]
