"""The outbox dispatcher's Teams sender: proactive messages to people and channels.

A message continues the stored conversation (Person.teams_conversation_ref for a 1:1
chat, Team.teams_channel_ref for a channel). A person with no 1:1 chat yet gets one,
created in their tenant from what we know of them (seen in a team's roster, or the team's
channel reference). When that is impossible (the app is not installed for them) the
message fails with the reason and their lead is told once.

Rate limits (7/s and 60 per 30 s per conversation, 50/s per app) are applied by the
dispatcher's token buckets (jobs.dispatcher.DEFAULT_LIMITS["teams"]); a 429 answers
`rate_limited(Retry-After)`, 412/5xx and network errors are retried. A 401 is the Bot
Connector refusing the bot itself (no Bot Framework registration for TEAMS_APP_ID, or a
wrong password): no retry will fix that, so the message goes dead and it is logged once.

A stored reference whose service URL is not an allowed service host (one stored before
the inbound checks, say) is never sent to: the bot's token would go with it.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import ssl
import time

import aiohttp
from microsoft_agents.hosting.core import AgentAuthConfiguration, OutboundHostValidator
from microsoft_agents.hosting.core.connector.client import ConnectorClient

from bot import reach
from bot.teams import outbound
from bot.teams.auth import (
    TokenProvider,
    auth_configuration,
    bot_framework_token,
    service_host_validator,
    single_flight_msal,
)
from bot.teams.cards import Pager
from bot.teams.connector import client_session
from bot.teams.paging import OUTBOX_KEY
from bot.teams.refs import ConversationRef
from domain.settings import Settings
from domain.types import Reply
from domain.types import message as text_message
from jobs.delivery import SendResult
from storage import outbox, people
from storage import teams as store
from storage.db import Database
from storage.models import OutboxMessage, Person, Team
from storage.outbox import OutboxNew

log = logging.getLogger(__name__)

RETRYABLE = {408, 412, 500, 502, 503, 504}
UNAUTHORIZED = (
    "Teams refused the bot's credentials (401): the Bot Connector does not accept "
    "TEAMS_APP_ID's token (no Azure Bot registration for this app id, the Teams channel "
    "not enabled on it, or a wrong TEAMS_APP_PASSWORD)"
)
HOST_NOT_ALLOWED = (
    "the stored Teams conversation names a service host that is not allowed "
    "(TEAMS_ALLOWED_SERVICE_HOSTS); nothing was sent there"
)
NOT_SEEN = "not in any Teams team roster leadbot can see (the app isn't installed for them)"
NOT_INSTALLED = (
    "leadbot can't open a Teams chat with {name}: the app isn't installed for them "
    "(or they left the tenant)"
)


def retry_after_seconds(value: str | None, *, default: float = 1.0) -> float:
    """Retry-After as seconds: a number, or an HTTP date."""
    if not value:
        return default
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(when.timestamp() - time.time(), 0.0)


def msal_token_provider(config: AgentAuthConfiguration) -> TokenProvider:
    """Bot Framework tokens for TEAMS_APP_ID/TEAMS_APP_PASSWORD (cached by MSAL), one
    request to Entra at a time."""
    return bot_framework_token(single_flight_msal(config))


async def _no_token() -> str:
    return ""


class TeamsSender:
    """Sends outbox messages whose platform is "teams"."""

    platform = "teams"

    def __init__(
        self,
        db: Database,
        *,
        token_provider: TokenProvider = _no_token,
        tenant_id: str | None = None,
        timeout_seconds: float = 10.0,
        host_validator: OutboundHostValidator | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """`host_validator`: the service hosts messages may go to (make_teams_sender passes
        the settings' one; None sends wherever a stored reference says, for tests)."""
        self.db = db
        self.token_provider = token_provider
        self.tenant_id = tenant_id
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self.host_validator = host_validator
        self.ssl_context = ssl_context or ssl.create_default_context()
        self._clients: dict[str, tuple[ConnectorClient, str]] = {}
        self._lock = asyncio.Lock()
        self._unauthorized_logged = False

    async def close(self) -> None:
        for client, _token in self._clients.values():
            await client.close()
        self._clients.clear()

    def allowed(self, service_url: str) -> bool:
        return self.host_validator is None or self.host_validator.is_allowed(service_url)

    async def client_for(self, service_url: str) -> ConnectorClient:
        """A Bot Connector client for an allowed service URL (HostNotAllowed otherwise)."""
        return await self._client(service_url)

    async def _client(self, service_url: str) -> ConnectorClient:
        if not self.allowed(service_url):
            raise HostNotAllowed(service_url)
        token = await self.token_provider()
        async with self._lock:
            cached = self._clients.get(service_url)
            if cached is not None and cached[1] == token:
                return cached[0]
            if cached is not None:
                await cached[0].close()
            base = service_url if service_url.endswith("/") else service_url + "/"
            session = client_session(base, ssl_context=self.ssl_context, timeout=self.timeout)
            client = ConnectorClient(base, token, session=session)
            self._clients[service_url] = (client, token)
            return client

    async def send(self, message: OutboxMessage, reply: Reply) -> SendResult:
        # A reply too long for one card pages; its More button shows the stored payload.
        pager = Pager({OUTBOX_KEY: message.id}) if message.id is not None else None
        try:
            if message.recipient_team_id is not None:
                return await self._to_team(message.recipient_team_id, reply, pager)
            if message.recipient_person_id is not None:
                return await self._to_person(message.recipient_person_id, reply, pager)
        except aiohttp.ClientResponseError as exc:
            return self._classify(exc, message)
        except HostNotAllowed:
            log.warning("teams: outbox message %s: %s", message.id, HOST_NOT_ALLOWED)
            return SendResult.failed(HOST_NOT_ALLOWED)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return SendResult.retry(f"Teams unreachable: {type(exc).__name__}")
        return SendResult.failed("an outbox message without a recipient")

    async def edit(self, message: OutboxMessage, reply: Reply, ref: str) -> SendResult:
        """updateActivity of the activity `ref` in the row's conversation (jobs/edits.py);
        it counts against the conversation's limits like a post (the same buckets)."""
        try:
            ref_conv = await self._conversation_of(message)
            if ref_conv is None:
                return SendResult.failed("no Teams conversation to edit the message in")
            conv_ref, conversation_id = ref_conv
            client = await self._client(conv_ref.service_url)
            card = outbound.message_activity(reply)
            activity = outbound.addressed(card, conv_ref, conversation_id)
            activity.id = ref
            await client.conversations.update_activity(conversation_id, ref, activity)
        except aiohttp.ClientResponseError as exc:
            return self._classify(exc, message)
        except HostNotAllowed:
            return SendResult.failed(HOST_NOT_ALLOWED)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return SendResult.retry(f"Teams unreachable: {type(exc).__name__}")
        return SendResult.sent(ref)

    async def _conversation_of(self, message: OutboxMessage) -> tuple[ConversationRef, str] | None:
        if message.recipient_team_id is not None:
            team = await people.get_team(self.db, team_id=message.recipient_team_id)
            ref = ConversationRef.from_json(team.teams_channel_ref if team else None)
        elif message.recipient_person_id is not None:
            found = await store.person_with_team(self.db, person_id=message.recipient_person_id)
            ref = ConversationRef.from_json(found[0].teams_conversation_ref if found else None)
        else:
            return None
        if ref is None or not ref.conversation_id:
            return None
        return ref, ref.conversation_id

    def _classify(self, exc: aiohttp.ClientResponseError, message: OutboxMessage) -> SendResult:
        if exc.status == 429:
            header = exc.headers.get("Retry-After") if exc.headers else None
            return SendResult.rate_limited(retry_after_seconds(header))
        if exc.status == 401:
            if not self._unauthorized_logged:
                self._unauthorized_logged = True
                log.error("teams: %s; Teams messages fail until that is fixed", UNAUTHORIZED)
            return SendResult.failed(UNAUTHORIZED)
        if exc.status in RETRYABLE:
            return SendResult.retry(f"Teams answered {exc.status}")
        if exc.status in (403, 404):
            return SendResult.failed(
                f"Teams refused the message ({exc.status}): the bot is not in that "
                "conversation any more (app removed, or the chat was deleted)"
            )
        return SendResult.failed(f"Teams refused the message ({exc.status})")

    async def _to_team(self, team_id: int, reply: Reply, pager: Pager | None) -> SendResult:
        team = await people.get_team(self.db, team_id=team_id)
        ref = ConversationRef.from_json(team.teams_channel_ref if team else None)
        if team is None or ref is None or not ref.conversation_id:
            return SendResult.failed("this team has no Teams channel linked to leadbot")
        try:
            return await self._post(ref, ref.conversation_id, reply, pager)
        except aiohttp.ClientResponseError as exc:
            if exc.status not in (403, 404):
                raise
            status = exc.status
        # The app was removed from the team, or the channel is gone: the posts wait.
        shown = f"#{ref.channel_name}" if ref.channel_name else "(its channel)"
        await reach.tell_channel_blocked(
            self.db,
            team=team,
            platform="teams",
            code=str(status),
            channel=shown,
            why=f"Teams refused the post ({status}): the app is not in that team any more",
            fix="Add leadbot to the Teams team again (Apps > leadbot > Add to a team), or "
            "link another channel with `@leadbot leadbot link` in it.",
        )
        return SendResult.waiting(f"Teams answered {status} for the team channel")

    async def _to_person(self, person_id: int, reply: Reply, pager: Pager | None) -> SendResult:
        found = await store.person_with_team(self.db, person_id=person_id)
        if found is None:
            return SendResult.failed("that person is no longer on the roster")
        person, team = found
        ref = ConversationRef.from_json(person.teams_conversation_ref)
        if ref is not None and ref.conversation_id:
            try:
                return await self._post(ref, ref.conversation_id, reply, pager)
            except aiohttp.ClientResponseError as exc:
                if exc.status in (403, 404):
                    # They removed the app (or the chat is gone): their lead should know.
                    reason = NOT_INSTALLED.format(name=person.display_name)
                    await self._tell_lead(person, team, reason)
                raise
        target = self._chat_target(person, ref, team)
        if target is None:
            # Not seen in any team roster yet: the message waits until they are (the app
            # added to their team, `leadbot teams sync`, or their first message).
            reason = NOT_INSTALLED.format(name=person.display_name)
            await self._tell_lead(person, team, reason)
            await people.set_unreachable(self.db, person_id=person_id, reason=NOT_SEEN)
            return SendResult.waiting("not in any Teams roster leadbot can see")
        try:
            client = await self._client(target.service_url)
            created = await client.conversations.create_conversation(
                outbound.personal_chat_parameters(target)
            )
        except aiohttp.ClientResponseError as exc:
            if exc.status in (400, 403, 404):
                reason = NOT_INSTALLED.format(name=person.display_name)
                await self._tell_lead(person, team, reason)
                await people.set_unreachable(self.db, person_id=person_id, reason=NOT_SEEN)
                return SendResult.waiting(f"Teams answered {exc.status} to a new 1:1 chat")
            raise
        chat = target.with_conversation(created.id)
        assert person.id is not None
        await store.set_person_ref(self.db, person_id=person.id, conversation_ref=chat.to_json())
        log.info("teams: opened a 1:1 chat with person %s", person.id)
        return await self._post(chat, created.id, reply, pager)

    def _chat_target(
        self, person: Person, ref: ConversationRef | None, team: Team | None
    ) -> ConversationRef | None:
        """Where to open a 1:1 chat: the person as seen in a roster, else via their team."""
        if ref is not None and (ref.user_id or ref.aad_object_id):
            return ref
        channel = ConversationRef.from_json(team.teams_channel_ref if team else None)
        if channel is None or not person.teams_user_id:
            return None
        return ConversationRef(
            service_url=channel.service_url,
            tenant_id=channel.tenant_id or self.tenant_id,
            conversation_id=None,
            user_id=person.teams_user_id,
            aad_object_id=person.teams_user_id if "-" in person.teams_user_id else None,
            bot_id=channel.bot_id,
            bot_name=channel.bot_name,
        )

    async def _post(
        self, ref: ConversationRef, conversation_id: str, reply: Reply, pager: Pager | None
    ) -> SendResult:
        client = await self._client(ref.service_url)
        card = outbound.message_activity(reply, pager=pager)
        activity = outbound.addressed(card, ref, conversation_id)
        sent = await client.conversations.send_to_conversation(conversation_id, activity)
        return SendResult.sent(sent.id or None)

    async def _tell_lead(self, person: Person, team: Team | None, reason: str) -> None:
        """Tell the person's lead (once per person) that Teams can't reach them."""
        lead_id = team.lead_id if team is not None else None
        if lead_id is None or lead_id == person.id:
            log.warning("teams: %s (no lead to tell)", reason)
            return
        text = (
            f"{reason}. Ask {person.display_name} to add leadbot in Teams "
            "(Apps > search leadbot > Add); their messages will reach them from then on."
        )
        await outbox.enqueue(
            self.db,
            messages=[
                OutboxNew(
                    dedupe_key=f"teams:unreachable:{person.id}",
                    payload=text_message(text).to_json(),
                    person_id=lead_id,
                )
            ],
        )


class HostNotAllowed(Exception):
    """A stored reference names a service host outside TEAMS_ALLOWED_SERVICE_HOSTS."""


def make_teams_sender(settings: Settings, db: Database) -> TeamsSender | None:
    """The Teams sender for the dispatcher, or None when Teams is off."""
    if not settings.teams_enabled:
        return None
    token: TokenProvider = _no_token
    if settings.teams_app_id and settings.teams_app_password:
        config = auth_configuration(settings)
        assert config is not None
        token = msal_token_provider(config)
    return TeamsSender(
        db,
        token_provider=token,
        tenant_id=settings.teams_tenant_id,
        host_validator=service_host_validator(settings),
    )
