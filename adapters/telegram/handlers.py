"""Updates in, replies out: every message and button press is deduplicated, translated, sent
to the core and its reply streamed back — in order within a chat, chats in parallel.

Never a crash, never silence: a failure anywhere ends in the catalogue's error message (with
its reference, also in the log), and the PTB error handler does the same for what escapes.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable

from telegram import Bot, Message, Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from adapters.telegram import PLATFORM
from adapters.telegram.callbacks import CallbackCodec
from adapters.telegram.groups import GROUP_TYPES, Me
from adapters.telegram.outgoing import retrying, send_reply
from adapters.telegram.render import language_keyboard
from adapters.telegram.settings import TelegramSettings
from adapters.telegram.sinks import DraftSink, EditSink
from adapters.telegram.split import MAX_MESSAGE
from adapters.telegram.translate import (
    DOWNLOAD_LIMIT,
    Inbound,
    translate_callback,
    translate_message,
)
from bot import i18n
from bot.messages import IncomingMessage, Reply
from bot.runtime import Runtime
from bot.streaming import deliver, failure_reply

log = logging.getLogger(__name__)
# What a guest may still do when guests are refused: join, choose a language, read the help
# and the privacy note.
_KEEP_HANDLED = 10_000
_OPEN_TO_ALL = frozenset({"start", "redeem", "language", "help", "privacy"})


def unsupported_text(language: str) -> str:
    return i18n.text("core.unsupported_message", language)


class TelegramHandlers:
    def __init__(self, runtime: Runtime, settings: TelegramSettings, codec: CallbackCodec) -> None:
        self.runtime = runtime
        self.settings = settings
        self.codec = codec
        self.me: Me | None = None
        # The latest update ids whose handling ended (answered, ignored or failed), oldest
        # first: for tests and diagnostics, not deduplication (that is SQL's).
        self.handled: dict[int, None] = {}
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def install(self, application: Application) -> None:  # type: ignore[type-arg]
        application.add_handler(CallbackQueryHandler(self.on_callback))
        application.add_handler(MessageHandler(filters.UpdateType.MESSAGE, self.on_message))
        application.add_error_handler(self.on_error)

    # ------------------------------------------------------------------ PTB callbacks
    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._guarded(update, context.bot, self._message)

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is not None:
            try:
                # Always, and first: the client shows a spinner on the button until answered.
                await query.answer()
            except Exception as exc:  # noqa: BLE001 - the press itself is still handled
                log.warning("callback query not answered: %s: %s", type(exc).__name__, exc)
        await self._guarded(update, context.bot, self._callback)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """What escaped a handler, or went wrong polling: logged without the token, and the
        person (if there is one) told."""
        error = context.error
        log.error("Telegram: %s: %s", type(error).__name__, self._scrub(str(error)))
        if isinstance(update, Update) and update.effective_chat is not None:
            await self._tell_failure(context.bot, update, update.effective_chat.id)

    # ------------------------------------------------------------------ one update
    async def _guarded(
        self, update: Update, bot: Bot, work: Callable[[Update, Bot], Awaitable[None]]
    ) -> None:
        try:
            if await self._first_delivery(update, bot):
                await work(update, bot)
        except Exception:
            chat = update.effective_chat
            reference = await self._tell_failure(bot, update, chat.id if chat else None)
            log.exception("reference %s: Telegram update %s failed", reference, update.update_id)
        finally:
            self.handled[update.update_id] = None
            while len(self.handled) > _KEEP_HANDLED:
                del self.handled[next(iter(self.handled))]

    async def _first_delivery(self, update: Update, bot: Bot) -> bool:
        """False for an update already handled (Telegram retries a webhook it got no 200
        for; a second worker may poll the same bot)."""
        key = f"{bot.id}:{update.update_id}"
        claim = self.runtime.services.handled_events.claim
        first = await asyncio.to_thread(claim, PLATFORM, key)
        if not first:
            log.info("Telegram update %s was already handled", update.update_id)
        return first

    async def _message(self, update: Update, bot: Bot) -> None:
        message = update.message
        if message is None:
            return  # an edit of an old message: not a new question
        inbound = translate_message(
            message,
            self._me(bot),
            bound_node=await self._bound_node(message),
            download=self._downloader(bot),
        )
        if inbound is not None:
            await self._respond(bot, inbound)

    async def _callback(self, update: Update, bot: Bot) -> None:
        query = update.callback_query
        if query is None or not isinstance(query.message, Message):
            return
        action = self.codec.decode(query.data or "")
        bound = await self._bound_node(query.message)
        if action is None:
            # A button from before a restart that the compact form could not carry.
            language = await self._language(str(query.from_user.id), query.from_user.language_code)
            await self._send_local(
                bot, query.message.chat.id, i18n.text("telegram.button_expired", language), language
            )
            return
        inbound = translate_callback(query, action, bound_node=bound)
        if inbound is not None:
            await self._respond(bot, inbound)

    async def _respond(self, bot: Bot, inbound: Inbound) -> None:
        async with self._lock(inbound.message.conversation_id):
            message = inbound.message
            if inbound.kind != "message" or await self._refused(message):
                language = await self._language(message.user_id, message.locale)
                await self._answer_locally(bot, inbound, language)
                return
            if inbound.private:
                sink: DraftSink | EditSink = DraftSink(
                    bot, inbound.chat_id, self.codec, thread_id=inbound.thread_id
                )
                interval = self.settings.draft_interval
            else:
                sink = EditSink(
                    bot,
                    inbound.chat_id,
                    self.codec,
                    reply_to=inbound.reply_to,
                    thread_id=inbound.thread_id,
                )
                interval = self.settings.edit_interval
            await deliver(
                self.runtime.assistant(message),
                sink,
                interval=interval,
                language=i18n.supported(message.locale),
            )

    async def _answer_locally(self, bot: Bot, inbound: Inbound, language: str) -> None:
        """What the adapter answers itself: the language keyboard, a file it cannot
        download, a message it cannot read, a guest where guests are refused."""
        markup = None
        if inbound.kind == "languages":
            text = i18n.text("telegram.choose_language", language)
            markup = language_keyboard(self.codec)
        elif inbound.kind == "unsupported":
            text = unsupported_text(language)
        elif inbound.kind == "too_large":
            megabytes = i18n.number(inbound.size / 1024 / 1024, language, digits=1)
            limit = i18n.number(DOWNLOAD_LIMIT // 1024 // 1024, language)
            text = i18n.text("telegram.file_too_large", language, size=megabytes, limit=limit)
        else:
            text = i18n.text("telegram.guests_refused", language)
        if markup is not None:
            await retrying(
                lambda: bot.send_message(
                    inbound.chat_id, text, reply_markup=markup, message_thread_id=inbound.thread_id
                )
            )
            return
        await self._send_local(
            bot,
            inbound.chat_id,
            text,
            language,
            reply_to=inbound.reply_to,
            thread_id=inbound.thread_id,
        )

    async def _send_local(
        self,
        bot: Bot,
        chat_id: int,
        text: str,
        language: str,
        *,
        reply_to: int | None = None,
        thread_id: int | None = None,
    ) -> None:
        reply = Reply(text[: MAX_MESSAGE * 4], language=language)
        await send_reply(bot, chat_id, reply, self.codec, reply_to=reply_to, thread_id=thread_id)

    # ------------------------------------------------------------------ helpers
    def _me(self, bot: Bot) -> Me:
        if self.me is None:
            self.me = Me(bot.id, bot.username)
        return self.me

    def _lock(self, conversation: str) -> asyncio.Lock:
        lock = self._locks.get(conversation)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[conversation] = lock
        return lock

    async def _bound_node(self, message: Message) -> str | None:
        if message.chat.type not in GROUP_TYPES:
            return None
        groups = self.runtime.services.groups
        binding = await asyncio.to_thread(groups.get, PLATFORM, str(message.chat.id))
        return binding.node if binding is not None else None

    async def _language(self, user_id: str, locale: str | None) -> str:
        """The person's chosen language, else their client's."""
        identities = self.runtime.services.identities
        identity = await asyncio.to_thread(identities.get, PLATFORM, user_id)
        if identity is not None and identity.language:
            return i18n.supported(identity.language)
        return i18n.supported(locale)

    async def _refused(self, message: IncomingMessage) -> bool:
        """With ZBRAIN_TELEGRAM_GUESTS=refuse, only people the registry knows above guest
        (and bound groups) are answered; everyone may still join with a code."""
        if self.settings.guests != "refuse" or message.hints:
            return False
        if message.action is not None and message.action.id in _OPEN_TO_ALL:
            return False
        identities = self.runtime.services.identities
        identity = await asyncio.to_thread(identities.get, PLATFORM, message.user_id)
        return identity is None or identity.role == "guest"

    def _downloader(self, bot: Bot) -> Callable[[str], Awaitable[bytes]]:
        async def download(file_id: str) -> bytes:
            file = await bot.get_file(file_id)
            if (file.file_size or 0) > DOWNLOAD_LIMIT:
                raise ValueError(f"file of {file.file_size} bytes is over Telegram's 20 MB")
            return bytes(await file.download_as_bytearray())

        return download

    async def _tell_failure(self, bot: Bot, update: Update, chat_id: int | None) -> str:
        user = update.effective_user
        language = i18n.supported(user.language_code if user else None)
        reply = failure_reply(language)
        if chat_id is not None:
            try:
                await send_reply(bot, chat_id, reply, self.codec)
            except Exception as exc:  # noqa: BLE001 - Telegram itself is unreachable: log it
                log.error(
                    "could not tell chat %s about failure %s: %s: %s",
                    chat_id,
                    reply.id,
                    type(exc).__name__,
                    self._scrub(str(exc)),
                )
        return reply.id

    def _scrub(self, text: str) -> str:
        token = self.settings.bot_token.get_secret_value() if self.settings.bot_token else ""
        return text.replace(token, "<token>") if token else text
