"""A `Reply` as Block Kit, built with `slack_sdk.models.blocks` so the SDK checks Slack's limits:
the answer in mrkdwn (escaped, split to fit a section and a message), the numbered sources in a
context block, 👍/👎 `feedback_buttons` in `context_actions`, and the other buttons (route to a
person, an upload's kind and visibility, …) as ordinary buttons.

Every button carries the core's `Action` as JSON in its value, so a press comes back as the
same Action (id, value, reply id) whatever the button looked like.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextActionsBlock,
    ContextBlock,
    FeedbackButtonObject,
    FeedbackButtonsElement,
    MarkdownTextObject,
    SectionBlock,
)

from bot import i18n
from bot.messages import Action, Citation, Reply

ACTION_PREFIX = "zb_"
SECTION_CHARS = SectionBlock.text_max_length  # 3000
MESSAGE_BLOCKS = 50
# A message's top-level `text` is what notifications and screen readers show.
FALLBACK_CHARS = 3000
_CONTEXT_ELEMENTS = ContextBlock.elements_max_length  # 10
_BUTTONS_PER_BLOCK = 25
_BUTTON_TEXT = 75
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_HEADING = re.compile(r"^#{1,6}\s+(.+)$", re.MULTILINE)


def escape(text: str) -> str:
    """Slack's three control characters; the rest of mrkdwn stays as written."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn(text: str) -> str:
    """The core's Markdown-ish text as Slack mrkdwn: escaped, **bold** and headings as *bold*."""
    escaped = escape(text)
    escaped = _HEADING.sub(lambda m: f"*{m.group(1).strip()}*", escaped)
    return _BOLD.sub(lambda m: f"*{m.group(1)}*", escaped)


def split_text(text: str, limit: int = SECTION_CHARS) -> list[str]:
    """Pieces of at most `limit` characters, cut at a paragraph, else a line, else a space."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), 0) or max(window.rfind("\n"), 0) or window.rfind(" ")
        if cut < limit // 2:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def encode_action(action: Action) -> str:
    return json.dumps(
        {"id": action.id, "v": action.value, "r": action.reply_id},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def decode_action(payload: Mapping[str, Any]) -> Action | None:
    """The core's Action from one entry of a block_actions payload's `actions`; None for a
    button that is not ours."""
    if not str(payload.get("action_id", "")).startswith(ACTION_PREFIX):
        return None
    raw = payload.get("value")
    if raw is None and isinstance(payload.get("selected_option"), Mapping):
        raw = payload["selected_option"].get("value")
    try:
        data = json.loads(str(raw))
    except (TypeError, ValueError):
        return None
    if not isinstance(data, dict) or not data.get("id"):
        return None
    return Action(str(data["id"]), value=str(data.get("v", "")), reply_id=str(data.get("r", "")))


def _source_line(citation: Citation, language: str) -> str:
    kind_key = f"kind.{citation.kind}"
    kind = i18n.text(kind_key, language) if i18n.has(kind_key) else citation.kind
    title = escape(citation.title)
    if citation.url and citation.url.startswith(("http://", "https://")):
        title = f"<{citation.url.replace('|', '%7C').replace('>', '%3E')}|{title}>"
    details = ", ".join(escape(part) for part in (kind, citation.date or "") if part)
    return f"[{citation.number}] {title} ({details})" if details else f"[{citation.number}] {title}"


def source_blocks(reply: Reply) -> list[Block]:
    if not reply.citations:
        return []
    heading = f"*{escape(i18n.text('answer.sources', reply.language))}*"
    lines = [heading, *(_source_line(c, reply.language) for c in reply.citations)]
    elements: list[MarkdownTextObject] = []
    current = ""
    for line in lines:
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > SECTION_CHARS and current:
            elements.append(MarkdownTextObject(text=current))
            current = line[:SECTION_CHARS]
        else:
            current = candidate[:SECTION_CHARS]
    if current:
        elements.append(MarkdownTextObject(text=current))
    return [
        ContextBlock(elements=elements[i : i + _CONTEXT_ELEMENTS])
        for i in range(0, len(elements), _CONTEXT_ELEMENTS)
    ]


def _label(text: str) -> str:
    return text if len(text) <= _BUTTON_TEXT else text[: _BUTTON_TEXT - 1] + "…"


def action_blocks(actions: Sequence[Action]) -> list[Block]:
    """👍/👎 as Slack's own feedback buttons; every other button as a plain button (the
    `icon_button` of context_actions only offers a trash icon)."""
    blocks: list[Block] = []
    votes = {a.value: a for a in actions if a.id == "feedback"}
    if "up" in votes and "down" in votes:
        up, down = votes["up"], votes["down"]
        blocks.append(
            ContextActionsBlock(
                elements=[
                    FeedbackButtonsElement(
                        action_id=f"{ACTION_PREFIX}feedback",
                        positive_button=FeedbackButtonObject(
                            text="👍", accessibility_label=_label(up.label), value=encode_action(up)
                        ),
                        negative_button=FeedbackButtonObject(
                            text="👎",
                            accessibility_label=_label(down.label),
                            value=encode_action(down),
                        ),
                    )
                ]
            )
        )
    others = [a for a in actions if not (a.id == "feedback" and a.value in ("up", "down"))]
    buttons = [
        ButtonElement(
            text=_label(action.label or action.id),
            action_id=f"{ACTION_PREFIX}{action.id}_{n}",
            value=encode_action(action),
        )
        for n, action in enumerate(others)
    ]
    for i in range(0, len(buttons), _BUTTONS_PER_BLOCK):
        blocks.append(ActionsBlock(elements=buttons[i : i + _BUTTONS_PER_BLOCK]))
    return blocks


def answer_blocks(text: str) -> list[Block]:
    return [
        SectionBlock(text=MarkdownTextObject(text=piece), expand=True)
        for piece in split_text(mrkdwn(text))
    ]


def footer_blocks(reply: Reply) -> list[Block]:
    return [*source_blocks(reply), *action_blocks(reply.actions)]


def reply_messages(reply: Reply) -> list[list[Block]]:
    """The reply as one or more messages of at most 50 blocks; sources and buttons go on the
    last one. Each block was validated by the SDK (`to_dict` raises on a limit broken)."""
    body = answer_blocks(reply.text) or [SectionBlock(text=MarkdownTextObject(text=" "))]
    footer = footer_blocks(reply)
    messages: list[list[Block]] = []
    for i in range(0, len(body), MESSAGE_BLOCKS):
        messages.append(body[i : i + MESSAGE_BLOCKS])
    if len(messages[-1]) + len(footer) <= MESSAGE_BLOCKS:
        messages[-1].extend(footer)
    else:
        messages.append(footer)
    return messages


def as_dicts(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    return [block.to_dict() for block in blocks]


def fallback_text(text: str) -> str:
    plain = escape(text.strip())
    return plain if len(plain) <= FALLBACK_CHARS else plain[: FALLBACK_CHARS - 1] + "…"
