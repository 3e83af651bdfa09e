"""Posting to a Telegram chat without being asked (`telegram:CHAT_ID`, or `telegram:@channel`):
a new lead to a division's group, the digest to a managers' chat."""

from __future__ import annotations

import re

from telegram import Bot

from adapters.telegram.callbacks import CallbackCodec
from adapters.telegram.outgoing import send_reply
from bot.messages import Reply

PREFIX = "telegram:"


def chat_of(channel: str) -> int | str:
    target = channel.removeprefix(PREFIX).strip()
    if re.fullmatch(r"-?\d+", target):
        return int(target)
    if not target:
        raise ValueError(f"channel {channel!r} names no chat, e.g. telegram:-1001234567890")
    return target if target.startswith("@") else f"@{target}"


class TelegramPoster:
    def __init__(self, bot: Bot, codec: CallbackCodec) -> None:
        self.bot = bot
        self.codec = codec

    async def post(self, channel: str, reply: Reply) -> str:
        sent = await send_reply(self.bot, chat_of(channel), reply, self.codec)
        return str(sent[0].message_id) if sent else ""
