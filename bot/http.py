"""The HTTP server of `zbrain serve`: adapters that take events over HTTP (Slack's
`/slack/events`, a Telegram webhook) add their routes here, and one aiohttp server on
ZBRAIN_HTTP_HOST:ZBRAIN_HTTP_PORT serves them all. It only runs when a route was added."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

log = logging.getLogger(__name__)

RequestHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class HttpRoutes:
    routes: list[tuple[str, str, RequestHandler]] = field(default_factory=list)

    def add(self, method: str, path: str, handler: RequestHandler) -> None:
        if any(m == method.upper() and p == path for m, p, _ in self.routes):
            raise ValueError(f"two adapters want {method.upper()} {path}")
        self.routes.append((method.upper(), path, handler))

    def __bool__(self) -> bool:
        return bool(self.routes)

    def application(self) -> web.Application:
        app = web.Application()

        async def health(_request: web.Request) -> web.Response:
            return web.json_response({"ok": True})

        app.router.add_get("/healthz", health)
        for method, path, handler in self.routes:
            app.router.add_route(method, path, handler)
        return app


class HttpServer:
    """A `bot.serve.Service`: serves the routes until stopped. Port 0 picks a free port
    (tests); `port` holds the bound one after `start`."""

    name = "http"

    def __init__(self, routes: HttpRoutes, host: str = "127.0.0.1", port: int = 8080) -> None:
        self.routes = routes
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self._runner = web.AppRunner(self.routes.application(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        sockets = site._server.sockets if site._server is not None else ()  # type: ignore[union-attr]
        if sockets:
            self.port = sockets[0].getsockname()[1]
        log.info("HTTP server on %s (%s)", self.url, ", ".join(p for _, p, _ in self.routes.routes))

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
