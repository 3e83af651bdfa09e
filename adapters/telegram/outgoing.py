"""Sending a Reply to a chat: HTML in chunks of 4096, buttons under the last chunk, files
after the text. Telegram's limits are honoured (a `RetryAfter` is waited out, on top of the
AIORateLimiter's pacing), and markup Telegram refuses is sent again as plain text."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import Bot, InputFile, LinkPreviewOptions, Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, RetryAfter

from adapters.telegram.callbacks import CallbackCodec
from adapters.telegram.render import keyboard, render_html
from adapters.telegram.split import plain_from_html, split_html, split_plain
from bot.messages import Reply

log = logging.getLogger(__name__)
T = TypeVar("T")
# Telegram would otherwise preview the first source's page under every answer.
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
MAX_RETRY_WAIT = 60.0


def retry_seconds(exc: RetryAfter) -> float:
    # The public `retry_after` warns that its type will change; PTB's own limiter reads this.
    delta = getattr(exc, "_retry_after", None)
    if isinstance(delta, dt.timedelta):
        return delta.total_seconds()
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def refused_markup(exc: BadRequest) -> bool:
    return "can't parse entities" in exc.message.lower()


def not_modified(exc: BadRequest) -> bool:
    return "message is not modified" in exc.message.lower()


async def retrying(call: Callable[[], Awaitable[T]], *, attempts: int = 3) -> T:
    """`call()`, waiting out each RetryAfter Telegram answers with (what is left after the rate
    limiter's own retries), up to `attempts` tries."""
    for attempt in range(attempts):
        try:
            return await call()
        except RetryAfter as exc:
            if attempt == attempts - 1:
                raise
            wait = min(retry_seconds(exc), MAX_RETRY_WAIT)
            log.info("Telegram asked to wait %.1f s before the next message", wait)
            await asyncio.sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover


def _replying(reply_to: int | None) -> ReplyParameters | None:
    if reply_to is None:
        return None
    return ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)


async def send_chunk(
    bot: Bot,
    chat_id: int | str,
    chunk: str,
    *,
    markup: object = None,
    reply_to: int | None = None,
    thread_id: int | None = None,
) -> list[Message]:
    """One chunk of HTML as a message; as plain text if Telegram cannot parse the markup."""
    try:
        message = await retrying(
            lambda: bot.send_message(
                chat_id,
                chunk,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,  # type: ignore[arg-type]
                reply_parameters=_replying(reply_to),
                message_thread_id=thread_id,
                link_preview_options=NO_PREVIEW,
            )
        )
        return [message]
    except BadRequest as exc:
        if not refused_markup(exc):
            raise
        log.warning("Telegram refused the HTML of a message (%s); sending it plain", exc.message)
    pieces = split_plain(plain_from_html(chunk))
    return await _send_plain(
        bot, chat_id, pieces, markup=markup, reply_to=reply_to, thread_id=thread_id
    )


async def _send_plain(
    bot: Bot,
    chat_id: int | str,
    pieces: list[str],
    *,
    markup: object,
    reply_to: int | None,
    thread_id: int | None,
) -> list[Message]:
    """Plain-text pieces as new messages: the first replies, the last carries the buttons."""
    sent: list[Message] = []
    for index, piece in enumerate(pieces):
        last = index == len(pieces) - 1
        sent.append(
            await retrying(
                lambda piece=piece, last=last, first=not sent: bot.send_message(
                    chat_id,
                    piece,
                    reply_markup=markup if last else None,  # type: ignore[arg-type]
                    reply_parameters=_replying(reply_to) if first else None,
                    message_thread_id=thread_id,
                    link_preview_options=NO_PREVIEW,
                )
            )
        )
    return sent


async def edit_chunk(
    bot: Bot, message: Message, chunk: str, *, markup: object = None, thread_id: int | None = None
) -> list[Message]:
    """Turn a shown message into this chunk of HTML (plain if the markup is refused)."""

    async def edit(text: str, parse_mode: str | None, buttons: object) -> None:
        try:
            await retrying(
                lambda: bot.edit_message_text(
                    text,
                    chat_id=message.chat_id,
                    message_id=message.message_id,
                    parse_mode=parse_mode,
                    reply_markup=buttons,  # type: ignore[arg-type]
                    link_preview_options=NO_PREVIEW,
                )
            )
        except BadRequest as exc:
            if not not_modified(exc):
                raise

    try:
        await edit(chunk, ParseMode.HTML, markup)
        return [message]
    except BadRequest as exc:
        if not refused_markup(exc):
            raise
        log.warning("Telegram refused the HTML of an edit (%s); showing it plain", exc.message)
    pieces = split_plain(plain_from_html(chunk))
    await edit(pieces[0], None, markup if len(pieces) == 1 else None)
    rest = await _send_plain(
        bot, message.chat_id, pieces[1:], markup=markup, reply_to=None, thread_id=thread_id
    )
    return [message, *rest]


async def send_reply(
    bot: Bot,
    chat_id: int | str,
    reply: Reply,
    codec: CallbackCodec,
    *,
    reply_to: int | None = None,
    thread_id: int | None = None,
    shown: Message | None = None,
) -> list[Message]:
    """The whole reply; `shown` is a message already showing its partial text (a group's
    streamed answer), which becomes the first chunk."""
    chunks = split_html(render_html(reply)) or ["…"]
    markup = keyboard(reply.actions, codec)
    sent: list[Message] = []
    for index, chunk in enumerate(chunks):
        buttons = markup if index == len(chunks) - 1 else None
        if index == 0 and shown is not None:
            sent.extend(await edit_chunk(bot, shown, chunk, markup=buttons, thread_id=thread_id))
        else:
            first = reply_to if not sent else None
            sent.extend(
                await send_chunk(
                    bot, chat_id, chunk, markup=buttons, reply_to=first, thread_id=thread_id
                )
            )
    for attachment in reply.files:
        upload = InputFile(attachment.content, filename=attachment.filename)
        if attachment.mime_type.startswith("image/"):
            sent.append(
                await retrying(
                    lambda upload=upload: bot.send_photo(
                        chat_id, upload, message_thread_id=thread_id
                    )
                )
            )
        else:
            sent.append(
                await retrying(
                    lambda upload=upload: bot.send_document(
                        chat_id, upload, message_thread_id=thread_id
                    )
                )
            )
    return sent
