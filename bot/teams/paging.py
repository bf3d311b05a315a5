"""What a card's More/Previous buttons carry, so a press can make the reply again.

Stateless: a command's reply carries the line that produced it (text and mentions, as
typed) and the channel's team (signed: a client can't name another one); a press runs
the line again as whoever pressed, with their role as it is now. A proactive message's
reply carries its outbox id; a press shows the stored payload to its recipient only.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from microsoft_agents.activity import Activity, ChannelAccount

LINE_KEY = "line"
MENTIONS_KEY = "mentions"
TEAM_KEY = "team"
OUTBOX_KEY = "outbox"


@dataclass(frozen=True)
class Typed:
    """A line as typed in Teams: the text (the bot's own mention removed, `<at>` tags
    kept) and who each `<at>` mention is."""

    text: str
    mentions: tuple[tuple[str, ChannelAccount], ...] = ()


def typed(activity: Activity) -> Typed:
    bot = activity.recipient
    mentions = tuple(
        (m.text or "", m.mentioned) for m in activity.get_mentions() if m.mentioned is not None
    )
    text = activity.remove_recipient_mention() if bot is not None and bot.id else activity.text
    return Typed(text or "", mentions)


def typed_from(data: dict[str, Any]) -> Typed | None:
    """The line a More button carries (None when it isn't one)."""
    text = data.get(LINE_KEY)
    raw = data.get(MENTIONS_KEY, [])
    if not isinstance(text, str) or not isinstance(raw, list):
        return None
    mentions: list[tuple[str, ChannelAccount]] = []
    for item in raw:
        if not (
            isinstance(item, list) and len(item) == 4 and all(isinstance(v, str) for v in item)
        ):
            return None
        shown, who, aad_id, name = item
        fields: dict[str, str] = {"name": name}
        if who:
            fields["id"] = who
        if aad_id:
            fields["aad_object_id"] = aad_id
        mentions.append((shown, ChannelAccount(**fields)))
    return Typed(text, tuple(mentions))


def pager_data(line: Typed, team_id: int | None, secret: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        LINE_KEY: line.text,
        MENTIONS_KEY: [
            [shown, who.id or "", who.aad_object_id or "", who.name or ""]
            for shown, who in line.mentions
        ],
    }
    if team_id is not None:
        data[TEAM_KEY] = sign_team(secret, team_id)
    return data


def _team_mac(secret: str, team_id: int) -> str:
    msg = f"leadbot-teams-page-team:{team_id}".encode()
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()[:32]


def sign_team(secret: str, team_id: int) -> str:
    """The channel's team, for a More press that comes from elsewhere (a private answer
    sent to the 1:1 chat): signed, so a client can't name another team."""
    return f"{team_id}.{_team_mac(secret, team_id)}"


def verify_team(secret: str, value: Any) -> int | None:
    if not isinstance(value, str) or "." not in value:
        return None
    head, mac = value.split(".", 1)
    if not head.isdigit():
        return None
    team_id = int(head)
    return team_id if hmac.compare_digest(mac, _team_mac(secret, team_id)) else None
