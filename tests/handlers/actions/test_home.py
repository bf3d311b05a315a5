"""The action-items section of the home view."""

from __future__ import annotations

from domain.types import Buttons
from handlers import actions as h
from handlers.core.context import HandlerContext
from handlers.core.home import home
from storage.db import Database
from tests.conftest import actor_of
from tests.handlers.actions.helpers import (
    World,
    assign,
)


async def test_home_shows_open_items_with_buttons(
    db: Database, ctx: HandlerContext, w: World
) -> None:
    await assign(db, ctx, w, "/action @maria.lopez call back the Smith account due tomorrow")
    view = await home(actor_of(w.maria), ctx)
    assert "call back the Smith account" in " ".join(getattr(b, "text", "") for b in view.blocks)
    assert any(isinstance(b, Buttons) and b.buttons[0].value == "1" for b in view.blocks)
    lead_view = await home(actor_of(w.lead), ctx)
    assert any("1 open action items" in getattr(b, "text", "") for b in lead_view.blocks)
    assert await h.home_section(actor_of(w.oscar), ctx) == []
