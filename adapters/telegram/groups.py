"""Group chats: when the bot is spoken to, and what the group's members may see.

In a group the bot answers only when mentioned (@name, or a mention of its account), sent a
command (`/help`, or `/help@name` — not a command meant for another bot) or replied to. A group
is a guest audience unless staff bound it to a node (`zbrain telegram group`); a bound group
carries the hint `telegram_bound_group`, which the plugin maps to partner, and a partner
audience, so a group is never answered above partner level.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from telegram import Message, MessageEntity
from telegram.constants import ChatType

from adapters.telegram import BOUND_GROUP_HINT

GROUP_TYPES = (ChatType.GROUP, ChatType.SUPERGROUP)


@dataclass(frozen=True)
class Me:
    """The bot's own account, from getMe."""

    id: int
    username: str


def is_group(message: Message) -> bool:
    return message.chat.type in GROUP_TYPES


def _entities(message: Message) -> dict[MessageEntity, str]:
    if message.text is not None:
        return message.parse_entities()
    if message.caption is not None:
        return message.parse_caption_entities()
    return {}


def command_target(message: Message) -> tuple[str, str] | None:
    """(command, bot it names or "") when the message starts with a command."""
    for entity, text in _entities(message).items():
        if entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0:
            name, _, target = text.lstrip("/").partition("@")
            return name.lower(), target
    return None


def replied_to_me(message: Message, me: Me) -> bool:
    original = message.reply_to_message
    if original is None or original.from_user is None:
        return False
    # In a forum topic every message "replies" to the topic's first message; that is no
    # reply to the bot unless the bot wrote it.
    return original.from_user.id == me.id


def addressed_text(message: Message, me: Me) -> str | None:
    """The text meant for the bot, its mentions removed; None when the group message is not
    for the bot."""
    text = message.text if message.text is not None else (message.caption or "")
    command = command_target(message)
    if command is not None:
        _, target = command
        return text if not target or target.lower() == me.username.lower() else None
    mentioned = False
    for entity, part in sorted(_entities(message).items(), key=lambda e: -e[0].offset):
        ours = (
            entity.type == MessageEntity.MENTION and part.lstrip("@").lower() == me.username.lower()
        ) or (
            entity.type == MessageEntity.TEXT_MENTION
            and entity.user is not None
            and entity.user.id == me.id
        )
        if ours:
            mentioned = True
            text = text.replace(part, " ", 1)
    if mentioned or replied_to_me(message, me):
        return re.sub(r"[ \t]{2,}", " ", text).strip()
    return None


def audience(bound_node: str | None) -> tuple[str, frozenset[str]]:
    """(audience, hints) of a group: partner and the bound hint if bound, else guest."""
    if bound_node:
        return "partner", frozenset({BOUND_GROUP_HINT})
    return "guest", frozenset()
