"""Posting without being asked (lead announcements, the digest, "route to a person") to
`slack:#channel`, `slack:C0123` or a bare `#channel`, through the core's posting seam."""

from __future__ import annotations

import logging
import re
import time

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import as_dicts, fallback_text, reply_messages
from adapters.slack.sink import Place, error_of, upload_files
from bot.messages import Reply

log = logging.getLogger(__name__)
PREFIXES = ("slack:", "#")
_NAMES_SECONDS = 600.0
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def mention_text(mentions: tuple[str, ...]) -> str:
    """Slack's mention markup for the reply's Slack handles (user ids only: a handle that is
    not one is left out rather than shown as text)."""
    users = [m.removeprefix("slack:") for m in mentions if m.startswith("slack:")]
    return " ".join(f"<@{u}>" for u in users if _USER_ID.match(u))


class SlackPoster:
    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self._names: dict[str, str] = {}
        self._names_at = float("-inf")

    async def channel_id(self, channel: str) -> str:
        """`slack:#div-bohai` → the channel's id (files need an id, not a name)."""
        target = channel.removeprefix("slack:").strip()
        if not target.startswith("#"):
            return target
        name = target.lstrip("#").lower()
        if name not in self._names or time.monotonic() - self._names_at > _NAMES_SECONDS:
            await self._load_names()
        if name not in self._names:
            raise LookupError(f"no Slack channel named #{name} that the app can see")
        return self._names[name]

    async def _load_names(self) -> None:
        names: dict[str, str] = {}
        cursor = None
        for _ in range(50):
            response = await self.client.conversations_list(
                types="public_channel,private_channel",
                exclude_archived=True,
                limit=1000,
                cursor=cursor,
            )
            for conversation in response.get("channels") or ():
                names[str(conversation.get("name", "")).lower()] = str(conversation["id"])
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        self._names, self._names_at = names, time.monotonic()

    async def post(self, channel: str, reply: Reply) -> str:
        """Posts and returns the message's ts; raises when Slack refuses (the core then gives
        the division's contact, or the digest retries)."""
        try:
            channel_id = await self.channel_id(channel)
            messages = reply_messages(reply)
            tags = mention_text(reply.mentions)
            if tags:
                messages[0].insert(0, SectionBlock(text=MarkdownTextObject(text=tags)))
            first = await self.client.chat_postMessage(
                channel=channel_id,
                text=(tags + " " if tags else "") + fallback_text(reply.text),
                blocks=as_dicts(messages[0]),
            )
            ts = str(first["ts"])
            for blocks in messages[1:]:
                await self.client.chat_postMessage(
                    channel=channel_id,
                    thread_ts=ts,
                    text=fallback_text(reply.text),
                    blocks=as_dicts(blocks),
                )
        except SlackApiError as exc:
            log.warning("posting to %s failed: %s", channel, error_of(exc))
            raise
        if reply.files:
            await upload_files(self.client, Place(channel_id, ts, ""), reply)
        return ts
