"""A Reply as Telegram shows it: escaped HTML with the sources listed (linked where they have a
public address), and its buttons as an inline keyboard."""

from __future__ import annotations

import html
from collections.abc import Sequence
from itertools import groupby

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from adapters.telegram.callbacks import CallbackCodec
from bot import i18n
from bot.messages import Action, Citation, Reply

_ROW = 3  # buttons side by side before the row wraps


def _kind(citation: Citation, language: str) -> str:
    key = f"kind.{citation.kind}"
    return i18n.text(key, language) if i18n.has(key) else citation.kind


def citation_line(citation: Citation, language: str) -> str:
    title = html.escape(citation.title)
    if citation.url and citation.url.startswith(("http://", "https://")):
        title = f'<a href="{html.escape(citation.url, quote=True)}">{title}</a>'
    details = _kind(citation, language) + (f", {citation.date}" if citation.date else "")
    return f"[{citation.number}] {title} ({html.escape(details)})"


def render_html(reply: Reply) -> str:
    """The reply's text escaped for parse mode HTML, then its sources."""
    parts = [html.escape(reply.text.strip(), quote=False)]
    if reply.citations:
        heading = html.escape(i18n.text("answer.sources", reply.language))
        lines = [citation_line(c, reply.language) for c in reply.citations]
        parts.append(f"<b>{heading}</b>\n" + "\n".join(lines))
    return "\n\n".join(part for part in parts if part)


def keyboard(actions: Sequence[Action], codec: CallbackCodec) -> InlineKeyboardMarkup | None:
    """One row per kind of button (👍 and 👎 side by side), wrapped after three."""
    if not actions:
        return None
    rows: list[list[InlineKeyboardButton]] = []
    for _, same in groupby(actions, key=lambda a: a.id):
        buttons = [
            InlineKeyboardButton(a.label or a.value or a.id, callback_data=codec.encode(a))
            for a in same
        ]
        rows.extend(buttons[i : i + _ROW] for i in range(0, len(buttons), _ROW))
    return InlineKeyboardMarkup(rows)


def language_keyboard(codec: CallbackCodec) -> InlineKeyboardMarkup:
    """The six languages, each named in itself."""
    actions = [
        Action("language", i18n.text("telegram.language_name", lang), lang)
        for lang in i18n.LANGUAGES
    ]
    buttons = [InlineKeyboardButton(a.label, callback_data=codec.encode(a)) for a in actions]
    return InlineKeyboardMarkup([buttons[i : i + _ROW] for i in range(0, len(buttons), _ROW)])
