"""Splitting Telegram HTML into messages of at most 4096 characters.

Telegram counts a message's length after parsing its entities: tags cost nothing and `&amp;`
is one character (and it counts UTF-16 code units, so an emoji is two). A chunk never ends
inside a tag; a formatting tag still open at a break is closed at the end of the chunk and
opened again at the start of the next, so every chunk is valid HTML on its own.
"""

from __future__ import annotations

import html
import re

MAX_MESSAGE = 4096
_TOKEN = re.compile(r"<[^>]*>|&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z]+);|[^<&]+|[<&]")
_TAG_NAME = re.compile(r"</?\s*([A-Za-z-]+)")
_LINK = re.compile(r'<a\s+href="([^"]*)"\s*>(.*?)</a>', re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


def units(text: str) -> int:
    """Telegram's length of plain text: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def visible_length(markup: str) -> int:
    """The length Telegram counts for HTML: the text after its tags and entities are parsed."""
    return units(html.unescape(_TAG.sub("", markup)))


def _fit(text: str, room: int) -> int:
    """The most characters of `text` whose length is at most `room` units."""
    total = 0
    for index, char in enumerate(text):
        total += 2 if ord(char) > 0xFFFF else 1
        if total > room:
            return index
    return len(text)


def _break_at(window: str, filled: int, limit: int) -> int:
    """Where to end a chunk inside `window`: after a blank line, a line, or a space, if that
    leaves the chunk at least half full; 0 when there is no good place."""
    for separator in ("\n\n", "\n", " "):
        index = window.rfind(separator)
        if index > 0 and filled + index >= limit // 2:
            return index + len(separator)
    index = window.rfind(" ")
    return index + 1 if index > 0 else 0


def split_html(markup: str, limit: int = MAX_MESSAGE) -> list[str]:
    """The HTML in chunks Telegram accepts, each at most `limit` visible characters."""
    chunks: list[str] = []
    current: list[str] = []
    used = 0
    open_tags: list[tuple[str, str]] = []  # (name, opening tag), outermost first

    def flush() -> None:
        nonlocal current, used
        closing = "".join(f"</{name}>" for name, _ in reversed(open_tags))
        chunk = ("".join(current) + closing).strip()
        if visible_length(chunk.strip()) and _TAG.sub("", chunk).strip():
            chunks.append(chunk)
        current = [tag for _, tag in open_tags]
        used = 0

    for token in _TOKEN.findall(markup):
        if token.startswith("<") and len(token) > 1 and token.endswith(">"):
            match = _TAG_NAME.match(token)
            name = match.group(1).lower() if match else ""
            if token.startswith("</"):
                for index in range(len(open_tags) - 1, -1, -1):
                    if open_tags[index][0] == name:
                        del open_tags[index]
                        break
            elif not token.endswith("/>"):
                open_tags.append((name, token))
            current.append(token)
            continue
        if token.startswith("&") and token.endswith(";") or token in ("<", "&"):
            size = units(html.unescape(token))
            if used + size > limit:
                flush()
            current.append(token if token not in ("<", "&") else html.escape(token))
            used += size
            continue
        text = token
        while text:
            room = limit - used
            if units(text) <= room:
                current.append(text)
                used += units(text)
                break
            window = text[: _fit(text, room)]
            cut = _break_at(window, used, limit)
            if cut == 0:
                if used > 0:
                    flush()
                    continue
                cut = max(1, len(window))
            current.append(text[:cut])
            used += units(text[:cut])
            flush()
            text = text[cut:].lstrip(" \n")
    flush()
    return chunks


def plain_from_html(markup: str) -> str:
    """The same text without markup, for when Telegram refuses the HTML: links keep their
    address after the title."""

    def link(match: re.Match[str]) -> str:
        # Still escaped here: the whole text is unescaped once, below.
        url, title = match.group(1), _TAG.sub("", match.group(2))
        same = html.unescape(title).strip() == html.unescape(url).strip()
        return title if same else f"{title} ({url})"

    return html.unescape(_TAG.sub("", _LINK.sub(link, markup)))


def split_plain(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Plain text in chunks of at most `limit` characters, broken where a person would."""
    return [html.unescape(chunk) for chunk in split_html(html.escape(text, quote=False), limit)]


def clip_partial(text: str, limit: int = MAX_MESSAGE) -> str:
    """A partial answer longer than one message: its newest part, after an ellipsis."""
    if units(text) <= limit:
        return text
    tail = text[len(text) - _fit(text[::-1], limit - 1) :]
    return "…" + tail
