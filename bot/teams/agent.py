"""The Teams turn handler: activities in, neutral Commands/Actions through the handlers,
Adaptive Cards out.

- A message in a personal chat is a command word (`stats`, `kudos @Maria great save`); in
  a channel or group chat the bot is @mentioned first and that mention is removed.
- People @mentioned arrive as `<at>Name</at>` plus mention entities; they are resolved by
  their Teams ids, then by name within the actor's team.
- A card button (`Action.Execute`) arrives as an `adaptiveCard/action` invoke; we answer
  with the updated card (replace_original) or a short message, and never with an error
  page. The `Action.Submit` fallback arrives as a message with the same data.
- A reply too long for one card pages (bot/teams/cards.py); its More button carries the
  line that produced it (bot/teams/paging.py), and a press runs it again as the presser
  and answers with the next page in place (privately, when the card is in a channel and
  the page is not for everyone).
- Every activity refreshes the stored conversation reference of the person (personal
  chat) or team (channel), so the outbox can message them later.
"""

from __future__ import annotations

import dataclasses
import html
import logging
import re
from dataclasses import dataclass
from typing import Any

from microsoft_agents.activity import (
    Activity,
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    AdaptiveCardInvokeValue,
    ChannelAccount,
    TurnContextProtocol,
)
from microsoft_agents.hosting.core import ActivityHandler, TurnContext
from microsoft_agents.hosting.core.connector import ConnectorClientBase

from bot.mentions import resolve_handle
from bot.metrics import run_action, run_command
from bot.teams import outbound
from bot.teams.cards import (
    ACTION_KEY,
    FORM_KEY,
    INPUT_PREFIX,
    PAGE_ACTION,
    PAGE_KEY,
    VALUE_KEY,
    Pager,
    form_from_json,
    plain_text,
    render_card,
)
from bot.teams.paging import (
    OUTBOX_KEY,
    TEAM_KEY,
    Typed,
    pager_data,
    typed,
    typed_from,
    verify_team,
)
from bot.teams.refs import ConversationRef, conversation_type, from_activity, member_ref
from bot.teams.roster import read_roster, remember_member
from domain.parsing import split_words, tokenize
from domain.types import (
    Action,
    Actor,
    Command,
    Form,
    Mention,
    Platform,
    Reply,
    UnresolvedMention,
    Visibility,
    message,
)
from handlers.core.context import HandlerContext
from storage import outbox, people
from storage import teams as store
from storage.db import Database
from storage.models import Person, Team

log = logging.getLogger(__name__)

Turn = TurnContextProtocol[Activity]

CARD_RESPONSE = "application/vnd.microsoft.card.adaptive"
MESSAGE_RESPONSE = "application/vnd.microsoft.activity.message"

_AT_RE = re.compile(r"<at[^>]*>(.*?)</at>", re.IGNORECASE | re.DOTALL)
_TAG_RE = re.compile(r"</?(?!at\b)[a-z][^>]*>", re.IGNORECASE)
_PLACEHOLDER_RE = re.compile(r"^<@T(\d+)>$")
_ANY_PLACEHOLDER_RE = re.compile(r"<@T(\d+)>")
_PAIR_RE = re.compile(r"<@T(\d+)>\s+<@T(\d+)>")

WELCOME = (
    "Hi, I'm leadbot. I help team leads with goals, KPIs, kudos, 1:1s, action items and "
    "pulse surveys. Type *help* to see what I can do. In a channel, @mention me first."
)


def unknown_user_text(email: str | None) -> str:
    who = f" ({email})" if email else ""
    return (
        f"I don't know you yet{who}. Ask your leadbot admin to add you to the roster "
        "(`leadbot import roster`, or `leadbot team add @you TEAM as agent`); "
        "then say *help* again."
    )


def actor_of(p: Person) -> Actor:
    assert p.id is not None
    return Actor(
        person_id=p.id,
        email=p.email,
        name=p.display_name,
        role=p.role,
        team_id=p.team_id,
        timezone=p.timezone,
    )


def _connector(turn_context: Turn) -> ConnectorClientBase | None:
    if isinstance(turn_context, TurnContext):
        client = turn_context.services.get(ConnectorClientBase)  # type: ignore[type-abstract]
        if isinstance(client, ConnectorClientBase):
            return client
    return None


