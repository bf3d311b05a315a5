"""`/leadbot dashboard`: a one-time sign-in link to the web dashboard, sent as a DM.

The link, its signature and the session it opens are handlers/core/signin.py's; this is
only the chat side (docs/leads/dashboard.md).
"""

from __future__ import annotations

from domain.errors import NotFound, UserError
from domain.parsing import Args
from domain.types import Command, Context, Reply, Text
from handlers.core.context import CommandSpec, HandlerContext
from handlers.core.signin import issue_link
from storage import people

OFF = (
    "The web dashboard isn't switched on here: an admin sets DASHBOARD_BASE_URL "
    "(see the configuration reference)."
)


async def dashboard(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """DM the asker a link that signs them in to the dashboard once."""
    args.expect_end()
    if not ctx.settings.dashboard_base_url:
        raise UserError(OFF)
    person = await people.get_person(ctx.db, person_id=cmd.actor.person_id)
    if person is None or not person.active:
        raise NotFound("leadbot doesn't know you yet; ask your admin to add you.")
    await issue_link(ctx, person)
    minutes = ctx.settings.dashboard_link_minutes
    text = (
        f"I've sent you a sign-in link in a direct message. It works once, for you only, "
        f"for {minutes} minutes."
    )
    return Reply(
        blocks=[Text(text), Context("What you see there follows your role, as in chat.")],
        text=text,
    )


DASHBOARD = CommandSpec(
    verb="dashboard",
    summary="A one-time link (in a DM) to the web dashboard: trends, heatmaps, pulse, kudos",
    usage=("/leadbot dashboard",),
    handler=dashboard,
)
