"""The terminal adapter: `zbrain ask` and `zbrain chat` talk to the core through the same
seam as Slack and Telegram (IncomingMessage in, streamed ReplyUpdates out)."""

from __future__ import annotations

import asyncio
import datetime as dt
import getpass
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

from bot import i18n
from bot.messages import Attachment, Handler, IncomingMessage, Reply

# The person at the terminal runs zbrain on this machine: the runtime maps this hint to the
# role given with --as (the registry can still override it).
LOCAL_OPERATOR = "local_operator"


def citation_lines(reply: Reply) -> list[str]:
    lines = []
    for c in reply.citations:
        date = f", {c.date}" if c.date else ""
        link = f" — {c.url}" if c.url else ""
        kind = i18n.text(f"kind.{c.kind}", reply.language) if i18n.has(f"kind.{c.kind}") else c.kind
        lines.append(f"[{c.number}] {c.title} ({kind}{date}){link}")
    return lines


class TerminalAdapter:
    def __init__(
        self,
        handler: Handler,
        out: TextIO,
        *,
        conversation_id: str | None = None,
        files_dir: Path | None = None,
    ) -> None:
        self.handler = handler
        self.out = out
        # A terminal cannot show a chart: attachments are saved here and their path printed.
        self.files_dir = files_dir
        self.user_id = getpass.getuser()
        self.conversation_id = conversation_id or f"cli-{uuid.uuid4().hex[:12]}"

    async def send(self, text: str, *, stream: bool = True) -> Reply | None:
        message = IncomingMessage(
            text=text,
            platform="cli",
            user_id=self.user_id,
            conversation_id=self.conversation_id,
            message_id=uuid.uuid4().hex[:12],
            display_name=self.user_id,
            hints=frozenset({LOCAL_OPERATOR}),
        )
        shown = ""
        final: Reply | None = None
        async for update in self.handler(message):
            new_text = update.text
            if isinstance(update, Reply):
                final = update
            if not stream:
                continue
            if new_text.startswith(shown):
                self.out.write(new_text[len(shown) :])
            else:
                # The answer was replaced (e.g. the model failed mid-way): start it afresh.
                self.out.write("\n---\n" + new_text)
            shown = new_text
            self.out.flush()
        if stream and final is not None:
            self.out.write("\n")
            if final.citations:
                self.out.write(f"\n{i18n.text('answer.sources', final.language)}:\n")
                self.out.write("\n".join(citation_lines(final)) + "\n")
            if final.actions and final.actions[0].id != "feedback":
                choices = " · ".join(f"{a.label} → {a.value}" for a in final.actions)
                self.out.write(f"[{choices}]\n")
            for attachment in final.files:
                self.out.write(self._save(attachment) + "\n")
            if final.mode == "extractive" and final.citations:
                self.out.write(i18n.text("terminal.extractive_note", final.language) + "\n")
            self.out.flush()
        return final

    def _save(self, attachment: Attachment) -> str:
        if self.files_dir is None:
            return f"[{attachment.filename}: {len(attachment.content)} bytes not shown]"
        self.files_dir.mkdir(parents=True, exist_ok=True)
        stem, dot, suffix = attachment.filename.rpartition(".")
        target = (
            self.files_dir / f"{stem or suffix}-{uuid.uuid4().hex[:8]}{dot}{suffix if stem else ''}"
        )
        target.write_bytes(attachment.content)
        return f"[{attachment.filename} saved to {target}]"

    async def chat(self, read_line: Callable[[], str | None], prompt: str = "> ") -> None:
        """Read questions until end of input or /quit; each answer streams as it comes."""
        while True:
            self.out.write(prompt)
            self.out.flush()
            line = await asyncio.to_thread(read_line)
            if line is None or line.strip() in {"/quit", "/exit"}:
                self.out.write("\n")
                return
            if not line.strip():
                continue
            await self.send(line.strip())
            self.out.write("\n")


def lines_reader(lines: Iterable[str]) -> Callable[[], str | None]:
    iterator = iter(lines)
    return lambda: next(iterator, None)


class TerminalPoster:
    """Posts to the terminal (channels `terminal:` and `terminal:<name>`): what a Slack or
    Telegram channel would receive, printed to this process's output."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    async def post(self, channel: str, reply: Reply) -> str:
        message_id = f"terminal-{uuid.uuid4().hex[:12]}"
        stamp = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")
        self.out.write(f"\n── {channel} · {stamp} ──\n{reply.text}\n")
        for attachment in reply.files:
            self.out.write(f"[{attachment.filename}: {len(attachment.content)} bytes not shown]\n")
        if reply.citations:
            self.out.write(f"{i18n.text('answer.sources', reply.language)}:\n")
            self.out.write("\n".join(citation_lines(reply)) + "\n")
        self.out.flush()
        return message_id