def _collapse_split_mentions(text: str, entities: list[ChannelAccount]) -> str:
    """Adjacent mention parts of the same person become one mention with the full name."""
    while True:
        for m in _PAIR_RE.finditer(text):
            a, b = entities[int(m.group(1))], entities[int(m.group(2))]
            if a.id and a.id == b.id:
                entities[int(m.group(1))] = a.model_copy(
                    update={"name": f"{a.name or ''} {b.name or ''}".strip()}
                )
                text = text[: m.start()] + f"<@T{m.group(1)}>" + text[m.end() :]
                break
        else:
            return text


def clean_text(text: str) -> str:
    """Teams message text as typed: entities decoded, formatting tags (not <at>) removed."""
    text = _TAG_RE.sub(" ", text.replace("<br>", "\n").replace("<br/>", "\n"))
    return html.unescape(text).replace("\xa0", " ").strip()


class TeamsAgent(ActivityHandler):
    """leadbot as an Agents SDK ActivityHandler."""

    def __init__(self, ctx: HandlerContext, *, fetch_members: bool = True) -> None:
        super().__init__()
        self.ctx = ctx
        self.fetch_members = fetch_members  # ask the connector for an unknown user's email

    @property
    def db(self) -> Database:
        return self.ctx.db

    # --- identity ------------------------------------------------------------------------

    async def identify(self, turn_context: Turn) -> tuple[Person | None, str | None]:
        """The person behind this activity, linking them by email on first contact."""
        activity = turn_context.activity
        user = activity.from_property
        if user is None or not user.id:
            return None, None
        ids = [i for i in (user.aad_object_id, user.id) if i]
        person = await store.find_person(self.db, teams_ids=ids)
        if person is not None:
            return person, person.email
        email = await self._member_email(turn_context, user)
        if email:
            found = await people.get_by_email(self.db, email=email)
            if found is not None and found.active and found.id is not None:
                linked = await store.link_person(
                    self.db, person_id=found.id, teams_user_id=user.aad_object_id or user.id
                )
                log.info("teams user linked to person %s by email", found.id)
                return linked, email
        return None, email

    async def _member_email(self, turn_context: Turn, user: ChannelAccount) -> str | None:
        props = user.properties or {}
        for key in ("email", "userPrincipalName", "user_principal_name"):
            if isinstance(props.get(key), str) and "@" in props[key]:
                return str(props[key]).lower()
        connector = _connector(turn_context) if self.fetch_members else None
        conv = turn_context.activity.conversation
        if connector is None or conv is None:
            return None
        try:
            member = await connector.conversations.get_conversation_member(conv.id, user.id)
        except Exception as exc:  # the roster lookup is a courtesy; never fail the turn
            log.warning("teams: member lookup failed: %s", type(exc).__name__)
            return None
        mprops = member.properties or {}
        for key in ("email", "userPrincipalName"):
            value = mprops.get(key)
            if isinstance(value, str) and "@" in value:
                return value.lower()
        return None

    # --- conversation references -------------------------------------------------------------

    async def remember(self, activity: Activity, person: Person | None) -> Team | None:
        """Store the reference of where this came from; returns the channel's team."""
        ref = from_activity(activity)
        if ref is None:
            return None
        if ref.conversation_type == "personal":
            if person is not None and person.id is not None:
                await store.set_person_ref(
                    self.db, person_id=person.id, conversation_ref=ref.to_json()
                )
            return None
        if person is not None and person.id is not None and not person.teams_conversation_ref:
            # Not a 1:1 chat yet: keep enough to open one when the outbox needs it.
            assert ref.user_id is not None
            partial = member_ref(ref, user_id=ref.user_id, aad_object_id=ref.aad_object_id)
            await store.set_person_ref(
                self.db, person_id=person.id, conversation_ref=partial.to_json()
            )
        if ref.conversation_type != "channel":
            return None
        return await self.link_channel(ref, person)

    async def link_channel(self, ref: ConversationRef, person: Person | None) -> Team | None:
        """The leadbot team this Teams channel is linked to (`/leadbot link`), if any; its
        stored reference is refreshed. Nothing is linked by using leadbot here."""
        assert ref.conversation_id is not None
        team = await store.team_by_channel(self.db, conversation_id=ref.conversation_id)
        if team is not None and team.id is not None:
            await store.set_team_ref(self.db, team_id=team.id, channel_ref=channel_ref_json(ref))
        return team

    # --- messages (commands) -------------------------------------------------------------

    async def on_message_activity(self, turn_context: Turn) -> None:
        activity = turn_context.activity
        if activity.id and activity.conversation is not None:
            key = f"teams:{activity.conversation.id.split(';', 1)[0]}:{activity.id}"
            if not await store.claim_event(self.db, key=key):
                log.info("teams: activity %s seen before; ignored", activity.id)
                return
        person, email = await self.identify(turn_context)
        team = await self.remember(activity, person)
        if isinstance(activity.value, dict) and ACTION_KEY in activity.value:
            # The Action.Submit fallback of a card button.
            await self._submit(turn_context, person, email, activity.value, team)
            return
        if person is None:
            await self.deliver(turn_context, None, message(unknown_user_text(email)))
            return
        line = typed(activity)
        cmd = await self.parse(line, activity.recipient, person, team)
        ref = from_activity(activity)
        if ref is not None and ref.conversation_type == "channel" and ref.conversation_id:
            cmd = dataclasses.replace(
                cmd,
                channel_ref=channel_ref_json(ref),
                channel_name=f"#{ref.channel_name}" if ref.channel_name else "",
            )
        reply = await run_command(cmd, self.ctx)
        await self.deliver(turn_context, person, reply, pager=self.pager_of(line, team))

    async def command_of(self, activity: Activity, person: Person, team: Team | None) -> Command:
        """The Command a Teams message asks for."""
        return await self.parse(typed(activity), activity.recipient, person, team)

    async def parse(
        self, line: Typed, bot: ChannelAccount | None, person: Person, team: Team | None
    ) -> Command:
        """The Command a typed line asks for, as `person` (a message, or a More press
        making a reply again)."""
        mentions = list(line.mentions)
        text = clean_text(line.text)
        entities: list[ChannelAccount] = []
        bot_name = (bot.name or "").lower() if bot is not None else ""

        def placeholder(m: re.Match[str]) -> str:
            inner = clean_text(m.group(1))
            entity = next(
                (
                    who
                    for shown, who in mentions
                    if clean_text(_AT_RE.sub(r"\1", shown or "")) == inner
                ),
                None,
            )
            is_bot = entity is not None and bot is not None and entity.id == bot.id
            if is_bot or (entity is None and bot_name and inner.lower() == bot_name):
                return " "  # the bot's own mention (left by an unusual client): not an argument
            entities.append(entity or ChannelAccount(name=inner))
            return f" <@T{len(entities) - 1}> "

        text = _AT_RE.sub(placeholder, text).strip()
        # Teams may split one mention into parts (<at>Maria</at> <at>Lopez</at>, same id).
        text = _collapse_split_mentions(text, entities)
        words = split_words(text)
        first = text.split(None, 1)[0] if text else ""
        verb = words[0].lstrip("/").lower() if words else ""
        rest = text[len(first) :].strip() if first else ""
        if verb in ("", "help", "?", "hi", "hello"):
            rest = ("help " + rest).strip() if verb == "help" else rest
            verb = "leadbot"
        actor = actor_of(person)

        async def resolve(mention: str) -> Mention | UnresolvedMention:
            m = _PLACEHOLDER_RE.match(mention)
            if m is None:
                return await resolve_handle(self.db, mention)
            account = entities[int(m.group(1))]
            return await self.resolve_account(account, actor)

        args = await tokenize(rest, resolve)
        raw = _ANY_PLACEHOLDER_RE.sub(lambda m: "@" + (entities[int(m.group(1))].name or ""), text)
        return Command(
            actor=actor,
            verb=verb,
            args=args,
            raw=raw,
            platform=Platform.teams,
            channel_team_id=team.id if team is not None else None,
        )

    async def resolve_account(
        self, account: ChannelAccount, actor: Actor
    ) -> Mention | UnresolvedMention:
        """A mentioned Teams user: by Teams id, then by name within the actor's team."""
        name = (account.name or "").strip()
        shown = f"@{name}" if name else "@someone"
        ids = [i for i in (account.aad_object_id, account.id) if i]
        person = await store.find_person(self.db, teams_ids=ids) if ids else None
        if person is not None and person.id is not None:
            return Mention(person.id, person.display_name)
        if name:
            pool = await people.list_people(self.db, team_id=actor.team_id) if actor.team_id else []
            same = [p for p in pool if p.display_name.lower() == name.lower()]
            if len(same) == 1 and same[0].id is not None:
                return Mention(same[0].id, same[0].display_name)
            found = await resolve_handle(self.db, name)
            if isinstance(found, Mention):
                return found
        return UnresolvedMention(
            shown, "they are not on leadbot's roster yet (an admin can add them)"
        )

    # --- card actions ------------------------------------------------------------------------

    async def on_adaptive_card_invoke(
        self, turn_context: Turn, invoke_value: AdaptiveCardInvokeValue
    ) -> AdaptiveCardInvokeResponse:
        data: dict[str, Any] = dict(invoke_value.action.data or {})
        if ACTION_KEY not in data and invoke_value.action.verb:
            data[ACTION_KEY] = invoke_value.action.verb
        person, email = await self.identify(turn_context)
        team = await self.remember(turn_context.activity, person)
        if person is None:
            return _message_response(unknown_user_text(email))
        if data.get(ACTION_KEY) == PAGE_ACTION:
            wanted = await self.page_of(turn_context, person, team, data)
            if not wanted.in_place:
                return await self._page_privately(turn_context, person, wanted)
            return _card_response(render_card(wanted.reply, page=wanted.page, pager=wanted.pager))
        reply, form, values = await self._run_action(person, data)
        if reply.errors or reply.form is not None or reply.replace_original:
            return _card_response(render_card(reply, form=form, values=values))
        if not reply.ok:
            return _message_response(plain_text(reply))
        await self.deliver(turn_context, person, reply)
        return _message_response(plain_text(reply)[:200] or "Done.")

    async def _run_action(
        self, person: Person, data: dict[str, Any]
    ) -> tuple[Reply, Form | None, dict[str, str]]:
        action_id = str(data.get(ACTION_KEY) or "")
        value = data.get(VALUE_KEY, "")
        form_values = {
            k[len(INPUT_PREFIX) :]: str(v)
            for k, v in data.items()
            if isinstance(k, str) and k.startswith(INPUT_PREFIX) and v is not None
        }
        action = Action(
            actor=actor_of(person),
            action_id=action_id,
            value=value if isinstance(value, str) else str(value),
            form=form_values,
            platform=Platform.teams,
        )
        reply = await run_action(action, self.ctx)
        form = None
        if reply.errors and isinstance(data.get(FORM_KEY), str):
            form = form_from_json(data[FORM_KEY])
        return reply, form, form_values

    async def _submit(
        self,
        turn_context: Turn,
        person: Person | None,
        email: str | None,
        data: dict[str, Any],
        team: Team | None = None,
    ) -> None:
        """The Action.Submit fallback: same handlers; the card is replaced when asked."""
        if person is None:
            await self.deliver(turn_context, None, message(unknown_user_text(email)))
            return
        pager: Pager | None = None
        page = 1
        form: Form | None = None
        values: dict[str, str] = {}
        if data.get(ACTION_KEY) == PAGE_ACTION:
            wanted = await self.page_of(turn_context, person, team, data)
            if not wanted.in_place:  # as a message is answered: privately
                await self.deliver(
                    turn_context, person, wanted.reply, pager=wanted.pager, page=wanted.page
                )
                return
            reply, pager, page = wanted.reply, wanted.pager, wanted.page
            reply.replace_original = True  # the next page replaces the card it was asked on
        else:
            reply, form, values = await self._run_action(person, data)
        original = turn_context.activity.reply_to_id
        if original and (reply.replace_original or reply.errors or reply.form is not None):
            updated = outbound.message_activity(
                reply, form=form, values=values, pager=pager, page=page
            )
            updated.id = original
            try:
                await turn_context.update_activity(updated)
                return
            except Exception as exc:
                log.warning("teams: could not update card %s: %s", original, type(exc).__name__)
        await self.deliver(
            turn_context, person, reply, form=form, values=values, pager=pager, page=page
        )

    # --- paging: More / Previous -------------------------------------------------------------

    def pager_of(self, line: Typed, team: Team | None) -> Pager:
        """What a reply's More button carries: the line that produced it (and the channel's
        team, signed), so a press can make the same reply again, as whoever pressed."""
        team_id = team.id if team is not None else None
        return Pager(pager_data(line, team_id, self.ctx.settings.secret))

    async def page_of(
        self, turn_context: Turn, person: Person, team: Team | None, data: dict[str, Any]
    ) -> PageWanted:
        """The reply a More/Previous press asks a page of, made again now.

        A command's reply: its line is parsed and run again as the presser, so their
        current role decides what they see (the data comes from the client and is treated
        as typed text, nothing more). In a channel or group chat that page replaces the
        card (for everyone) only when the reply is meant for everyone; otherwise it goes
        to the presser alone. A proactive message's: its stored payload, for its
        recipient only (the person, or a press from the team's channel).
        """
        page = data.get(PAGE_KEY)
        page = page if isinstance(page, int) and page >= 1 else 1
        if OUTBOX_KEY in data:
            message_id = data.get(OUTBOX_KEY)
            reply = await self._outbox_page(person, team, message_id)
            return PageWanted(reply, Pager({OUTBOX_KEY: message_id}), page, in_place=True)
        line = typed_from(data)
        if line is None:
            return PageWanted(message("That button is no longer valid."), None, 1, in_place=True)
        if team is None:
            team_id = verify_team(self.ctx.settings.secret, data.get(TEAM_KEY))
            team = await people.get_team(self.db, team_id=team_id) if team_id else None
        cmd = await self.parse(line, turn_context.activity.recipient, person, team)
        reply = await run_command(cmd, self.ctx)
        shared = conversation_type(turn_context.activity) != "personal"
        in_place = not shared or reply.visibility is Visibility.channel
        return PageWanted(reply, self.pager_of(line, team), page, in_place=in_place)

    async def _page_privately(
        self, turn_context: Turn, person: Person, wanted: PageWanted
    ) -> AdaptiveCardInvokeResponse:
        """A page only the presser may see, asked for on a shared card: to their 1:1 chat
        (the card stays as it is for everyone else)."""
        if not wanted.reply.ok:
            return _message_response(plain_text(wanted.reply)[:200] or "Not allowed.")
        activity = outbound.message_activity(wanted.reply, pager=wanted.pager, page=wanted.page)
        if await self._send_privately(turn_context, person, activity):
            return _message_response("I've sent that page to our 1:1 chat.")
        return _message_response(
            "That answer is private. Open a chat with leadbot (Apps > leadbot) and ask there."
        )

    async def _outbox_page(self, person: Person, team: Team | None, message_id: Any) -> Reply:
        gone = message("That message is no longer available.")
        if not isinstance(message_id, int):
            return gone
        sent = await outbox.get_message(self.db, message_id=message_id)
        if sent is None or sent.platform != "teams":
            return gone
        mine = sent.recipient_person_id is not None and sent.recipient_person_id == person.id
        ours = (
            sent.recipient_team_id is not None
            and team is not None
            and team.id == sent.recipient_team_id
        )
        if not (mine or ours):
            return gone
        try:
            return Reply.from_json(sent.payload)
        except (ValueError, KeyError, TypeError):
            return gone

    # --- installs ------------------------------------------------------------------------------

    async def on_conversation_update_activity(self, turn_context: Turn) -> None:
        await self._installed(turn_context)

    async def on_installation_update(self, turn_context: Turn) -> None:
        await self._installed(turn_context)

    async def _installed(self, turn_context: Turn) -> None:
        activity = turn_context.activity
        ref = from_activity(activity)
        if ref is None:
            return
        bot_id = activity.recipient.id if activity.recipient is not None else None
        added = activity.members_added or []
        bot_added = any(m.id == bot_id for m in added) or (
            activity.type == ActivityTypes.installation_update and activity.action == "add"
        )
        person, _email = await self.identify(turn_context)
        if ref.conversation_type == "personal":
            if person is not None and person.id is not None:
                await store.set_person_ref(
                    self.db, person_id=person.id, conversation_ref=ref.to_json()
                )
            if bot_added and activity.type == ActivityTypes.conversation_update:
                await turn_context.send_activity(outbound.message_activity(message(WELCOME)))
            return
        team = await self.link_channel(ref, person) if ref.conversation_type == "channel" else None
        # People who joined (or everyone, when the app was just added): remember how to reach
        # them, so the outbox can open a 1:1 chat with each later.
        members = [m for m in added if m.id != bot_id]
        if bot_added:
            if ref.conversation_id and ref.conversation_type in ("channel", "groupChat"):
                # `leadbot teams sync` reads this roster again later.
                await store.remember_install(
                    self.db, conversation_id=ref.conversation_id, ref=channel_ref_json(ref)
                )
            members = await self._roster(turn_context) or members
        for m in members:
            await self._remember_member(ref, m)
        if bot_added and activity.type == ActivityTypes.conversation_update:
            if team is not None:
                text = f"leadbot is set up here for team *{team.name}*. @mention me with *help*."
            elif ref.conversation_type == "channel":
                text = (
                    "leadbot is installed. To make this a leadbot team's channel, its lead, "
                    "manager or an admin @mentions me here with *leadbot link team NAME*. "
                    "@mention me with *help* to see what I can do."
                )
            else:
                text = WELCOME
            await turn_context.send_activity(outbound.message_activity(message(text)))

    async def _roster(self, turn_context: Turn) -> list[ChannelAccount]:
        """Everyone in the conversation (bot/teams/roster.py), or nobody on failure."""
        connector = _connector(turn_context) if self.fetch_members else None
        conv = turn_context.activity.conversation
        if connector is None or conv is None:
            return []
        try:
            return await read_roster(connector, conv.id)
        except Exception as exc:
            log.warning("teams: roster lookup failed: %s", type(exc).__name__)
            return []

    async def _remember_member(self, ref: ConversationRef, member: ChannelAccount) -> None:
        await remember_member(self.db, ref, member)

    # --- sending -------------------------------------------------------------------------------

    async def deliver(
        self,
        turn_context: Turn,
        person: Person | None,
        reply: Reply,
        *,
        form: Form | None = None,
        values: dict[str, str] | None = None,
        pager: Pager | None = None,
        page: int = 1,
    ) -> None:
        """Answer in this conversation; a private answer to a channel question goes to the
        person's 1:1 chat, and the channel only hears where it went."""
        activity = outbound.message_activity(
            reply, form=form, values=values, pager=pager, page=page
        )
        ctype = conversation_type(turn_context.activity)
        if ctype == "personal" or reply.visibility is Visibility.channel:
            await turn_context.send_activity(activity)
            return
        if person is not None and await self._send_privately(turn_context, person, activity):
            note = message("I've answered you in our 1:1 chat.")
            await turn_context.send_activity(outbound.message_activity(note))
            return
        if not reply.ok:
            # An error message reveals nothing private; say it where it was asked.
            await turn_context.send_activity(activity)
            return
        note = message(
            "That answer is private. Open a chat with leadbot (Apps > leadbot) and ask there."
        )
        await turn_context.send_activity(outbound.message_activity(note))

    async def _send_privately(self, turn_context: Turn, person: Person, activity: Activity) -> bool:
        connector = _connector(turn_context)
        incoming = from_activity(turn_context.activity)
        if connector is None or incoming is None or person.id is None:
            return False
        stored = ConversationRef.from_json(person.teams_conversation_ref)
        try:
            if stored is not None and stored.conversation_id:
                ref, conv_id = stored, stored.conversation_id
            else:
                assert incoming.user_id is not None
                ref = member_ref(
                    incoming, user_id=incoming.user_id, aad_object_id=incoming.aad_object_id
                )
                created = await connector.conversations.create_conversation(
                    outbound.personal_chat_parameters(ref)
                )
                conv_id = created.id
                ref = ref.with_conversation(conv_id)
                await store.set_person_ref(
                    self.db, person_id=person.id, conversation_ref=ref.to_json()
                )
            await connector.conversations.send_to_conversation(
                conv_id, outbound.addressed(activity, ref, conv_id)
            )
        except Exception as exc:
            log.warning("teams: private answer failed: %s", type(exc).__name__)
            return False
        return True


@dataclass(frozen=True)
class PageWanted:
    reply: Reply
    pager: Pager | None
    page: int
    in_place: bool  # the page may replace the card it was asked on (for all who see it)


def channel_ref_json(ref: ConversationRef) -> str:
    """A channel's conversation reference as a team stores it (no user in it)."""
    return ConversationRef(
        service_url=ref.service_url,
        tenant_id=ref.tenant_id,
        conversation_id=ref.conversation_id,
        conversation_type="channel",
        bot_id=ref.bot_id,
        bot_name=ref.bot_name,
        team_id=ref.team_id,
        team_name=ref.team_name,
        channel_name=ref.channel_name,
    ).to_json()


def _card_response(card: dict[str, Any]) -> AdaptiveCardInvokeResponse:
    return AdaptiveCardInvokeResponse(status_code=200, type=CARD_RESPONSE, value=card)


def _message_response(text: str) -> AdaptiveCardInvokeResponse:
    return AdaptiveCardInvokeResponse(status_code=200, type=MESSAGE_RESPONSE, value=text)
