"""The Slack adapter as a `bot.serve.Service`: a bolt `AsyncApp` on slack_sdk's
`AsyncWebClient`, fed by Socket Mode (default) or by `POST /slack/events` on `zbrain serve`'s
HTTP server, where bolt verifies Slack's signature (stale timestamps included: 401, no work).

Work runs after the ack in tasks this service tracks: `stop` lets them finish (up to
`STOP_SECONDS`), then cancels what is left.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import handlers
from adapters.slack.audience import SlackDirectory
from adapters.slack.poster import PREFIXES, SlackPoster
from adapters.slack.responder import Responder
from adapters.slack.settings import SlackSettings, load_slack_settings
from adapters.slack.sink import SlackStats, error_of
from bot.runtime import Runtime
from bot.settings import ConfigError

log = logging.getLogger(__name__)
STOP_SECONDS = 20.0
SocketHandlerFactory = Callable[[AsyncApp, str, AsyncWebClient], Any]


def _socket_handler(app: AsyncApp, app_token: str, client: AsyncWebClient) -> Any:
    return AsyncSocketModeHandler(app, app_token, web_client=client)


class _TokenFromEnvironment(logging.Filter):
    """bolt also reads SLACK_BOT_TOKEN from the environment and warns that our client (which
    holds that same token, and SLACK_API_URL) wins: true, and nothing to act on."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("As you gave `client` as well")


class SlackService:
    name = "slack"

    def __init__(
        self,
        runtime: Runtime,
        settings: SlackSettings | None = None,
        *,
        socket_handler: SocketHandlerFactory = _socket_handler,
    ) -> None:
        self.settings = settings or load_slack_settings()
        problems = self.settings.problems()
        if problems:
            raise ConfigError("; ".join(problems))
        self.runtime = runtime
        self.stats = SlackStats()
        kwargs: dict[str, Any] = {"token": self.settings.secret("bot_token")}
        if self.settings.base_url:
            kwargs["base_url"] = self.settings.base_url
        self.client = AsyncWebClient(**kwargs)
        http = self.settings.mode == "http"
        bolt_log = logging.getLogger("adapters.slack.bolt")
        bolt_log.addFilter(_TokenFromEnvironment())
        self.app = AsyncApp(
            client=self.client,
            signing_secret=self.settings.secret("signing_secret"),
            request_verification_enabled=http,
            # Listeners only start a tracked task and return, so bolt may run them before it
            # responds: the ack still leaves at once, and no work is untracked.
            process_before_response=True,
            logger=bolt_log,
        )
        self.directory = SlackDirectory(self.client, self.settings)
        self.responder = Responder(runtime, self.client, self.directory, self.settings, self.stats)
        self.poster = SlackPoster(self.client)
        for prefix in PREFIXES:
            runtime.posters.register(prefix, self.poster)
        handlers.register(self.app, self.responder, self.spawn)
        if http:
            runtime.http.add("POST", self.settings.events_path, self.handle_http)
        self._socket_factory = socket_handler
        self._socket: Any = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # ------------------------------------------------------------------ transports
    async def handle_http(self, request: web.Request) -> web.Response:
        response = await self.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def start(self) -> None:
        try:
            me = await self.client.auth_test()
        except SlackApiError as exc:
            raise ConfigError(
                f"SLACK_BOT_TOKEN was refused by Slack ({error_of(exc)}): check the bot token"
            ) from None
        self.responder.bot_user_id = me.get("user_id")
        self.responder.team_id = self.directory.team_id = me.get("team_id")
        if self.settings.mode == "socket":
            self._socket = self._socket_factory(
                self.app, self.settings.secret("app_token"), self.client
            )
            await self._socket.connect_async()
            log.info("Slack: Socket Mode connected as %s", me.get("user"))
        else:
            path = self.settings.events_path
            log.info("Slack: taking events on POST %s as %s", path, me.get("user"))

    async def stop(self) -> None:
        if self._socket is not None:
            try:
                await self._socket.close_async()
            finally:
                self._socket = None
        await self.idle(STOP_SECONDS)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self.responder.close()
        log.info("Slack: %s", self.stats)

    # ------------------------------------------------------------------ work after the ack
    def spawn(self, what: str, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(self._guarded(what, work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guarded(self, what: str, work: Coroutine[Any, Any, Any]) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except SlackApiError as exc:
            log.error("Slack: the %s failed: Slack said %s", what, error_of(exc))
        except Exception:
            log.exception("Slack: the %s failed", what)

    async def idle(self, timeout: float | None = None) -> bool:
        """Wait until no work is in flight (tests, shutdown); False on timeout."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while self._tasks:
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return False
            await asyncio.wait(set(self._tasks), timeout=remaining)
        return True
