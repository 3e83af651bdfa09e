"""The `zbrain.adapters` entry point: `telegram = "adapters.telegram.plugin:plugin"`.

Light on purpose (every `zbrain` command loads it): python-telegram-bot is imported only when
the service is built."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from adapters.telegram import BOUND_GROUP_HINT
from adapters.telegram.settings import load_telegram_settings
from bot.settings import Settings

if TYPE_CHECKING:
    from adapters.telegram.application import TelegramService
    from bot.runtime import Runtime


class TelegramPlugin:
    name = "telegram"

    def configured(self, settings: Settings) -> bool:
        return load_telegram_settings().configured

    def requirements(self) -> str:
        return "TELEGRAM_BOT_TOKEN (from BotFather)"

    def hint_roles(self, settings: Settings) -> dict[str, str]:
        # A group staff bound to a node is a partner audience (capped there by the core).
        return {BOUND_GROUP_HINT: "partner"}

    def build(self, runtime: Runtime) -> TelegramService:
        from adapters.telegram.application import TelegramService
        from adapters.telegram.poster import PREFIX

        service = TelegramService(runtime, load_telegram_settings())
        runtime.posters.register(PREFIX, service.poster)
        return service

    def register_cli(self, app: typer.Typer) -> None:
        from adapters.telegram.cli import telegram_app

        app.add_typer(telegram_app, name="telegram")


plugin = TelegramPlugin()
