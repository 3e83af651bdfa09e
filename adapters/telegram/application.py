"""The bot as a `zbrain serve` service: python-telegram-bot's Application, driven by hand
inside the server's own event loop (initialize, start, then polling or the webhook; stop and
shutdown in reverse) rather than `run_polling`, which would own the loop."""

from __future__ import annotations

import logging

from telegram.error import InvalidToken
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder

from adapters.telegram.callbacks import CallbackCodec
from adapters.telegram.commands import set_menus
from adapters.telegram.groups import Me
from adapters.telegram.handlers import TelegramHandlers
from adapters.telegram.poster import TelegramPoster
from adapters.telegram.settings import TelegramSettings
from adapters.telegram.webhook import webhook_handler
from bot.runtime import Runtime
from bot.settings import ConfigError

log = logging.getLogger(__name__)
ALLOWED_UPDATES = ["message", "callback_query"]
# Updates handled at once (chats in parallel; one chat's messages keep their order).
CONCURRENT_UPDATES = 64


def build_application(settings: TelegramSettings) -> Application:  # type: ignore[type-arg]
    builder = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(settings.api_url)
        .base_file_url(settings.resolved_file_url)
        # Telegram's flood limits (30 messages a second, 20 a minute per group); a RetryAfter
        # pauses every request, then the call is tried again.
        .rate_limiter(AIORateLimiter(max_retries=2))
        .concurrent_updates(CONCURRENT_UPDATES)
        .job_queue(None)
    )
    if settings.mode == "webhook":
        builder = builder.updater(None)
    return builder.build()


class TelegramService:
    name = "telegram"

    def __init__(self, runtime: Runtime, settings: TelegramSettings) -> None:
        self.runtime = runtime
        self.settings = settings
        secret = settings.check_webhook() if settings.mode == "webhook" else None
        self.codec = CallbackCodec()
        self.application = build_application(settings)
        self.handlers = TelegramHandlers(runtime, settings, self.codec)
        self.handlers.install(self.application)
        self.poster = TelegramPoster(self.application.bot, self.codec)
        self._secret = secret
        if secret is not None:
            handler = webhook_handler(self.application, secret)
            runtime.http.add("POST", settings.webhook_path, handler)

    async def start(self) -> None:
        application = self.application
        try:
            await application.initialize()
        except InvalidToken:
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN was refused by the Bot API; copy the token from BotFather"
            ) from None
        bot = application.bot
        self.handlers.me = Me(bot.id, bot.username)
        await set_menus(bot)
        await application.start()
        if application.updater is not None:
            await application.updater.start_polling(
                poll_interval=0.0,
                timeout=self.settings.poll_timeout,
                allowed_updates=ALLOWED_UPDATES,
            )
            how = "long polling"
        else:
            how = f"webhook on {self.settings.webhook_path}"
            if self.settings.webhook_url:
                await bot.set_webhook(
                    self.settings.webhook_url,
                    secret_token=self._secret,
                    allowed_updates=ALLOWED_UPDATES,
                )
                how += f" (registered as {self.settings.webhook_url})"
        log.info("Telegram bot @%s answering by %s", bot.username, how)

    async def stop(self) -> None:
        application = self.application
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            # Waits for the updates being answered.
            await application.stop()
        await application.shutdown()
