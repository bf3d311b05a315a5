"""The outbox dispatcher's Teams sender: proactive messages to people and channels.

A message continues the stored conversation (Person.teams_conversation_ref for a 1:1
chat, Team.teams_channel_ref for a channel). A person with no 1:1 chat yet gets one,
created in their tenant from what we know of them (seen in a team's roster, or the team's
channel reference). When that is impossible (the app is not installed for them) the
message fails with the reason and their lead is told once.

Rate limits (7/s and 60 per 30 s per conversation, 50/s per app) are applied by the
dispatcher's token buckets (jobs.dispatcher.DEFAULT_LIMITS["teams"]); a 429 answers
`rate_limited(Retry-After)`, 412/5xx and network errors are retried.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from collections.abc import Awaitable, Callable

import aiohttp
from microsoft_agents.authentication.msal import MsalAuth
from microsoft_agents.hosting.core import AgentAuthConfiguration
from microsoft_agents.hosting.core.connector.client import ConnectorClient

from bot.teams import outbound
from bot.teams.auth import auth_configuration
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

TokenProvider = Callable[[], Awaitable[str]]
BOT_FRAMEWORK_RESOURCE = "https://api.botframework.com"
RETRYABLE = {401, 408, 412, 500, 502, 503, 504}
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
    """Bot Framework tokens for TEAMS_APP_ID/TEAMS_APP_PASSWORD (cached by MSAL)."""
    auth = MsalAuth(config)

    async def token() -> str:
        return str(
            await auth.get_access_token(
                BOT_FRAMEWORK_RESOURCE, [BOT_FRAMEWORK_RESOURCE + "/.default"]
            )
        )

    return token


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
    ) -> None:
        self.db = db
        self.token_provider = token_provider
        self.tenant_id = tenant_id
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._clients: dict[str, tuple[ConnectorClient, str]] = {}
        self._lock = asyncio.Lock()

    async def close(self) -> None:
        for client, _token in self._clients.values():
            await client.close()
        self._clients.clear()

    async def _client(self, service_url: str) -> ConnectorClient:
        token = await self.token_provider()
        async with self._lock:
            cached = self._clients.get(service_url)
            if cached is not None and cached[1] == token:
                return cached[0]
            if cached is not None:
                await cached[0].close()
            base = service_url if service_url.endswith("/") else service_url + "/"
            session = aiohttp.ClientSession(base_url=base, timeout=self.timeout)
            client = ConnectorClient(base, token, session=session)
            self._clients[service_url] = (client, token)
            return client

    async def send(self, message: OutboxMessage, reply: Reply) -> SendResult:
        try:
            if message.recipient_team_id is not None:
                return await self._to_team(message.recipient_team_id, reply)
            if message.recipient_person_id is not None:
                return await self._to_person(message.recipient_person_id, reply)
        except aiohttp.ClientResponseError as exc:
            return self._classify(exc, message)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return SendResult.retry(f"Teams unreachable: {type(exc).__name__}")
        return SendResult.failed("an outbox message without a recipient")

    def _classify(self, exc: aiohttp.ClientResponseError, message: OutboxMessage) -> SendResult:
        if exc.status == 429:
            header = exc.headers.get("Retry-After") if exc.headers else None
            return SendResult.rate_limited(retry_after_seconds(header))
        if exc.status in RETRYABLE:
            return SendResult.retry(f"Teams answered {exc.status}")
        if exc.status in (403, 404):
            return SendResult.failed(
                f"Teams refused the message ({exc.status}): the bot is not in that "
                "conversation any more (app removed, or the chat was deleted)"
            )
        return SendResult.failed(f"Teams refused the message ({exc.status})")

    async def _to_team(self, team_id: int, reply: Reply) -> SendResult:
        team = await people.get_team(self.db, team_id=team_id)
        ref = ConversationRef.from_json(team.teams_channel_ref if team else None)
        if team is None or ref is None or not ref.conversation_id:
            return SendResult.failed("this team has no Teams channel linked to leadbot")
        return await self._post(ref, ref.conversation_id, reply)

    async def _to_person(self, person_id: int, reply: Reply) -> SendResult:
        found = await store.person_with_team(self.db, person_id=person_id)
        if found is None:
            return SendResult.failed("that person is no longer on the roster")
        person, team = found
        ref = ConversationRef.from_json(person.teams_conversation_ref)
        if ref is not None and ref.conversation_id:
            try:
                return await self._post(ref, ref.conversation_id, reply)
            except aiohttp.ClientResponseError as exc:
                if exc.status in (403, 404):
                    # They removed the app (or the chat is gone): their lead should know.
                    reason = NOT_INSTALLED.format(name=person.display_name)
                    await self._tell_lead(person, team, reason)
                raise
        target = self._chat_target(person, ref, team)
        if target is None:
            reason = NOT_INSTALLED.format(name=person.display_name)
            await self._tell_lead(person, team, reason)
            return SendResult.failed(reason)
        try:
            client = await self._client(target.service_url)
            created = await client.conversations.create_conversation(
                outbound.personal_chat_parameters(target)
            )
        except aiohttp.ClientResponseError as exc:
            if exc.status in (400, 403, 404):
                reason = NOT_INSTALLED.format(name=person.display_name)
                await self._tell_lead(person, team, reason)
                return SendResult.failed(f"{reason} (Teams answered {exc.status})")
            raise
        chat = target.with_conversation(created.id)
        assert person.id is not None
        await store.set_person_ref(self.db, person_id=person.id, conversation_ref=chat.to_json())
        log.info("teams: opened a 1:1 chat with person %s", person.id)
        return await self._post(chat, created.id, reply)

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

    async def _post(self, ref: ConversationRef, conversation_id: str, reply: Reply) -> SendResult:
        client = await self._client(ref.service_url)
        activity = outbound.addressed(outbound.message_activity(reply), ref, conversation_id)
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


def make_teams_sender(settings: Settings, db: Database) -> TeamsSender | None:
    """The Teams sender for the dispatcher, or None when Teams is off."""
    if not settings.teams_enabled:
        return None
    token: TokenProvider = _no_token
    if settings.teams_app_id and settings.teams_app_password:
        config = auth_configuration(settings)
        assert config is not None
        token = msal_token_provider(config)
    return TeamsSender(db, token_provider=token, tenant_id=settings.teams_tenant_id)
