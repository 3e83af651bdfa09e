"""The bolt listeners: each acknowledges at once and hands the work to a tracked task, so Slack
has its ack well within 3 seconds however slow the answer is."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any

from slack_bolt.async_app import AsyncApp

from adapters.slack.blocks import ACTION_PREFIX
from adapters.slack.responder import Responder

Spawn = Callable[[str, Coroutine[Any, Any, Any]], None]
Ack = Callable[..., Awaitable[Any]]
COMMAND = "/zbrain"


def register(app: AsyncApp, responder: Responder, spawn: Spawn) -> None:
    @app.event("app_mention")
    async def on_mention(body: Mapping[str, Any], event: Mapping[str, Any]) -> None:
        spawn("mention", responder.on_message(body, event, mention=True))

    @app.event("message")
    async def on_message(body: Mapping[str, Any], event: Mapping[str, Any]) -> None:
        spawn("message", responder.on_message(body, event, mention=False))

    @app.event("assistant_thread_started")
    async def on_thread_started(event: Mapping[str, Any]) -> None:
        spawn("assistant thread", responder.on_thread_started(event))

    async def nothing_to_do() -> None:
        """Events the manifest subscribes to for Slack's sake (acked, no work)."""

    app.event("assistant_thread_context_changed")(nothing_to_do)

    @app.event("app_home_opened")
    async def on_home_opened(event: Mapping[str, Any]) -> None:
        spawn("messages tab", responder.on_home_opened(event))

    app.event("file_shared")(nothing_to_do)

    @app.command(COMMAND)
    async def on_command(ack: Ack, command: Mapping[str, Any], respond: Any) -> None:
        await ack()
        spawn("command", responder.on_command(command, respond))

    @app.action(re.compile(f"^{ACTION_PREFIX}"))
    async def on_action(ack: Ack, body: Mapping[str, Any]) -> None:
        await ack()
        spawn("button", responder.on_action(body))
