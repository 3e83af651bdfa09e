"""Posting to a channel without being asked: the core's seam for messages it starts itself (the
scheduled digest, and new leads announced to the suggested division's channel).

A channel is a string such as `file:managers`, `terminal:` or, once their adapters exist,
`slack:#div-bohai` or `telegram:-1001234567890`. A `PosterRegistry` routes it by prefix to the
`Poster` of the adapter that serves that platform; the adapter registers itself with the
prefixes it answers to (the Slack adapter will also take a bare `#channel`). The core only ever
sees `Poster.post(channel, reply) -> message id`, the same neutral `Reply` that answers use.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import re
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from bot.messages import Reply


class Poster(Protocol):
    async def post(self, channel: str, reply: Reply) -> str:
        """Post the reply to the channel; returns the platform's id of the new message."""
        ...


class UnknownChannelError(ValueError):
    """No poster this process has serves the channel; the message lists what would."""


class PosterRegistry:
    """Routes each channel to the poster registered for the longest prefix it starts with."""

    def __init__(self) -> None:
        self._routes: dict[str, Poster] = {}

    def register(self, prefix: str, poster: Poster) -> None:
        if not prefix:
            raise ValueError("a channel prefix may not be empty")
        self._routes[prefix] = poster

    @property
    def prefixes(self) -> list[str]:
        return sorted(self._routes)

    def resolve(self, channel: str) -> Poster:
        matching = [p for p in self._routes if channel.startswith(p) or channel == p.rstrip(":")]
        if not matching:
            known = ", ".join(f"'{p}…'" for p in self.prefixes) or "none"
            raise UnknownChannelError(
                f"no adapter in this process posts to channel {channel!r}; "
                f"channels it can post to start with: {known}"
            )
        return self._routes[max(matching, key=len)]

    async def post(self, channel: str, reply: Reply) -> str:
        return await self.resolve(channel).post(channel, reply)


_UNSAFE = re.compile(r"[^\w.\-]+")


class FilePoster:
    """Appends each post as one JSON line to `<folder>/posts.jsonl`, attachments saved under
    `<folder>/files/<message id>/`: an outbox operators can read and tests can assert on."""

    def __init__(self, folder: Path, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.folder = folder
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._lock = threading.Lock()

    @property
    def log_file(self) -> Path:
        return self.folder / "posts.jsonl"

    async def post(self, channel: str, reply: Reply) -> str:
        return await asyncio.to_thread(self._write, channel, reply)

    def _write(self, channel: str, reply: Reply) -> str:
        now = self.clock()
        message_id = f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        files = []
        for attachment in reply.files:
            name = _UNSAFE.sub("_", Path(attachment.filename).name).strip("._") or "file"
            path = self.folder / "files" / message_id / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(attachment.content)
            files.append(
                {
                    "filename": attachment.filename,
                    "path": str(path.relative_to(self.folder)),
                    "mime_type": attachment.mime_type,
                }
            )
        record = {
            "id": message_id,
            "at": now.isoformat(),
            "channel": channel,
            "language": reply.language,
            "text": reply.text,
            "files": files,
        }
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._lock:
            # One write on an O_APPEND descriptor: lines from two processes never interleave.
            fd = os.open(self.log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
        return message_id


def read_posts(folder: Path) -> list[dict[str, object]]:
    """The posts a FilePoster wrote to the folder, oldest first."""
    log_file = folder / "posts.jsonl"
    if not log_file.exists():
        return []
    lines = log_file.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]
