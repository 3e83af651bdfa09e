"""Slack events as the core's `IncomingMessage`: which messages are for the assistant, the
thread they belong to, their text without the mention, and their files as `Upload`s.

Conversation keys: a thread is one conversation, `<channel>:<thread_ts>`. A top-level message
in a direct message belongs to the DM itself, `<channel>`, so a person can go on writing
without opening threads (the answer still goes in a thread under their message, where Slack
can stream it), and a lead intake started with `/zbrain newlead` continues in the DM.
"""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from bot.messages import IncomingMessage, Upload

PLATFORM = "slack"
# Subtypes of a message a person wrote; every other subtype (bot_message, message_changed,
# channel_join, …) is Slack telling us something, not someone asking.
PERSON_SUBTYPES = frozenset({None, "", "file_share", "thread_broadcast"})
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")
_CHANNEL = re.compile(r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!([a-z]+)(?:\^[^|>]*)?(?:\|([^>]*))?>")

Downloader = Callable[[str], Awaitable[bytes]]


def from_a_person(event: Mapping[str, Any]) -> bool:
    """False for bots (ours included), edits, deletions and Slack's own notices."""
    if event.get("bot_id") or event.get("bot_profile") or not event.get("user"):
        return False
    return event.get("subtype") in PERSON_SUBTYPES


def is_dm(event: Mapping[str, Any]) -> bool:
    return event.get("channel_type") == "im" or str(event.get("channel", "")).startswith("D")


def mentions(text: str, user_id: str | None) -> bool:
    return bool(user_id) and any(m.group(1) == user_id for m in _MENTION.finditer(text))


def plain_text(text: str, bot_user_id: str | None = None) -> str:
    """What the person wrote, as they saw it: our mention removed, other people's mentions,
    channels and links as readable text, Slack's entities decoded."""

    def person(match: re.Match[str]) -> str:
        return "" if match.group(1) == bot_user_id else f"@{match.group(1)}"

    text = _MENTION.sub(person, text)
    text = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})" if m.group(2) else m.group(1), text)
    text = _CHANNEL.sub(lambda m: f"#{m.group(2) or m.group(1)}", text)
    text = _SPECIAL.sub(lambda m: f"@{m.group(2) or m.group(1)}", text)
    return re.sub(r"[ \t]+", " ", html.unescape(text)).strip()


def thread_ts(event: Mapping[str, Any]) -> str:
    """The thread an answer goes in: the thread the message is in, or one under it."""
    return str(event.get("thread_ts") or event["ts"])


def conversation_key(event: Mapping[str, Any]) -> str:
    channel = str(event["channel"])
    if is_dm(event) and not event.get("thread_ts"):
        return channel
    return f"{channel}:{thread_ts(event)}"


def uploads(event: Mapping[str, Any], download: Downloader) -> tuple[Upload, ...]:
    """The message's files; their bytes are fetched only when the core reads them."""
    found = []
    for file in event.get("files") or ():
        url = file.get("url_private_download") or file.get("url_private")
        if not url or file.get("mode") in ("tombstone", "hidden_by_limit"):
            continue

        async def read(url: str = str(url)) -> bytes:
            return await download(url)

        found.append(
            Upload(
                filename=str(file.get("name") or file.get("title") or "file"),
                mime_type=str(file.get("mimetype") or "application/octet-stream"),
                size=int(file.get("size") or 0),
                read=read,
            )
        )
    return tuple(found)


def incoming(
    event: Mapping[str, Any],
    *,
    bot_user_id: str | None,
    hints: frozenset[str],
    audience: str | None,
    display_name: str = "",
    locale: str | None = None,
    attachments: tuple[Upload, ...] = (),
) -> IncomingMessage:
    return IncomingMessage(
        text=plain_text(str(event.get("text") or ""), bot_user_id),
        platform=PLATFORM,
        user_id=str(event["user"]),
        conversation_id=conversation_key(event),
        message_id=str(event.get("client_msg_id") or event["ts"]),
        locale=locale,
        attachments=attachments,
        display_name=display_name,
        hints=hints,
        audience=audience,
        raw=event,
    )
