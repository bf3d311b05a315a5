"""Outbound calls to the Bot Connector shared by the turn handler and the outbox sender:
a reply as a message activity, and opening a 1:1 chat with a person."""

from __future__ import annotations

from typing import Any

from microsoft_agents.activity import (
    Activity,
    ActivityTypes,
    Attachment,
    ChannelAccount,
    ChannelId,
    ConversationAccount,
    ConversationParameters,
)

from bot.teams.cards import CARD_CONTENT_TYPE, Pager, plain_text, render_card
from bot.teams.refs import ConversationRef
from domain.types import Form, Reply


def account(account_id: str, name: str | None = None) -> ChannelAccount:
    """A ChannelAccount (the SDK's models refuse explicit None values)."""
    return ChannelAccount(id=account_id, name=name) if name else ChannelAccount(id=account_id)


def message_activity(
    reply: Reply,
    *,
    form: Form | None = None,
    values: dict[str, str] | None = None,
    pager: Pager | None = None,
    page: int = 1,
) -> Activity:
    """A message carrying the reply's Adaptive Card (the summary shows in notifications):
    page `page` of it, with More/Previous buttons carrying `pager` when it has several."""
    card = render_card(reply, form=form, values=values, page=page, pager=pager)
    activity = Activity(
        type=ActivityTypes.message,
        attachments=[Attachment(content_type=CARD_CONTENT_TYPE, content=card)],
    )
    summary = plain_text(reply)
    if summary:
        activity.summary = summary
    return activity


def addressed(activity: Activity, ref: ConversationRef, conversation_id: str) -> Activity:
    """The activity addressed to a stored conversation (proactive: no reply-to id)."""
    conv: dict[str, Any] = {"id": conversation_id, "conversation_type": ref.conversation_type}
    if ref.tenant_id:
        conv["tenant_id"] = ref.tenant_id
    activity.conversation = ConversationAccount(**conv)
    activity.service_url = ref.service_url
    if ref.bot_id:
        activity.from_property = account(ref.bot_id, ref.bot_name)
    activity.channel_id = ChannelId("msteams")
    return activity


def personal_chat_parameters(ref: ConversationRef) -> ConversationParameters:
    """What POST /v3/conversations needs to open a 1:1 chat with `ref`'s user."""
    member_id = ref.user_id or ref.aad_object_id
    member: dict[str, Any] = {"id": member_id}
    if ref.aad_object_id:
        member["aad_object_id"] = ref.aad_object_id
    channel_data: dict[str, Any] = {}
    if ref.tenant_id:
        channel_data["tenant"] = {"id": ref.tenant_id}
    params: dict[str, Any] = {"is_group": False, "members": [ChannelAccount(**member)]}
    if ref.bot_id:
        params["agent"] = account(ref.bot_id, ref.bot_name)
    if ref.tenant_id:
        params["tenant_id"] = ref.tenant_id
        params["channel_data"] = channel_data
    return ConversationParameters(**params)
