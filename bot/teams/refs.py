"""Conversation references: where a proactive message to a person or channel goes.

A reference is stored as a small JSON object (Person.teams_conversation_ref,
Team.teams_channel_ref): the Bot Connector's service URL, the tenant, the conversation
id, the user (their 29: id and Entra object id) and the bot's own id.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from typing import Any

from microsoft_agents.activity import Activity


@dataclass(frozen=True)
class ConversationRef:
    service_url: str
    tenant_id: str | None = None
    conversation_id: str | None = None  # None: we know the person, not a 1:1 chat with them yet
    conversation_type: str = "personal"  # personal | channel | groupChat
    user_id: str | None = None  # the 29: id Teams gives the person for this bot
    aad_object_id: str | None = None  # the person's Entra object id
    bot_id: str | None = None  # the bot's 28: id
    bot_name: str | None = None
    team_id: str | None = None  # the Teams team (for channels)
    team_name: str | None = None
    channel_name: str | None = None

    def to_json(self) -> str:
        data = {k: v for k, v in asdict(self).items() if v is not None}
        return json.dumps({"v": 1, **data}, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> ConversationRef | None:
        """A stored reference; None when absent or unreadable."""
        if not text:
            return None
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("service_url"), str):
            return None
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        try:
            return cls(**known)
        except TypeError:
            return None

    def with_conversation(self, conversation_id: str) -> ConversationRef:
        return replace(self, conversation_id=conversation_id, conversation_type="personal")


def channel_data(activity: Activity) -> dict[str, Any]:
    """Teams' channelData as a dict (the SDK keeps it as whatever JSON came in)."""
    data = activity.channel_data
    if isinstance(data, dict):
        return data
    dump = getattr(data, "model_dump", None)
    if callable(dump):
        result = dump(by_alias=True, exclude_none=True)
        if isinstance(result, dict):
            return result
    return {}


def tenant_of(activity: Activity) -> str | None:
    conv = activity.conversation
    if conv is not None and conv.tenant_id:
        return conv.tenant_id
    tenant = channel_data(activity).get("tenant")
    if isinstance(tenant, dict) and isinstance(tenant.get("id"), str):
        return str(tenant["id"])
    return None


def conversation_type(activity: Activity) -> str:
    conv = activity.conversation
    if conv is None:
        return "personal"
    if conv.conversation_type:
        return str(conv.conversation_type)
    return "groupChat" if conv.is_group else "personal"


def team_info(activity: Activity) -> tuple[str | None, str | None, str | None, str | None]:
    """(Teams team id, team name, channel id, channel name) of a channel activity."""
    data = channel_data(activity)
    team = data.get("team")
    channel = data.get("channel")
    t: dict[str, Any] = team if isinstance(team, dict) else {}
    c: dict[str, Any] = channel if isinstance(channel, dict) else {}
    return t.get("id"), t.get("name"), c.get("id"), c.get("name")


def from_activity(activity: Activity) -> ConversationRef | None:
    """The reference of the conversation an incoming activity came from."""
    if not activity.service_url or activity.conversation is None:
        return None
    ctype = conversation_type(activity)
    conv_id = activity.conversation.id.split(";", 1)[0]  # a channel thread -> the channel
    team_id, team_name, channel_id, channel_name = team_info(activity)
    if ctype == "channel" and channel_id:
        conv_id = channel_id
    user = activity.from_property
    bot = activity.recipient
    return ConversationRef(
        service_url=activity.service_url,
        tenant_id=tenant_of(activity),
        conversation_id=conv_id,
        conversation_type=ctype,
        user_id=user.id if user is not None else None,
        aad_object_id=user.aad_object_id if user is not None else None,
        bot_id=bot.id if bot is not None else None,
        bot_name=bot.name if bot is not None else None,
        team_id=team_id,
        team_name=team_name,
        channel_name=channel_name,
    )


def member_ref(
    base: ConversationRef, *, user_id: str, aad_object_id: str | None
) -> ConversationRef:
    """A person seen in a team's roster: we can open a 1:1 chat with them later."""
    return ConversationRef(
        service_url=base.service_url,
        tenant_id=base.tenant_id,
        conversation_id=None,
        conversation_type="personal",
        user_id=user_id,
        aad_object_id=aad_object_id,
        bot_id=base.bot_id,
        bot_name=base.bot_name,
    )
