"""Kudos suggestions found in the KPIs (jobs/kudos_jobs.py): the lead's DM with Post,
Edit & post and Dismiss, and what pressing them does. Forged or stale values change
nothing."""

from __future__ import annotations

from domain.errors import NotAllowed, UserError
from domain.roles import Role
from domain.types import (
    Action,
    Block,
    Button,
    Buttons,
    Context,
    Form,
    FormField,
    Header,
    Reply,
    Text,
)
from handlers.core import notify
from handlers.core.access import visible_team_ids
from handlers.core.context import HandlerContext
from handlers.kudos.render import MAX_MESSAGE, shout_out
from storage import kudos as store
from storage import people
from storage.catalogue import list_value_tags
from storage.models import KudosSuggestion, Person, Recognition, ValueTag

POST_ACTION_ID = "kudos.suggest.post"
DISMISS_ACTION_ID = "kudos.suggest.dismiss"


def _default_message(detail: str) -> str:
    return f"{detail[0].upper()}{detail[1:]}. Great work!"


def suggestion_reply(
    sid: int, person_name: str, detail: str, value: ValueTag | None, team_name: str
) -> Reply:
    """The DM to a lead proposing a recognition found in the KPIs."""
    text = f"💡 *{person_name}* might deserve a shout-out: {detail}."
    blocks: list[Block] = [
        Header("Kudos suggestion"),
        Text(text),
    ]
    if value is not None:
        blocks.append(Context(f"Suggested value: {value.name}"))
    form = Form(
        title="Kudos",
        action_id=POST_ACTION_ID,
        value=str(sid),
        fields=(
            FormField(
                "message",
                f"Message to {person_name}",
                multiline=True,
                optional=False,
                max_length=MAX_MESSAGE,
                initial=_default_message(detail),
            ),
        ),
        submit_label="Post",
    )
    blocks.append(
        Buttons(
            (
                Button("Post", POST_ACTION_ID, str(sid), "primary"),
                Button("Edit & post", POST_ACTION_ID, str(sid), form=form),
                Button("Dismiss", DISMISS_ACTION_ID, str(sid)),
            )
        )
    )
    blocks.append(Context(f"Only you see this. Posting shares it in {team_name}'s channel."))
    return Reply(blocks=blocks, text=f"Kudos suggestion: {person_name}, {detail}")


async def on_suggestion(action: Action, ctx: HandlerContext) -> Reply:
    """Post or dismiss a suggestion; forged or stale values change nothing."""
    verb = action.action_id.rsplit(".", 1)[-1]
    value = action.value
    # ASCII digits within a database integer: int("²") raises, 10**19 overflows a query.
    if verb not in ("post", "dismiss") or not (value.isascii() and value.isdigit()):
        raise UserError("That button is no longer valid.")
    if len(value) > 10 or int(value) > 2**31 - 1:
        raise UserError("That suggestion no longer exists.")
    sug = await store.get_suggestion(ctx.db, suggestion_id=int(value))
    if sug is None:
        raise UserError("That suggestion no longer exists.")
    if action.actor.role not in (Role.lead, Role.manager) or sug.team_id not in (
        await visible_team_ids(ctx, action.actor)
    ):
        raise NotAllowed("Only the team's lead or manager can act on this suggestion.")
    if sug.status != "pending":
        return Reply(
            blocks=[Text(f"This suggestion was already {sug.status}.")],
            text=f"Already {sug.status}.",
            replace_original=True,
        )
    person = await people.get_person(ctx.db, person_id=sug.person_id)
    if person is None:
        raise UserError("That person is no longer on the roster.")
    if verb == "dismiss":
        await store.resolve_suggestion(ctx.db, suggestion_id=sug.id or 0, status="dismissed")
        text = f"Dismissed the suggestion for {person.display_name}."
        return Reply(blocks=[Text(text)], text=text, replace_original=True)
    return await _post(action, ctx, sug, person)


async def _post(action: Action, ctx: HandlerContext, sug: KudosSuggestion, person: Person) -> Reply:
    """Record the suggested kudos (with the lead's edited message) and post it, once."""
    message = (action.form.get("message") or "").strip() or _default_message(sug.detail)
    if len(message) > MAX_MESSAGE:
        return Reply(errors={"message": f"At most {MAX_MESSAGE} characters."}, ok=False)
    tags = {v.key: v for v in await list_value_tags(ctx.db)}
    tag = tags.get(sug.value_tag or "")
    group_key = f"suggestion-{sug.id}"
    giver = await people.get_person(ctx.db, person_id=action.actor.person_id)
    giver_name = giver.display_name if giver else action.actor.name
    post = shout_out(giver_name, [person.display_name], tag, message)
    dm = Reply(
        blocks=[Text(f"🎉 *{giver_name}* gave you kudos"), Text(f"> {message}")],
        text=f"{giver_name} gave you kudos: {message}",
    )
    msgs = [
        notify.team_message(sug.team_id, post, dedupe_key=f"kudos:{group_key}:team"),
        notify.person_message(ctx, person, dm, dedupe_key=f"kudos:{group_key}:dm:{person.id}"),
    ]
    rec = Recognition(
        giver_id=action.actor.person_id,
        receiver_id=person.id,
        team_id=sug.team_id,
        message=message,
        value_tag=tag.key if tag else None,
        group_key=group_key,
        source="suggested",
        created_at=ctx.now(),
    )
    if not await store.resolve_suggestion(
        ctx.db, suggestion_id=sug.id or 0, status="posted", recognition=rec, messages=msgs
    ):
        return Reply(blocks=[Text("This suggestion was already handled.")], replace_original=True)
    text = f"Posted kudos for {person.display_name}."
    return Reply(blocks=[Text(text)], text=text, replace_original=True)
