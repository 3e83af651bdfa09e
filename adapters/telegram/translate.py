"""Telegram updates → what they ask of the adapter: an `IncomingMessage` for the core, or one
of the few things the adapter answers itself (the language keyboard, a file too large to
download, a message the bot cannot read). None: not for the bot (a group message nobody
addressed to it, a member joining)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Literal

from telegram import CallbackQuery, Chat, Message, User

from adapters.telegram import PLATFORM
from adapters.telegram.commands import WITH_DOCUMENTS, command_action, split_command
from adapters.telegram.groups import Me, addressed_text, audience, command_target, is_group
from bot.messages import Action, IncomingMessage, Upload

# Telegram lets a bot download files of at most 20 MB (getFile).
DOWNLOAD_LIMIT = 20 * 1024 * 1024
# What the bot cannot read: answered with a short note, never silence.
_UNREADABLE = (
    "sticker",
    "voice",
    "photo",
    "video",
    "video_note",
    "audio",
    "animation",
    "location",
    "venue",
    "contact",
    "poll",
    "dice",
    "game",
    "story",
)

Kind = Literal["message", "languages", "unsupported", "too_large"]
Download = Callable[[str], Awaitable[bytes]]


@dataclass(frozen=True)
class Inbound:
    kind: Kind
    # For the adapter's own answers too: who asked, where, in which client language.
    message: IncomingMessage
    chat_id: int
    private: bool
    reply_to: int | None = None  # the message a group answer replies to
    thread_id: int | None = None  # a forum topic
    size: int = 0  # of a file too large to download


def conversation_id(chat: Chat, thread_id: int | None) -> str:
    return f"{chat.id}:{thread_id}" if thread_id else str(chat.id)


def message_link(chat: Chat, message_id: int) -> str:
    """A link colleagues can open (members of the group only, for a private supergroup)."""
    if chat.type == Chat.PRIVATE:
        return ""
    if chat.username:
        return f"https://t.me/{chat.username}/{message_id}"
    text = str(chat.id)
    if text.startswith("-100"):
        return f"https://t.me/c/{text[4:]}/{message_id}"
    return ""


def _base(
    user: User, chat: Chat, message: Message, bound_node: str | None, thread_id: int | None
) -> IncomingMessage:
    group = chat.type in ("group", "supergroup")
    audience_, hints = audience(bound_node) if group else (None, frozenset[str]())
    return IncomingMessage(
        text="",
        platform=PLATFORM,
        user_id=str(user.id),
        conversation_id=conversation_id(chat, thread_id),
        message_id=f"{chat.id}:{message.message_id}",
        locale=user.language_code,
        display_name=user.full_name,
        hints=hints,
        audience=audience_,
        node=bound_node if group else None,
        link=message_link(chat, message.message_id),
        raw={"chat_type": chat.type},
    )


def _thread(message: Message) -> int | None:
    return message.message_thread_id if message.is_topic_message else None


def _uploads(message: Message, download: Download) -> tuple[Upload, ...]:
    document = message.document
    if document is None:
        return ()

    async def read(file_id: str = document.file_id) -> bytes:
        return await download(file_id)

    return (
        Upload(
            filename=document.file_name or "document",
            mime_type=document.mime_type or "application/octet-stream",
            size=document.file_size or 0,
            read=read,
        ),
    )


def translate_message(
    message: Message, me: Me, *, bound_node: str | None, download: Download
) -> Inbound | None:
    user, chat = message.from_user, message.chat
    if user is None or user.is_bot or chat.type == Chat.CHANNEL:
        return None
    group = is_group(message)
    thread_id = _thread(message)
    base = _base(user, chat, message, bound_node, thread_id)
    text = message.text if message.text is not None else (message.caption or "")
    if group:
        addressed = addressed_text(message, me)
        if addressed is None:
            return None
        text = addressed
    inbound = Inbound(
        "message",
        base,
        chat.id,
        private=not group,
        reply_to=message.message_id if group else None,
        thread_id=thread_id,
    )
    if any(getattr(message, kind, None) for kind in _UNREADABLE):
        return replace(inbound, kind="unsupported")
    document = message.document
    if document is not None and (document.file_size or 0) > DOWNLOAD_LIMIT:
        return replace(inbound, kind="too_large", size=document.file_size or 0)
    if document is None and not text.strip():
        return None  # a service message: someone joined, a title changed
    attachments = _uploads(message, download)
    if command_target(message) is not None or text.startswith("/"):
        name, argument = split_command(text)
        action = command_action(name, argument)
        if action is None:
            return replace(inbound, kind="languages")
        if action.id not in WITH_DOCUMENTS:
            attachments = ()
        return replace(inbound, message=replace(base, action=action, attachments=attachments))
    return replace(inbound, message=replace(base, text=text.strip(), attachments=attachments))


def translate_callback(
    query: CallbackQuery, action: Action, *, bound_node: str | None
) -> Inbound | None:
    """A pressed button: the core's action, from the chat the button was shown in."""
    message = query.message
    if not isinstance(message, Message):
        return None  # too old for Telegram to tell us where it was
    chat = message.chat
    thread_id = _thread(message)
    base = _base(query.from_user, chat, message, bound_node, thread_id)
    private = chat.type == Chat.PRIVATE
    pressed = replace(base, action=action)
    return Inbound(
        "message",
        pressed,
        chat.id,
        private=private,
        reply_to=None if private else message.message_id,
        thread_id=thread_id,
    )
