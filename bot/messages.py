"""The one seam between chat adapters and the core: neutral messages in, replies out."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class IncomingMessage:
    text: str
    platform: str  # "slack" | "telegram" | "cli"
    user_id: str  # platform-scoped id
    conversation_id: str  # thread / chat: where follow-ups belong
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class Citation:
    number: int
    title: str
    kind: str
    date: str | None
    source: str
    visibility: str
    doc_id: str = ""
    expired: bool = False


@dataclass(frozen=True)
class Action:
    id: str
    label: str
    value: str = ""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Reply:
    text: str
    citations: tuple[Citation, ...] = ()
    actions: tuple[Action, ...] = ()
    files: tuple[Attachment, ...] = ()
    mode: Literal["llm", "extractive"] = "extractive"
    language: str = "en"
    abstained: bool = False


@dataclass(frozen=True)
class PartialText:
    """Text so far (the whole of it, not a delta): adapters replace the message they show."""

    text: str


ReplyUpdate = PartialText | Reply
Handler = Callable[[IncomingMessage], AsyncIterator[ReplyUpdate]]
