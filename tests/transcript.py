"""A chat-transcript harness (errbot's TestBackend style): push what a person writes, pop what
the assistant answered. It drives the real handler, with the real identity registry.

    chat = Transcript(runtime)
    chat.push("研发用房租金怎么减免？", as_="partner:munich")
    reply = chat.pop()
"""

from __future__ import annotations

import asyncio
import uuid
from collections import deque

from bot.messages import Action, IncomingMessage, PartialText, Reply
from bot.runtime import Runtime


class CapturingPoster:
    """A poster for tests: keeps every (channel, reply) it was asked to post."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, Reply]] = []

    async def post(self, channel: str, reply: Reply) -> str:
        self.posts.append((channel, reply))
        return f"m{len(self.posts)}"


class Transcript:
    def __init__(self, runtime: Runtime, platform: str = "test") -> None:
        self.runtime = runtime
        self.platform = platform
        self.conversation = f"conv-{uuid.uuid4().hex[:8]}"
        self.replies: deque[Reply] = deque()
        self.partials: list[str] = []
        self.loop = asyncio.new_event_loop()
        self._users: dict[str, str] = {}

    def user(self, who: str) -> str:
        """The platform user id for "guest", "staff", "partner:munich", … (granted once);
        "guest:other" is a second guest."""
        if who not in self._users:
            user_id = f"{who.replace(':', '-')}-{uuid.uuid4().hex[:6]}"
            role, _, node = who.partition(":")
            if role != "guest":
                self.runtime.services.identities.grant(
                    self.platform, user_id, role, node=node or None, by="test"
                )
            self._users[who] = user_id
        return self._users[who]

    def push(
        self,
        text: str = "",
        *,
        as_: str = "guest",
        action: Action | None = None,
        conversation: str | None = None,
        locale: str | None = None,
        audience: str | None = None,
        hints: frozenset[str] = frozenset(),
    ) -> None:
        message = IncomingMessage(
            text=text,
            platform=self.platform,
            user_id=self.user(as_),
            conversation_id=conversation or self.conversation,
            message_id=uuid.uuid4().hex[:8],
            locale=locale,
            action=action,
            audience=audience,
            hints=hints,
            display_name=as_,
        )
        self.replies.append(self.loop.run_until_complete(self._drive(message)))

    async def _drive(self, message: IncomingMessage) -> Reply:
        final = None
        async for update in self.runtime.assistant(message):
            if isinstance(update, PartialText):
                self.partials.append(update.text)
            elif isinstance(update, Reply):
                assert final is None, "the handler yielded two final replies"
                final = update
        assert final is not None, "the handler ended without a reply"
        return final

    def pop(self) -> Reply:
        assert self.replies, "nothing was answered"
        return self.replies.popleft()

    def ask(self, text: str = "", **kwargs: object) -> Reply:
        self.push(text, **kwargs)  # type: ignore[arg-type]
        return self.pop()

    def press(self, reply: Reply, action_id: str, *, as_: str = "guest", **kwargs: object) -> Reply:
        """Press the reply's button `action_id` ("feedback" takes value=, "route")."""
        wanted = kwargs.pop("value", None)
        button = next(
            a for a in reply.actions if a.id == action_id and (wanted is None or a.value == wanted)
        )
        self.push(action=button, as_=as_, **kwargs)  # type: ignore[arg-type]
        return self.pop()

    def close(self) -> None:
        """Close the model client on the loop that used it (the services stay: tests share
        the session's)."""
        if self.runtime.llm is not None:
            self.loop.run_until_complete(self.runtime.llm.aclose())
        self.loop.close()
