"""`zbrain telegram group CHAT_ID --node munich`, `… --unbind`, `zbrain telegram group list`:
which Telegram groups are a node's partner groups (answered at partner level; every other
group at guest level). Opens only the SQL database."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from adapters.telegram import PLATFORM
from bot import i18n
from bot.settings import ConfigError, load_settings
from knowledge.group_bindings import GroupBindings
from knowledge.migrations import DatabaseSchemaError
from knowledge.sql import make_engine

out = Console(soft_wrap=True)
err = Console(stderr=True)
LANG = "en"  # the admin commands speak English; every line still comes from the catalogue

telegram_app = typer.Typer(
    help="The Telegram bot: which groups belong to a node.", no_args_is_help=True
)


@telegram_app.callback()
def _group_of_commands() -> None:
    """The Telegram bot: which groups belong to a node."""


def _t(key: str, **values: object) -> str:
    return i18n.text(key, LANG, **values)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _bindings() -> GroupBindings:
    settings = load_settings()
    return GroupBindings(make_engine(settings.resolved_database_url))


def _chat_id(text: str) -> str:
    value = text.strip()
    if not value.lstrip("-").isdigit():
        raise ValueError(
            f"chat id {text!r}: expected the group's number, e.g. -1001234567890 "
            "(send /start in the group and read it from the bot's log, or ask @RawDataBot)"
        )
    return value


# Chat ids of groups are negative: "-100123" must reach the argument, not be taken as an option.
@telegram_app.command(context_settings={"ignore_unknown_options": True})
def group(
    chat_id: Annotated[
        str, typer.Argument(help="The group's chat id (e.g. -1001234567890), or list.")
    ],
    node: Annotated[
        str | None, typer.Option("--node", help="Bind the group to this node (e.g. munich).")
    ] = None,
    unbind: Annotated[bool, typer.Option("--unbind", help="Make it a guest group again.")] = False,
) -> None:
    """Bind a group to a node (its members are answered as that node's partners), unbind it,
    or list the bound groups."""
    try:
        bindings = _bindings()
        if chat_id.strip() == "list":
            shown = bindings.list(PLATFORM)
            if not shown:
                out.print(_t("telegram.cli.none"))
            for binding in shown:
                out.print(
                    _t(
                        "telegram.cli.listed",
                        chat=binding.chat_id,
                        node=binding.node,
                        by=binding.bound_by or "?",
                        date=binding.bound_at.date().isoformat(),
                    )
                )
            return
        chat = _chat_id(chat_id)
        if unbind == (node is not None):
            raise ValueError(_t("telegram.cli.node_or_unbind"))
        if unbind:
            found = bindings.unbind(PLATFORM, chat)
            out.print(_t("telegram.cli.unbound" if found else "telegram.cli.not_bound", chat=chat))
            return
        assert node is not None
        binding = bindings.bind(PLATFORM, chat, node, by=_actor())
        out.print(_t("telegram.cli.bound", chat=chat, node=binding.node))
    except (ConfigError, DatabaseSchemaError, ValueError) as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None
