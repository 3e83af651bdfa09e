"""Where a streamed answer is shown while it is written (`bot.streaming.StreamSink`).

Private chats get a message draft (Bot API 10: a temporary preview that a real message then
replaces); groups, where drafts do not exist, get one message edited as the answer grows. A
`RetryAfter` on a partial pauses the partials for as long as Telegram asks; the final reply
always goes (waiting if it must).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

from telegram import Bot, Message, ReplyParameters
from telegram.error import BadRequest, RetryAfter

from adapters.telegram.callbacks import CallbackCodec
from adapters.telegram.outgoing import not_modified, retry_seconds, send_reply
from adapters.telegram.split import clip_partial
from bot.messages import Reply

# Drafts are animated between texts with the same id; Telegram wants a non-zero int.
_DRAFT_IDS = 2**31 - 1


class _Paced:
    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.paused_until = 0.0
        self.sent: list[Message] = []

    def paused(self) -> bool:
        return self.clock() < self.paused_until

    def pause(self, exc: RetryAfter) -> None:
        self.paused_until = self.clock() + retry_seconds(exc)


class DraftSink(_Paced):
    def __init__(
        self,
        bot: Bot,
        chat_id: int,
        codec: CallbackCodec,
        *,
        thread_id: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(clock)
        self.bot, self.chat_id, self.codec, self.thread_id = bot, chat_id, codec, thread_id
        self.draft_id = secrets.randbelow(_DRAFT_IDS) + 1

    async def show(self, text: str) -> None:
        if self.paused() or not text.strip():
            return
        try:
            await self.bot.send_message_draft(
                self.chat_id, self.draft_id, clip_partial(text), message_thread_id=self.thread_id
            )
        except RetryAfter as exc:
            self.pause(exc)

    async def finish(self, reply: Reply) -> None:
        self.sent = await send_reply(
            self.bot, self.chat_id, reply, self.codec, thread_id=self.thread_id
        )


class EditSink(_Paced):
    def __init__(
        self,
        bot: Bot,
        chat_id: int,
        codec: CallbackCodec,
        *,
        reply_to: int | None = None,
        thread_id: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(clock)
        self.bot, self.chat_id, self.codec = bot, chat_id, codec
        self.reply_to, self.thread_id = reply_to, thread_id
        self.message: Message | None = None

    async def show(self, text: str) -> None:
        if self.paused() or not text.strip():
            return
        shown = clip_partial(text)
        try:
            if self.message is None:
                replying = (
                    ReplyParameters(message_id=self.reply_to, allow_sending_without_reply=True)
                    if self.reply_to is not None
                    else None
                )
                self.message = await self.bot.send_message(
                    self.chat_id,
                    shown,
                    reply_parameters=replying,
                    message_thread_id=self.thread_id,
                )
            else:
                await self.bot.edit_message_text(
                    shown, chat_id=self.chat_id, message_id=self.message.message_id
                )
        except RetryAfter as exc:
            self.pause(exc)
        except BadRequest as exc:
            if not not_modified(exc):
                raise

    async def finish(self, reply: Reply) -> None:
        self.sent = await send_reply(
            self.bot,
            self.chat_id,
            reply,
            self.codec,
            reply_to=self.reply_to,
            thread_id=self.thread_id,
            shown=self.message,
        )
