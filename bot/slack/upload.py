"""A reply's chart as a PNG in Slack: drawn by bot/charts.py, uploaded with Slack's
external upload (files.getUploadURLExternal -> POST the bytes to the upload URL ->
files.completeUploadExternal), and shared where the reply's reader sees it.

Where: an answer only the asker sees (ephemeral, as `/stats` answers) cannot carry a file,
and sharing the image in the channel would show everyone what was asked privately; so the
image goes to the asker's DM with leadbot (conversations.open, `im:write`), and the
ephemeral answer says so. A reply posted in the channel gets its image in the channel
(the DM when leadbot is not in it). The text answer, with the chart's figures as a table,
always goes out: when Slack refuses the upload (`missing_scope` on an app installed before
charts asked for `files:write`, `not_in_channel`), the answer says the image could not be
posted and the log says why, once per reason.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable
from dataclasses import dataclass

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.charts import render_png_async
from bot.slack.users import slack_error
from domain.types import Chart, Context, Reply, Visibility

log = logging.getLogger(__name__)

ALT_TXT = 1000  # files.getUploadURLExternal's alt_txt limit
UPLOAD_TIMEOUT = 15.0
_SCOPE_HINT = {
    "missing_scope": "the Slack app lacks the files:write or im:write permission; "
    "your admin can add it (docs: Slack setup)",
    "not_in_channel": "leadbot is not in this channel",
    "channel_not_found": "leadbot can't reach this conversation",
}


class UploadRefused(Exception):
    """Slack said no (its error code is `code`)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Shared:
    file_id: str
    channel_id: str
    in_dm: bool


def charts_of(reply: Reply) -> list[Chart]:
    return [b for b in reply.blocks if isinstance(b, Chart)]


def _filename(chart: Chart) -> str:
    stem = re.sub(r"[^A-Za-z0-9]+", "-", chart.title).strip("-").lower()[:80]
    return f"{stem or 'chart'}.png"


class ChartUploads:
    """Draws and shares the charts of Slack replies; remembers which refusals it logged."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self.logged: set[str] = set()

    async def _api(self, call: Awaitable[AsyncSlackResponse]) -> dict[str, object]:
        try:
            resp = await call
        except SlackApiError as exc:
            raise UploadRefused(str(exc.response.get("error", "") or slack_error(exc))) from exc
        return dict(resp.data) if isinstance(resp.data, dict) else {}

    async def _post_bytes(self, url: str, png: bytes) -> None:
        timeout = aiohttp.ClientTimeout(total=UPLOAD_TIMEOUT)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(url, data=png, headers={"Content-Type": "image/png"}) as resp,
        ):
            if resp.status != 200:
                raise UploadRefused(f"upload_http_{resp.status}")

    async def _dm_channel(self, user_id: str) -> str:
        data = await self._api(self.client.conversations_open(users=user_id))
        channel = data.get("channel")
        cid = channel.get("id") if isinstance(channel, dict) else None
        if not isinstance(cid, str) or not cid:
            raise UploadRefused("no_dm_channel")
        return cid

    async def upload(self, chart: Chart, png: bytes, channel_id: str, comment: str) -> str:
        """The three calls; the file id shared into `channel_id`."""
        got = await self._api(
            self.client.files_getUploadURLExternal(
                filename=_filename(chart),
                length=len(png),
                alt_txt=chart.alt_text[:ALT_TXT] or chart.title,
            )
        )
        url, file_id = got.get("upload_url"), got.get("file_id")
        if not isinstance(url, str) or not isinstance(file_id, str):
            raise UploadRefused("no_upload_url")
        await self._post_bytes(url, png)
        await self._api(
            self.client.files_completeUploadExternal(
                files=[{"id": file_id, "title": chart.title}],
                channel_id=channel_id,
                initial_comment=comment,
            )
        )
        return file_id

    async def share(
        self, chart: Chart, *, user_id: str, channel_id: str, in_channel: bool
    ) -> Shared:
        """Draw `chart` and share it: in the channel for a channel reply, else (or when
        leadbot can't post there) in the asker's DM with leadbot."""
        png = await render_png_async(chart)
        comment = chart.title
        if in_channel and channel_id:
            try:
                return Shared(await self.upload(chart, png, channel_id, comment), channel_id, False)
            except UploadRefused as exc:
                if exc.code not in ("not_in_channel", "channel_not_found"):
                    raise
                self._log_once(exc.code)
        dm = await self._dm_channel(user_id)
        return Shared(await self.upload(chart, png, dm, comment), dm, True)

    def _log_once(self, code: str) -> None:
        if code in self.logged:
            return
        self.logged.add(code)
        why = _SCOPE_HINT.get(code, "Slack refused it")
        log.warning("chart image not posted: %s (%s); the text answer went out", code, why)

    async def attach(self, reply: Reply, *, user_id: str, channel_id: str) -> Reply:
        """Share the reply's charts; the reply gains a line saying where they went (or
        that they could not be posted). Never raises: the text answer always goes out."""
        notes: list[str] = []
        for chart in charts_of(reply):
            try:
                shared = await self.share(
                    chart,
                    user_id=user_id,
                    channel_id=channel_id,
                    in_channel=reply.visibility is Visibility.channel,
                )
            except UploadRefused as exc:
                self._log_once(exc.code)
                notes.append(
                    "I couldn't post the chart image "
                    f"({_SCOPE_HINT.get(exc.code, 'Slack refused it')}); the figures are above."
                )
                continue
            except Exception:
                log.exception("chart image failed; the text answer went out")
                notes.append("I couldn't draw the chart image this time; the figures are above.")
                continue
            if shared.in_dm and shared.channel_id != channel_id:
                notes.append("The chart is in your DM with leadbot.")
        if notes:
            reply.blocks.append(Context(" ".join(dict.fromkeys(notes))))
        return reply
