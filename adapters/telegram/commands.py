"""The bot's commands: what each one asks of the core, and the menus Telegram shows for them
in each language (setMyCommands with language_code)."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand

from bot import i18n
from bot.messages import Action

log = logging.getLogger(__name__)

# The menu, in the order Telegram lists it; each has "telegram.command.<name>" in the catalogue.
MENU = ("start", "help", "lang", "submit", "cancel", "myleads", "report", "privacy")
# Telegram command → the core's command (bot.intents and the commands the core answers).
_CORE = {
    "start": "start",
    "help": "help",
    "privacy": "privacy",
    "submit": "new_lead",
    "newlead": "new_lead",
    "new_lead": "new_lead",
    "cancel": "cancel",
    "myleads": "my_leads",
    "my_leads": "my_leads",
    "report": "report",
    "ingest": "ingest",
    "invite": "invite",
    "ask": "ask",
    "summary": "summary",
    "lead": "lead",
    "offer": "offer",
    "match": "match",
}
LANGUAGE_MENU = "lang"
# Commands whose document goes to the core with them.
WITH_DOCUMENTS = frozenset({"report", "ingest"})


def command_action(name: str, argument: str) -> Action | None:
    """The core action of a command; None for /lang without a language (the adapter shows
    the language keyboard)."""
    name = name.lower()
    argument = argument.strip()
    if name == LANGUAGE_MENU:
        if argument and i18n.supported(argument) == argument.lower()[:2]:
            return Action("language", value=i18n.supported(argument))
        return None
    return Action(_CORE.get(name, name), value=argument)


def split_command(text: str) -> tuple[str, str]:
    """("start", "CODE") from "/start@zbrain_bot CODE"."""
    head, _, argument = text.strip().partition(" ")
    name = head.lstrip("/").partition("@")[0]
    return name.lower(), argument.strip()


def menu(language: str) -> list[BotCommand]:
    return [BotCommand(name, i18n.text(f"telegram.command.{name}", language)) for name in MENU]


async def set_menus(bot: Bot) -> None:
    """The command menu in each working language, and English for every other client."""
    try:
        await bot.set_my_commands(menu("en"))
        for language in i18n.LANGUAGES:
            await bot.set_my_commands(menu(language), language_code=language)
    except Exception as exc:  # noqa: BLE001 - a missing menu must not keep the bot from answering
        log.warning("the command menus were not set: %s: %s", type(exc).__name__, exc)
