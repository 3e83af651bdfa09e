"""The one seam between chat adapters and the core: neutral messages in, replies out.

Adapters build an `IncomingMessage` from a platform event, drive the `Handler` and render the
`ReplyUpdate`s it yields. Nothing here names a platform's SDK; the core never trusts a role an
adapter invents: it resolves the identity from (platform, user_id) itself, and `hints` only
carry what the platform knows about the person (e.g. "workspace member").
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Action:
    """A button: shown on a Reply, and sent back on the IncomingMessage when pressed.

    `id` names what the button does (an `bot.intents` command such as "feedback" or
    "route"); `value` carries its argument ("up", "down", a lead id); `reply_id` is the Reply
    the button was shown under, so feedback and routing attach to the right answer."""

    id: str
    label: str = ""
    value: str = ""
    reply_id: str = ""


@dataclass(frozen=True)
class Upload:
    """A file the person sent. `read` fetches the bytes only when the core wants them (an
    adapter may have to download them from the platform)."""

    filename: str
    mime_type: str
    size: int
    read: Callable[[], Awaitable[bytes]] = field(repr=False, compare=False)


@dataclass(frozen=True)
class IncomingMessage:
    text: str
    platform: str  # "slack" | "telegram" | "cli" | ...
    user_id: str  # platform-scoped id; the core resolves it to an identity and role
    conversation_id: str  # thread / chat: where follow-ups belong
    message_id: str = ""
    locale: str | None = None  # the client's language hint ("de", "zh-CN", "he-IL")
    action: Action | None = None  # a button press
    attachments: tuple[Upload, ...] = ()
    display_name: str = ""
    # What the platform knows of the person, as names the core maps to roles by settings
    # (e.g. "workspace_member", "slack_manager"); never a role itself.
    hints: frozenset[str] = frozenset()
    # The most the conversation's audience may see (a shared channel, a group): the core
    # answers at the lower of this and the asker's role.
    audience: str | None = None
    # The node a conversation belongs to (a Telegram group staff bound to the Munich node):
    # its members act for that node when they have none of their own.
    node: str | None = None
    # A link a colleague can open to reach this conversation (a Slack permalink), if any.
    link: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class Citation:
    number: int
    title: str
    kind: str
    date: str | None
    visibility: str
    doc_id: str = ""
    expired: bool = False
    url: str | None = None  # a public link; None shows the title only, never a path


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"


def new_reply_id() -> str:
    return f"R-{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True)
class Reply:
    text: str
    citations: tuple[Citation, ...] = ()
    actions: tuple[Action, ...] = ()
    files: tuple[Attachment, ...] = ()
    mode: Literal["llm", "extractive"] = "extractive"
    language: str = "en"
    abstained: bool = False
    # Feedback and the audit trail attach here; stable for the life of the reply.
    id: str = field(default_factory=new_reply_id)
    # A failure the person was told about (the error reference), or a refusal; adapters may
    # style it differently but must show it.
    error: bool = False
    # People to notify with a post, as platform-qualified handles ("slack:U0123ABC"): a
    # poster on that platform mentions them, the others ignore them.
    mentions: tuple[str, ...] = ()


@dataclass(frozen=True)
class PartialText:
    """Text so far (the whole of it, not a delta): adapters replace the message they show."""

    text: str


ReplyUpdate = PartialText | Reply
Handler = Callable[[IncomingMessage], AsyncIterator[ReplyUpdate]]
