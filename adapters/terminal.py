"""The terminal adapter: `zbrain ask` and `zbrain chat` talk to the core through the same
seam as Slack and Telegram (IncomingMessage in, streamed ReplyUpdates out)."""

from __future__ import annotations

import datetime as dt
import getpass
import uuid
from collections.abc import Callable, Iterable
from typing import TextIO

from bot import i18n
from bot.messages import Handler, IncomingMessage, Reply


def citation_lines(reply: Reply) -> list[str]:
    lines = []
    for c in reply.citations:
        date = f", {c.date}" if c.date else ""
        lines.append(f"[{c.number}] {c.title} ({c.kind}{date}) — {c.source}")
    return lines


class TerminalAdapter:
    def __init__(
        self, handler: Handler, out: TextIO, *, conversation_id: str | None = None
    ) -> None:
        self.handler = handler
        self.out = out
        self.user_id = getpass.getuser()
        self.conversation_id = conversation_id or f"cli-{uuid.uuid4().hex[:12]}"

    async def send(self, text: str, *, stream: bool = True) -> Reply | None:
        message = IncomingMessage(
            text=text, platform="cli", user_id=self.user_id, conversation_id=self.conversation_id
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
                self.out.write(f"\n{i18n.text('sources', final.language)}:\n")
                self.out.write("\n".join(citation_lines(final)) + "\n")
            if final.mode == "extractive" and not final.abstained:
                self.out.write("(extractive mode: no language model configured or reachable)\n")
            self.out.flush()
        return final

    async def chat(self, read_line: Callable[[], str | None], prompt: str = "> ") -> None:
        """Read questions until end of input or /quit; each answer streams as it comes."""
        while True:
            self.out.write(prompt)
            self.out.flush()
            line = read_line()
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
            self.out.write(f"{i18n.text('sources', reply.language)}:\n")
            self.out.write("\n".join(citation_lines(reply)) + "\n")
        self.out.flush()
        return message_id
